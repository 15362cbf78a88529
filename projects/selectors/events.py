"""Reads of the event rollups: a project's funnel (live: the rollups plus what waits to be
rolled up; or the rollups alone, for the analytics page) by day, variant, channel, referrer, UTM
field or device class, and its daily figures."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import BooleanField, Count, ExpressionWrapper, Max, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDate

from mvpvalidator import cache as app_cache
from projects import cache as keys
from projects.analysis.channels import COLD_CHANNELS
from projects.analysis.money import round_money
from projects.events import shards
from projects.events.ingest import buffered_events
from projects.events.rollup import pending
from projects.models import (
    BreakdownRollup,
    CampaignSpend,
    Channel,
    DailyRollup,
    Device,
    Dimension,
    Event,
    EventWorkerState,
    Experiment,
    LandingPage,
    Project,
    Signup,
    Traffic,
)
from projects.selectors.signups import CONFIRMED

GROUPINGS = ("day", "variant", "channel")
# The breakdowns (`BreakdownRollup`): a visitor in the values of their first event of the day.
DIMENSIONS: tuple[str, ...] = tuple(Dimension.values)
GROUP_BY = (*GROUPINGS, *DIMENSIONS)
ANALYTICS_FIGURES = ("views", "visitors", "cta_clicks", "signups", "preorders", "bounces")
# The people behind the rates: each rate is a share of people (who clicked / who visited), never events over
# people (two clicks of one visitor made a click rate of 2.0).
PEOPLE_FIGURES = ("clicked_visitors", "signed_up_visitors", "preordered_visitors")
SUMMED = (*ANALYTICS_FIGURES, *PEOPLE_FIGURES)
NO_VALUE = "(none)"  # the group of rows without a variant, a referrer or a tag
TEMPERATURES = ("cold", "warm")


def _rates(row: dict[str, Any], confirmed: int | None) -> dict[str, Any]:
    visitors = row["visitors"]

    def rate(n: int) -> float | None:
        return round(n / visitors, 6) if visitors else None

    return {
        **{name: row[name] for name in ANALYTICS_FIGURES},
        # Confirmed signups (people who clicked the confirmation email), from the signups
        # themselves; None where the signups do not say it (the breakdowns).
        "confirmed": confirmed,
        "bounce_rate": rate(row["bounces"]),
        "click_rate": rate(row["clicked_visitors"]),
        "signup_rate": rate(row["signed_up_visitors"]),
        "preorder_rate": rate(row["preordered_visitors"]),
        # Of the signups, the share confirmed (None where `confirmed` is).
        "confirmation_rate": round(confirmed / row["signups"], 6) if confirmed is not None and row["signups"] else None,
    }


def _group_key(group_by: str, row: dict[str, Any]) -> tuple[Any, ...]:
    """The group of a row, in the order groups are listed. Variants are grouped per experiment:
    one page's successive experiments reuse keys ("control", "b"), which are different arms."""
    if group_by == "day":
        return (row["day"].isoformat(),)
    if group_by == "variant":
        return (row["experiment_id"] or 0, row["variant"] or NO_VALUE)
    if group_by == "channel":
        return (row["channel"],)
    return (row["value"] or NO_VALUE,)


def _group_fields(group_by: str, key: tuple[Any, ...]) -> dict[str, Any]:
    if group_by == "variant":
        return {"experiment_id": key[0] or None, "variant": key[1]}
    return {group_by: key[0]}


def temperature_of(channel: str) -> str:
    """Cold (people who did not know the page: they can validate demand) or warm (the founder's
    own list, referrals), as the verdict counts them (`analysis.channels.COLD_CHANNELS`)."""
    return "cold" if channel in COLD_CHANNELS else "warm"


@dataclass
class AnalyticsData:
    """What one range's figures are computed from: the rollup rows (with the live part when asked
    for), the confirmed signups, and how many events wait to be rolled up."""

    daily: list[dict[str, Any]]
    breakdowns: list[dict[str, Any]]
    confirmed: list[dict[str, Any]]
    waiting: int = 0
    partial: bool = False


def _rollup_rows(page_ids: list[int], project: Project, since: date, until: date, *, breakdowns: bool) -> Any:
    """The daily rollups (and the breakdowns), cached until the worker bumps them."""

    def daily() -> list[dict[str, Any]]:
        return list(
            DailyRollup.objects.filter(page_id__in=page_ids, day__gte=since, day__lte=until)
            .values("day", "experiment_id", "variant", "channel", "traffic")
            .annotate(**{name: Sum(name) for name in SUMMED})
            .order_by()
        )

    def by_dimension() -> list[dict[str, Any]]:
        return list(
            BreakdownRollup.objects.filter(page_id__in=page_ids, day__gte=since, day__lte=until)
            .values("dimension", "value", "traffic")
            .annotate(**{name: Sum(name) for name in SUMMED}, first_day=Min("day"))
            .order_by()
        )

    namespaces = [keys.project_ns(project.pk), *(keys.analytics_ns(p) for p in page_ids)]
    parts = (project.pk, since.isoformat(), until.isoformat())
    rows = list(app_cache.get_or_set(app_cache.ANALYTICS, ("funnel", *parts), daily, namespaces=namespaces))
    if not breakdowns:
        return rows, []
    more = list(
        app_cache.get_or_set(app_cache.ANALYTICS, ("breakdown-days", *parts), by_dimension, namespaces=namespaces)
    )
    return rows, more


def _experiment_at(moment: str) -> Coalesce:
    """The experiment of the signup's page its variant belonged to at `moment` (a field of the
    signup): the one running then (started at or before it, not completed before it); failing
    that (a variant kept past its experiment's end), the latest started before it."""
    started = Experiment.objects.filter(page_id=OuterRef("landing_page_id"), started_at__lte=OuterRef(moment))
    running = started.filter(Q(completed_at__isnull=True) | Q(completed_at__gt=OuterRef(moment)))
    return Coalesce(
        Subquery(running.order_by("-started_at", "-pk").values("pk")[:1]),
        Subquery(started.order_by("-started_at", "-pk").values("pk")[:1]),
    )


def _confirmed_rows(project: Project, page_ids: list[int], since: date, until: date) -> list[dict[str, Any]]:
    """People's confirmed signups (confirmed and not unsubscribed since: the report's and the
    campaign summary's count, `selectors.signups.CONFIRMED`) per day (of the signup), page,
    channel and variant, each with the experiment its variant belonged to when the person signed
    up (`_experiment_at`, to the second: on the day one experiment replaces another, the signups
    before the switch are the first's). One query; never cached (a confirmation does not pass
    the worker)."""
    counts = list(
        Signup.objects.filter(
            CONFIRMED,
            project=project,
            traffic=Traffic.HUMAN,
            created_at__date__gte=since,
            created_at__date__lte=until,
        )
        .annotate(day=TruncDate("created_at"), experiment_id=_experiment_at("created_at"))
        .values("day", "landing_page_id", "channel", "variant", "experiment_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in counts:
        if not row["variant"]:
            row["experiment_id"] = None
    return counts


def _live(page_ids: list[int], since: date, until: date, data: AnalyticsData, *, breakdowns: bool) -> None:
    """Adds the events not rolled up yet to `data`, computed the worker's way."""
    # Rows not rolled up yet and the buffer not moved into rows yet. An entry stays in the
    # buffer until its row is committed, so the buffer is read first and the rows after it, in one
    # query with the rows of the buffered events: an event the worker moves into a row in between
    # is found once (as a row), never missed; the query count does not depend on the buffer.
    buffered = buffered_events(page_ids)
    # The rows above the marks of the pages' shards (read by the same statement, after the
    # rollups above: a rollup committed in between leaves its rows out of both, never in both).
    not_rolled_up = shards.waiting_in(shards.shard_of(p) for p in page_ids)
    in_db = Q(not_rolled_up, page_id__in=page_ids, day__gte=since, day__lte=until)
    if buffered:
        in_db |= Q(key__in=[e.id for e in buffered])
    # Bounded: with a backlog beyond EVENT_LIVE_MAX the live part is that many rows, a lower
    # bound (said in the answer), and the buffer is left out rather than risk counting twice.
    found = Event.objects.filter(in_db).annotate(waits=ExpressionWrapper(not_rolled_up, output_field=BooleanField()))
    rows_in_db = list(found.order_by("shard", "seq")[: settings.EVENT_LIVE_MAX + 1])
    data.partial = len(rows_in_db) > settings.EVENT_LIVE_MAX
    if data.partial:
        rows_in_db, buffered = rows_in_db[: settings.EVENT_LIVE_MAX], []
    in_rows = {e.key for e in rows_in_db}
    waiting: list[Event] = [e for e in rows_in_db if e.waits and since <= e.day <= until]
    for event in buffered:
        fields = event.model_fields()
        if event.id not in in_rows and since <= fields["day"] <= until:
            waiting.append(Event(key=event.id, **fields))
    data.waiting = len(waiting)
    if not waiting:
        return
    contribution, by_dimension = pending(waiting, breakdowns=breakdowns)
    for (_page, day, experiment_id, variant, channel, traffic), adds in contribution.rows.items():
        data.daily.append(
            {"day": day, "experiment_id": experiment_id, "variant": variant, "channel": channel, "traffic": traffic,
             **adds}
        )  # fmt: skip
    for (_page, _day, dimension, value, traffic), adds in by_dimension.items():
        data.breakdowns.append({"dimension": dimension, "value": value, "traffic": traffic, **adds})


def analytics_data(
    *, project: Project, page_ids: list[int], since: date, until: date, live: bool, breakdowns: bool
) -> AnalyticsData:
    daily, by_dimension = _rollup_rows(page_ids, project, since, until, breakdowns=breakdowns)
    data = AnalyticsData(
        daily=daily, breakdowns=by_dimension, confirmed=_confirmed_rows(project, page_ids, since, until)
    )
    if live:
        _live(page_ids, since, until, data, breakdowns=breakdowns)
    return data


def grouped(data: AnalyticsData, group_by: str) -> dict[str, Any]:
    """The funnel of `data` grouped by one of GROUP_BY: rows, totals, the excluded views (known
    bots, the founder's previews) and cold and warm traffic apart. People only."""
    dimension = group_by in DIMENSIONS
    source = [r for r in data.breakdowns if r["dimension"] == group_by] if dimension else data.daily
    groups: dict[tuple[Any, ...], dict[str, int]] = {}
    totals = dict.fromkeys(SUMMED, 0)
    excluded = {"bot_views": 0, "founder_views": 0}
    for row in source:
        if row["traffic"] == Traffic.BOT:
            excluded["bot_views"] += row["views"] or 0
            continue
        if row["traffic"] == Traffic.FOUNDER:
            excluded["founder_views"] += row["views"] or 0
            continue
        group = groups.setdefault(_group_key(group_by, row), dict.fromkeys(SUMMED, 0))
        for name in SUMMED:
            value = row.get(name) or 0  # .get: rows cached before the people figures existed lack them
            group[name] += value
            totals[name] += value
    temperature = {t: dict.fromkeys(SUMMED, 0) for t in TEMPERATURES}
    for row in data.daily:
        if row["traffic"] == Traffic.HUMAN:
            for name in SUMMED:
                temperature[temperature_of(row["channel"])][name] += row.get(name) or 0
    confirmed: dict[tuple[Any, ...], int] = defaultdict(int)
    confirmed_by_temperature = dict.fromkeys(TEMPERATURES, 0)
    for row in data.confirmed:
        if group_by == "day":
            confirmed[(row["day"].isoformat(),)] += row["n"]
        elif group_by == "variant":
            confirmed[(row["experiment_id"] or 0, row["variant"] or NO_VALUE)] += row["n"]
        elif group_by == "channel" and row["channel"]:
            confirmed[(row["channel"],)] += row["n"]
        if row["channel"]:  # signups that came without a visit (imports) have none
            confirmed_by_temperature[temperature_of(row["channel"])] += row["n"]
    for key in confirmed:
        groups.setdefault(key, dict.fromkeys(SUMMED, 0))
    total_confirmed = sum(row["n"] for row in data.confirmed)
    return {
        "group_by": group_by,
        "rows": [
            {**_group_fields(group_by, key), **_rates(figures, None if dimension else confirmed.get(key, 0))}
            for key, figures in sorted(groups.items())
        ],
        "totals": _rates(totals, total_confirmed),
        "traffic": {t: _rates(temperature[t], confirmed_by_temperature[t]) for t in TEMPERATURES},
        "excluded": excluded,
        "live": {"events_not_rolled_up": data.waiting, "partial": data.partial},
    }


def _page_ids(project: Project) -> list[int]:
    return list(LandingPage.objects.filter(project=project).values_list("pk", flat=True))


def project_analytics(
    *, project: Project, since: date, until: date, group_by: str, live: bool = True
) -> dict[str, Any]:
    """The funnel of a project's pages between two days (inclusive), grouped by one of GROUP_BY:
    the rollups (cached until the worker bumps them) plus, when `live`, what is still waiting to
    be rolled up, computed the worker's way. `live=False` reads only rollups and signups (never
    the events table). People only; known bots and the founder's previews are counted apart."""
    page_ids = _page_ids(project)
    data = analytics_data(
        project=project, page_ids=page_ids, since=since, until=until, live=live, breakdowns=group_by in DIMENSIONS
    )
    return {
        "project_id": project.pk,
        "project_name": project.name,
        "from": since,
        "to": until,
        **grouped(data, group_by),
    }


def project_analytics_overview(*, project: Project, since: date, until: date) -> dict[str, Any]:
    """Every grouping of the range at once, from the rollups and the signups only (the analytics
    page: no read of raw events), and the time of the figures (the last rollup of the shards
    of its pages). Six queries at most, whatever the rows."""
    page_ids = _page_ids(project)
    data = analytics_data(project=project, page_ids=page_ids, since=since, until=until, live=False, breakdowns=True)
    groups = {group_by: grouped(data, group_by) for group_by in GROUP_BY}
    experiments = dict(Experiment.objects.filter(page_id__in=page_ids).values_list("pk", "name"))
    for group_by, answer in groups.items():
        for row in answer["rows"]:
            row["label"] = _label(group_by, row, experiments)
    return {
        "from": since,
        "to": until,
        "groups": groups,
        "breakdowns_gap": _breakdowns_gap(data),
        # The last rollup of the shards that roll up the project's pages.
        "as_of": EventWorkerState.objects.filter(shard__in={shards.shard_of(p) for p in page_ids}).aggregate(
            at=Max("last_rollup_at")
        )["at"],
    }


def _breakdowns_gap(data: AnalyticsData) -> dict[str, date | None] | None:
    """When the daily rollups have traffic before the range's first breakdown row (days rolled up
    before the breakdowns existed, whose raw events were pruned or not rebuilt yet with
    `rebuild_breakdowns`): {"first_day": that first row's day, None if there is none}. None when
    the breakdowns cover the range's traffic."""
    first_traffic = min((row["day"] for row in data.daily), default=None)
    first_breakdown = min((row["first_day"] for row in data.breakdowns if row.get("first_day")), default=None)
    if first_traffic is None or (first_breakdown is not None and first_breakdown <= first_traffic):
        return None
    return {"first_day": first_breakdown}


_LABELS = {"channel": dict(Channel.choices), "device": dict(Device.choices)}


def _label(group_by: str, row: dict[str, Any], experiments: dict[int, str]) -> str:
    """What the page calls a group: a channel's or device's name, a variant with its experiment."""
    value = row[group_by]
    if group_by == "variant":
        if row["experiment_id"] is None:
            return "No experiment"
        return f"{value} · {experiments.get(row['experiment_id'], 'experiment')}"
    if group_by == "day":
        return date.fromisoformat(value).strftime("%d %b")
    if group_by in _LABELS:
        return str(_LABELS[group_by].get(value, value))
    return str(value)


def project_daily(*, project: Project) -> list[dict[str, Any]]:
    """People's traffic and the spend per day since launch, oldest first (the report's table,
    charts and CSV export). Two queries."""
    rows: dict[date, dict[str, Any]] = {}
    for row in (
        DailyRollup.objects.filter(page__project=project, traffic=Traffic.HUMAN)
        .values("day")
        .annotate(views=Sum("views"), visitors=Sum("visitors"), signups=Sum("signups"), preorders=Sum("preorders"))
        .order_by("day")
    ):
        rows[row["day"]] = {**row, "spend": round_money(0, project.currency), "clicks": 0}
    for row in (
        CampaignSpend.objects.filter(campaign__project=project)
        .values("date")
        .annotate(spend=Sum("spend"), clicks=Sum("clicks"))
        .order_by("date")
    ):
        day = rows.setdefault(
            row["date"], {"day": row["date"], "views": 0, "visitors": 0, "signups": 0, "preorders": 0}
        )
        # A sum of amounts, rounded to the currency's minor unit: SQLite hands a decimal sum back as a float
        # read to 15 digits (88.6000000000000), which the CSV export and the report page would show as is.
        day["spend"], day["clicks"] = round_money(row["spend"] or 0, project.currency), row["clicks"] or 0
    return [rows[day] for day in sorted(rows)]
