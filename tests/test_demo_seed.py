"""The demo data a newcomer starts with (`manage.py seed_demo`): a scored report, a running
experiment and campaigns with spend on first start, from a month of traffic the event worker
rolled up; seeding again changes nothing."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from projects.demo import DEMO_CAMPAIGNS, DEMO_DAYS, DEMO_FOUNDER, DEMO_VARIANTS
from projects.events import worker
from projects.models import (
    Campaign,
    CampaignSpend,
    CampaignStatus,
    DailyRollup,
    Event,
    Experiment,
    ExperimentExposure,
    ExperimentStatus,
    PageVariant,
    Project,
    ProjectStatus,
    ReportSnapshot,
    Signup,
    Traffic,
    Variant,
)
from projects.selectors.reports import project_report
from tests.projects.insights import exposures_by_hand, rollups_by_hand, rollups_stored

pytestmark = pytest.mark.django_db

SCORED = {"validated", "inconclusive", "not validated"}
MODELS = (
    Project, PageVariant, Experiment, Variant, ExperimentExposure, Campaign, CampaignSpend, Event, DailyRollup,
    Signup, ReportSnapshot,
)  # fmt: skip


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _demo_project() -> Project:
    return Project.objects.get(owner__email=DEMO_FOUNDER.email, name="Invoice Chaser")


def test_seeding_twice_leaves_the_same_rows():
    _seed()
    counts = {model.__name__: model.objects.count() for model in MODELS}
    assert counts["Event"] > 1000 and counts["Signup"] > 50
    _seed()
    assert {model.__name__: model.objects.count() for model in MODELS} == counts


def test_a_newcomer_sees_a_scored_report_a_running_experiment_and_campaigns_with_spend():
    seeded_at = timezone.now()
    _seed()
    project = _demo_project()
    report = project_report(project=project)
    assert report["verdict"] in SCORED, report["reasons"] if "reasons" in report else report["verdict"]
    assert report["score"] is not None
    # Not a final verdict: the project stays open for the newcomer to add experiments and campaigns.
    project.refresh_from_db()
    assert project.status != ProjectStatus.COMPLETED

    page = project.landing_pages.get()
    assert page.variants.count() == len(DEMO_VARIANTS)
    experiment = Experiment.objects.get(page=page)
    assert experiment.status == ExperimentStatus.RUNNING
    assert experiment.started_at < timezone.now() - timedelta(days=14)
    arms = {v.key: v for v in experiment.variants.all()}
    assert set(arms) == {"a", "b"} and arms["a"].is_control
    assert arms["b"].overrides == page.variants.get(name=DEMO_VARIANTS[0][0]).overrides != {}
    assert all(arm.people >= 100 for arm in arms.values())

    campaigns = Campaign.objects.filter(project=project)
    assert sorted(c.platform for c in campaigns) == sorted(spec["platform"] for spec in DEMO_CAMPAIGNS)
    for campaign in campaigns:
        assert campaign.status == CampaignStatus.ACTIVE
        assert CampaignSpend.objects.filter(campaign=campaign, spend__gt=0).count() == DEMO_DAYS

    signups = Signup.objects.filter(project=project, traffic=Traffic.HUMAN)
    assert signups.filter(confirmed_at__isnull=False).count() > 25
    assert signups.filter(confirmed_at__isnull=True).exists()
    preordered = Event.objects.filter(page=page, kind="preorder").values("visitor_hash")
    assert signups.filter(visitor_hash__in=preordered).count() > 10
    # Every signup dated when it came (up to yesterday's last hours), none at the seeding's time.
    assert not signups.filter(created_at__gte=seeded_at).exists()


def test_the_kept_report_is_a_week_old_and_scored():
    _seed()
    kept = ReportSnapshot.objects.get(project=_demo_project())
    age = timezone.now() - kept.created_at
    assert timedelta(days=6, hours=23) < age < timedelta(days=7, hours=1)
    assert kept.verdict in SCORED - {"validated", "not validated"} and kept.score is not None
    # It saw a shorter history than the report now.
    assert kept.data["inputs"]["visitors"] < project_report(project=_demo_project())["inputs"]["visitors"]
    assert kept.data["inputs"]["days"] == pytest.approx(DEMO_DAYS - 7, abs=1)


def test_every_rollup_count_is_the_raw_events_counted_by_hand():
    _seed()
    page = _demo_project().landing_pages.get()
    assert worker.backlog().unrolled == 0
    by_hand = rollups_by_hand([page.pk])
    assert rollups_stored([page.pk]) == by_hand
    assert len({key[1] for key in by_hand}) == DEMO_DAYS
    experiment = Experiment.objects.get(page=page)
    exposures = exposures_by_hand([experiment.pk])
    stored = {(x.experiment_id, x.visitor_hash): x for x in ExperimentExposure.objects.filter(experiment=experiment)}
    assert {k: (x.variant, x.confirmed, x.signed_up) for k, x in stored.items()} == {
        k: (x["variant"], x["confirmed"], x["signed_up"]) for k, x in exposures.items()
    }
    for arm in experiment.variants.all():
        confirmed = [x for x in exposures.values() if x["variant"] == arm.key and x["confirmed"]]
        assert arm.people == len(confirmed)
        assert arm.converted == sum(x["signed_up"] for x in confirmed)
