"""Believable history for a project, for demo data and for tests that need a busy project.

`traffic_seed` writes the raw events a public page would have produced over past days (page
views with their channels, referrers, campaign tags and click ids, beacons, call-to-action
clicks, pre-orders, signups; known bots; the founder's own previews) through the page's event
model (`events.buffer.TrackedEvent`, stored by the buffer's database path), the `Signup` rows of
the signup events (through `services.signups.signup_create`, then dated in the past), and then
runs the event worker's own step (`events.worker.flush`) until nothing waits: the daily rollups,
the experiments' exposures and people counts and the test card's lock all come from the
platform's code, never from here. Who visits is `projects.demo_audience`; the project around the
traffic (campaigns, page variants, the launch, the experiment, each campaign's daily spend) is set
up by `projects.demo_setup`.

Deterministic: the same seed, page and campaigns give the same events (the experiment's own seed
decides the variants, as on the public page: give the experiment a fixed seed for fixed arms).
Demo data and tests only: nothing in the product calls this module.
"""

import random
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from projects.analysis.assignment import assign
from projects.analysis.channels import CLICK_IDS, UTM_FIELDS, FirstTouch, referrer_host
from projects.demo_audience import (
    BOTS,
    BROWSERS,
    CHANNEL_INTENT,
    CHANNEL_MIX,
    FIRST_NAMES,
    FOUNDER_BROWSER,
    ORGANIC,
    PAID_CONTENT,
    PAID_TERMS,
    PAID_TOUCH,
)
from projects.events import worker
from projects.events.buffer import TrackedEvent, insert_events
from projects.events.visit import is_bot
from projects.models import (
    Campaign,
    CampaignStatus,
    CtaKind,
    Device,
    Event,
    EventKind,
    Experiment,
    ExperimentStatus,
    LandingPage,
    Signup,
    Traffic,
)
from projects.services.signups import signup_create
from security.hashing import hash_identifier


@dataclass(frozen=True)
class Rates:
    """What a person does on the page, as shares of the people of a day (channel 1.0)."""

    script: float = 0.96  # runs the page's script (the beacon)
    reload: float = 0.08  # views the page twice
    click: float = 0.15  # clicks a call to action
    preorder: float = 0.08  # of the clickers on a pre-order page: press "Buy"
    signup: float = 0.42  # of the clickers: leave their email
    preorder_signup: float = 0.5  # of those who pressed "Buy": leave their email on the next page
    confirm: float = 0.65  # of the signups on a double opt-in page: confirm the address
    returning: float = 0.08  # come back another day (direct)
    bot_share: float = 0.06  # of the views: known bots
    founder_days: float = 0.35  # of the days: the founder previews the page (1-3 views)


@dataclass
class TrafficResult:
    events: int = 0
    signups: int = 0
    rolled_up: int = 0
    # The paid people each campaign (its utm_campaign) brought each day: what its spend is set against.
    paid_people: dict[str, dict[date, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))


@dataclass
class _Person:
    id: str
    device: str
    channel: str
    touch: FirstTouch
    intent: float
    campaign: str = ""


def _yesterday() -> date:
    return timezone.now().astimezone(UTC).date() - timedelta(days=1)


def _at(day: date, rng: random.Random, *, after: datetime | None = None) -> datetime:
    """A time of `day` (UTC), busier in the day than at night, and later than `after` (the page's
    launch, on its first day)."""
    hour = min(23, max(0, int(rng.gauss(14, 4.5))))
    at = datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=UTC)
    if after is not None and at <= after:
        end = datetime.combine(day, time(23, 59, 59), tzinfo=UTC)
        at = after + (end - after) * rng.uniform(0.05, 1)
    return at


def _campaigns(page: LandingPage) -> list[Campaign]:
    return list(
        Campaign.objects.filter(
            project_id=page.project_id, status__in=(CampaignStatus.ACTIVE, CampaignStatus.PAUSED)
        ).order_by("id")
    )


def _running(day: date, campaign: Campaign) -> bool:
    return (campaign.starts_on is None or campaign.starts_on <= day) and (
        campaign.ends_on is None or day <= campaign.ends_on
    )


def _pick(rng: random.Random, weights: Mapping[str, float]) -> str:
    names = list(weights)
    return rng.choices(names, weights=[weights[n] for n in names])[0]


def _person(
    rng: random.Random, *, day: date, serial: str, campaigns: list[Campaign], pairs: list[tuple[str, str]]
) -> _Person:
    ua, device, _ = rng.choices(BROWSERS, weights=[w for _, _, w in BROWSERS])[0]
    running = [c for c in campaigns if _running(day, c)]
    mix = {name: share for name, share in CHANNEL_MIX.items() if name != "paid" or running}
    wanted = _pick(rng, mix)
    campaign = ""
    if wanted == "paid":
        chosen = rng.choice(running)
        source, medium, click_param, referrer = PAID_TOUCH[chosen.platform]
        term = rng.choice(PAID_TERMS) if chosen.platform == "google" else ""
        utm = (source, medium, chosen.utm_campaign, rng.choice(PAID_CONTENT), term)
        click_id = f"{click_param[:2]}{rng.getrandbits(80):020x}"
        platform = dict(CLICK_IDS)[click_param]
        touch = FirstTouch(utm=utm, referrer=referrer, click_platform=platform, click_id=click_id)
        campaign = chosen.utm_campaign
    else:
        referrer, tags = rng.choice(ORGANIC[wanted])
        tag = [tags.get(name, "") for name in UTM_FIELDS]
        touch = FirstTouch(utm=(tag[0], tag[1], tag[2], tag[3], tag[4]), referrer=referrer)
    # The channel as the public page works it out (`Visit.record_view`), from the same touch.
    channel = touch.channel(own_host="", campaigns=pairs)
    return _Person(
        id=f"demo{serial}",
        device=device,
        channel=channel,
        touch=touch,
        intent=CHANNEL_INTENT.get(channel, 1.0),
        campaign=campaign,
    )


class _Writer:
    """Collects a page's events and signups, then stores them oldest first."""

    def __init__(self, page: LandingPage, rng: random.Random) -> None:
        self.page = page
        self.rng = rng
        self.events: list[tuple[TrackedEvent, str]] = []
        self.signups: list[tuple[_Person, datetime, str, bool]] = []

    def event(
        self,
        *,
        kind: str,
        visitor_hash: str,
        at: datetime,
        device: str,
        traffic: str = Traffic.HUMAN,
        channel: str = "direct",
        experiment: tuple[int | None, str] = (None, ""),
        touch: FirstTouch | None = None,
    ) -> None:
        touch = touch or FirstTouch()
        self.events.append(
            (
                TrackedEvent(
                    id=f"d{self.page.pk:x}{self.rng.getrandbits(100):025x}",
                    page_id=self.page.pk,
                    kind=kind,
                    visitor_hash=visitor_hash,
                    traffic=traffic,
                    channel=channel,
                    experiment_id=experiment[0],
                    variant=experiment[1],
                    utm=touch.utm,
                    referrer_host=referrer_host(touch.referrer),
                    at=at.timestamp(),
                    click_platform=touch.click_platform,
                ),
                device,
            )
        )

    def store(self) -> int:
        self.events.sort(key=lambda pair: pair[0].at)
        rows = []
        for tracked, device in self.events:
            values: dict[str, Any] = tracked.model_fields()
            values["device"] = device
            rows.append(Event(key=tracked.id, **values))
        return insert_events(rows)


def _experiment(page: LandingPage) -> tuple[Experiment | None, list[tuple[str, int]]]:
    experiment = (
        Experiment.objects.filter(page=page, status=ExperimentStatus.RUNNING).prefetch_related("variants").first()
    )
    if experiment is None:
        return None, []
    return experiment, [(v.key, v.weight) for v in experiment.variants.all()]


def traffic_seed(
    *,
    page: LandingPage,
    days: int,
    visitors_per_day: int,
    end: date | None = None,
    seed: int = 24,
    rates: Rates | None = None,
    arm_lift: Mapping[str, float] | None = None,
) -> TrafficResult:
    """`days` days of the page's history ending `end` (yesterday by default), about
    `visitors_per_day` people a day (fewer at weekends; none before the page went live), rolled up
    by the event worker's own code.

    The page's campaigns (active or paused, on the days between their dates) bring the paid share
    of the people, tagged as their ads are; the page's running experiment, from its start, shows
    each person the variant the public page would (`analysis.assignment.assign` on their id), and
    `arm_lift` (variant key -> factor on the click rate, 1 by default) makes some variants pull
    more. Returns what was written and, per campaign, the paid people of each day (`spend_seed`)."""
    rates = rates or Rates()
    lifts = dict(arm_lift or {})
    last = end or _yesterday()
    rng = random.Random(f"{seed}:{last}:{days}")  # noqa: S311 - demo data, not secrets
    first = last - timedelta(days=days - 1)
    campaigns = _campaigns(page)
    pairs = [(c.utm_campaign, c.platform) for c in campaigns]
    experiment, arms = _experiment(page)
    started = experiment.started_at if experiment and experiment.started_at else None
    preorder_page = page.cta_kind == CtaKind.PREORDER
    opened = page.published_at  # no visitor before the page was live
    writer = _Writer(page, rng)
    result = TrafficResult()
    signed_up: set[str] = set()  # the people who left their email
    buyers_signed_up: list[str] = []  # those of them who pressed "Buy" first

    def arm(person_id: str, at: datetime) -> tuple[int | None, str]:
        if experiment is None or started is None or at < started:
            return None, ""
        index = assign(
            person_id, seed=experiment.seed, coverage=float(experiment.coverage), weights=[w for _, w in arms]
        )
        return (None, "") if index is None else (experiment.pk, arms[index][0])

    def visit(person: _Person, day: date, *, first_visit: bool) -> None:
        at = _at(day, rng, after=opened)
        visitor = hash_identifier(person.id)
        shown = arm(person.id, at)

        def emit(kind: str, at: datetime, touch: FirstTouch | None = None) -> None:
            writer.event(
                kind=kind, visitor_hash=visitor, at=at, device=person.device, channel=person.channel,
                experiment=shown, touch=touch,
            )  # fmt: skip

        # The visit's first view carries its touch (tags, referrer, click id); the rest of the visit
        # only its channel (`Visit.record`).
        emit(EventKind.VIEW, at, person.touch if first_visit else None)
        if rng.random() > rates.script:
            return  # no script: a view, nothing else (the no-JS rule)
        at += timedelta(seconds=rng.randint(1, 4))
        emit(EventKind.BEACON, at)
        if rng.random() < rates.reload:
            at += timedelta(seconds=rng.randint(20, 300))
            emit(EventKind.VIEW, at)
        lift = lifts.get(shown[1], 1.0)
        if rng.random() >= min(0.95, rates.click * person.intent * lift):
            return
        at += timedelta(seconds=rng.randint(8, 120))
        emit(EventKind.CTA_CLICK, at)
        signs = rng.random() < rates.signup
        if preorder_page and rng.random() < rates.preorder:
            at += timedelta(seconds=rng.randint(1, 5))
            emit(EventKind.PREORDER, at)
            # The page's first buyer always leaves their email: the demo shows a pre-order with
            # its signup whatever the dates drew (the draw is made anyway, keeping the sequence).
            signs = rng.random() < rates.preorder_signup or not buyers_signed_up
            if signs:
                buyers_signed_up.append(person.id)
        if signs and person.id not in signed_up:
            # Once: the public form takes an address once, so a returning visitor who signed up
            # before makes no second signup event or row.
            signed_up.add(person.id)
            at += timedelta(seconds=rng.randint(15, 90))
            # The signup's event and row keep the visit's first touch (`Visit.signup_touch`).
            emit(EventKind.SIGNUP, at, person.touch if first_visit else None)
            writer.signups.append((person, at, shown[1], first_visit))

    returning: dict[date, list[_Person]] = defaultdict(list)
    for offset in range(days):
        day = first + timedelta(days=offset)
        if opened is not None and day < opened.date():
            continue
        weekend = 0.7 if day.weekday() >= 5 else 1.0
        people = max(1, round(visitors_per_day * weekend * rng.uniform(0.85, 1.15)))
        for n in range(people):
            person = _person(rng, day=day, serial=f"{seed:x}{day:%y%m%d}{n:05d}", campaigns=campaigns, pairs=pairs)
            if person.campaign:
                result.paid_people[person.campaign][day] += 1
            visit(person, day, first_visit=True)
            if rng.random() < rates.returning:
                back = day + timedelta(days=rng.randint(1, 4))
                if back <= last:
                    returning[back].append(person)
        for person in returning.pop(day, []):
            again = _Person(person.id, person.device, "direct", FirstTouch(), CHANNEL_INTENT["direct"] * 1.3)
            visit(again, day, first_visit=False)
        # Known bots: each fetch a new visitor, no script.
        for _ in range(round(people * rates.bot_share / (1 - rates.bot_share))):
            ua, ref = rng.choice(BOTS)
            traffic = Traffic.BOT if is_bot(ua) else Traffic.HUMAN
            touch = FirstTouch(referrer=ref)
            bot = f"bot{rng.getrandbits(64):016x}"
            at = _at(day, rng, after=opened)
            writer.event(
                kind=EventKind.VIEW, visitor_hash=hash_identifier(bot), at=at, device=Device.OTHER,
                traffic=traffic, channel=touch.channel(own_host="", campaigns=pairs), touch=touch,
                experiment=arm(bot, at),
            )  # fmt: skip
        # The founder looking at the page (the preview link: counted apart).
        if rng.random() < rates.founder_days:
            founder = hash_identifier(f"founder{seed}")
            for _ in range(rng.randint(1, 3)):
                at = _at(day, rng, after=opened)
                writer.event(
                    kind=EventKind.VIEW, visitor_hash=founder, at=at, device=FOUNDER_BROWSER[1],
                    traffic=Traffic.FOUNDER, experiment=arm(f"founder{seed}", at),
                )  # fmt: skip
    result.events = writer.store()
    result.signups = _signups(page, writer, rates)
    result.rolled_up = roll_up()
    return result


def _signups(page: LandingPage, writer: _Writer, rates: Rates) -> int:
    """The signup rows of the signup events, as the public page stores them, dated when they came."""
    now = timezone.now()
    stored: list[Signup] = []
    for person, at, variant, first_visit in writer.signups:
        touch = person.touch if first_visit else FirstTouch()
        name = FIRST_NAMES[int(person.id[-3:]) % len(FIRST_NAMES)]
        result = signup_create(
            page=page,
            email=f"{name}.{person.id[4:]}@example.org",
            name=name.title(),
            qualifying_answer=writer.rng.choice(("Spreadsheets", "Reminders by hand", "FreshBooks", "")),
            utm=touch.utm_fields(),
            referrer=touch.referrer,
            click_platform=touch.click_platform,
            click_id=touch.click_id,
            channel=person.channel,
            variant=variant,
            consent=True,
            visitor_id=person.id,
            send_confirmation=False,
        )
        signup = result.signup
        if not result.created:
            continue
        signup.created_at = signup.consent_at = at
        if page.double_opt_in and writer.rng.random() < rates.confirm:
            signup.confirmed_at = min(now, at + timedelta(minutes=writer.rng.randint(2, 600)))
        stored.append(signup)
    Signup.objects.bulk_update(stored, ["created_at", "consent_at", "confirmed_at"], batch_size=500)
    return len(stored)


def roll_up() -> int:
    """The event worker's step, run until nothing waits (the buffer, if any, into rows; rows into
    the rollups, exposures and people counts). Returns the events rolled up."""
    total = 0
    while True:
        step = worker.flush()
        total += step.rolled_up
        if not step.ingested and not step.rolled_up:
            return total
