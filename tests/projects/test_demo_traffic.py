"""The history `projects.demo_traffic` writes, on the busy project the screens' query-count pins
use: it has what it promises, its rollups are the raw events counted by hand, and its events
look like the public page's."""

import time
from collections import Counter

import pytest
from django.db.models import Count, Q

from projects.analysis.channels import campaigns_claiming
from projects.events import worker
from projects.models import (
    CampaignSpend,
    CampaignStatus,
    DailyRollup,
    Device,
    Event,
    ExperimentExposure,
    ExperimentStatus,
    Signup,
    Traffic,
    Variant,
)
from projects.models import TestCard as Card
from tests.factories import UserFactory
from tests.projects.insights import (
    BUSY_DAYS,
    busy_project_build,
    exposures_by_hand,
    rollups_by_hand,
    rollups_stored,
)

pytestmark = pytest.mark.django_db


def test_the_busy_project_has_what_it_promises(busy_project):
    page = busy_project.page
    days = DailyRollup.objects.filter(page=page, traffic=Traffic.HUMAN).values("day").distinct().count()
    assert days == BUSY_DAYS
    assert worker.backlog().unrolled == 0

    assert page.variants.count() == 4
    experiment = busy_project.experiment
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.RUNNING
    arms = list(Variant.objects.filter(experiment=experiment).order_by("key"))
    assert [a.key for a in arms] == ["a", "b", "c", "d", "e"]
    assert arms[0].is_control and arms[0].overrides == {}
    # Each arm keeps its page variant's changes.
    assert [a.overrides for a in arms[1:]] == [v.overrides for v in busy_project.variants]
    assert all(a.people > 0 for a in arms)

    assert len(busy_project.campaigns) == 3
    for campaign in busy_project.campaigns:
        campaign.refresh_from_db()
        assert campaign.status == CampaignStatus.ACTIVE
        spend_days = CampaignSpend.objects.filter(campaign=campaign, spend__gt=0).count()
        assert spend_days >= 20, (campaign.platform, spend_days)

    signups = Signup.objects.filter(project=busy_project.project)
    assert signups.filter(confirmed_at__isnull=False).exists()
    assert signups.filter(confirmed_at__isnull=True).exists()
    preordered = set(Event.objects.filter(page=page, kind="preorder").values_list("visitor_hash", flat=True))
    assert signups.filter(visitor_hash__in=preordered).exists()
    # The first cold visitor locked the test card, in the page's past.
    card = Card.objects.get(project=busy_project.project)
    assert card.locked_at is not None and card.locked_at >= page.published_at


def test_the_busy_project_builds_in_a_few_seconds(record_property):
    started = time.perf_counter()
    busy = busy_project_build(owner=UserFactory())
    took = time.perf_counter() - started
    record_property("busy_project", f"{busy.traffic.events} events, {busy.traffic.signups} signups in {took:.2f} s")
    assert busy.traffic.events > 1000
    assert took < 15  # about 1 s on SQLite


def test_every_rollup_figure_is_the_raw_events_counted_by_hand(busy_project):
    by_hand = rollups_by_hand([busy_project.page.pk])
    assert by_hand  # something to compare
    assert rollups_stored([busy_project.page.pk]) == by_hand


def test_exposures_and_people_are_the_raw_events_counted_by_hand(busy_project):
    experiment = busy_project.experiment
    by_hand = exposures_by_hand([experiment.pk])
    stored = {
        (x.experiment_id, x.visitor_hash): {
            "variant": x.variant,
            "confirmed": x.confirmed,
            "clicked": x.clicked,
            "signed_up": x.signed_up,
            "preordered": x.preordered,
        }
        for x in ExperimentExposure.objects.filter(experiment=experiment)
    }
    assert stored == by_hand
    people = Counter(x["variant"] for x in by_hand.values() if x["confirmed"])
    converted = Counter(x["variant"] for x in by_hand.values() if x["confirmed"] and x["signed_up"])
    arms = Variant.objects.filter(experiment=experiment)
    assert {a.key: a.people for a in arms} == {a.key: people[a.key] for a in arms}
    assert {a.key: a.converted for a in arms} == {a.key: converted[a.key] for a in arms}


def test_each_signup_row_is_a_signup_event_of_the_same_visit(busy_project):
    events = Event.objects.filter(page=busy_project.page, kind="signup")
    assert not events.exclude(traffic=Traffic.HUMAN).exists()
    by_event = sorted((e.visitor_hash, e.variant, e.channel, e.occurred_at, e.utm_campaign) for e in events)
    rows = Signup.objects.filter(landing_page=busy_project.page)
    by_row = sorted((s.visitor_hash, s.variant, s.channel, s.created_at, s.utm_campaign) for s in rows)
    assert by_row == by_event
    assert all(s.confirmed_at is None or s.confirmed_at > s.created_at for s in rows)


def test_the_events_look_like_the_public_pages(busy_project):
    events = Event.objects.filter(page=busy_project.page)
    # Every event has a device class; people use phones, tablets and desktops; bots are "other".
    assert not events.filter(device="").exists()
    assert set(events.filter(traffic=Traffic.HUMAN).values_list("device", flat=True)) == {
        Device.PHONE,
        Device.TABLET,
        Device.DESKTOP,
    }
    assert set(events.filter(traffic=Traffic.BOT).values_list("device", flat=True)) == {Device.OTHER}
    # Bots and the founder only view; bots are a small share of the views.
    assert set(events.exclude(traffic=Traffic.HUMAN).values_list("kind", flat=True)) == {"view"}
    views = events.filter(kind="view").aggregate(
        bots=Count("id", filter=Q(traffic=Traffic.BOT)),
        all=Count("id"),
        founder=Count("id", filter=Q(traffic="founder")),
    )
    assert 0 < views["bots"] < 0.1 * views["all"] and views["founder"] > 0
    # A paid view carries a campaign's tag and its platform's click id, and that campaign claims it.
    pairs = [(c.utm_campaign, c.platform) for c in busy_project.campaigns]
    paid = events.filter(kind="view", channel="paid").exclude(utm_campaign="")
    assert paid.exists()
    for e in paid:
        assert campaigns_claiming(utm_campaign=e.utm_campaign, click_platform=e.click_platform, campaigns=pairs) == (
            e.utm_campaign,
        )
        assert e.click_platform
    assert {"search", "social", "direct", "referral", "email", "paid"} <= set(events.values_list("channel", flat=True))
    # Events of the experiment only from its start, and only after the page's launch at all.
    experiment = busy_project.experiment
    assert not events.filter(experiment=experiment, occurred_at__lt=experiment.started_at).exists()
    assert (
        events.filter(experiment__isnull=True, occurred_at__gte=experiment.started_at)
        .filter(traffic=Traffic.HUMAN)
        .count()
        == 0
    )  # coverage is 1: every person after the start is in it
    assert not events.filter(occurred_at__lt=busy_project.page.published_at).exists()


def test_the_campaigns_spend_follows_the_people_they_brought(busy_project):
    for campaign in busy_project.campaigns:
        people = busy_project.traffic.paid_people[campaign.utm_campaign]
        spend = {s.date: s for s in CampaignSpend.objects.filter(campaign=campaign)}
        assert set(spend) == set(people)
        assert all(spend[day].clicks >= people[day] > 0 and spend[day].spend > 0 for day in people)


def test_the_same_seed_writes_the_same_history():
    def figures(busy):
        rows = rollups_stored([busy.page.pk])
        return sorted((k[1], k[3], k[4], k[5], tuple(v.values())) for k, v in rows.items())

    first = busy_project_build(owner=UserFactory(), slug="first")
    second = busy_project_build(owner=UserFactory(), slug="second")
    assert figures(first) == figures(second)
    other = busy_project_build(owner=UserFactory(), slug="third", seed=8)
    assert figures(other) != figures(first)
