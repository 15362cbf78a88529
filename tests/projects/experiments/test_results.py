"""The results endpoint of an experiment: the statistics of its exposures and signups, its
health checks (sample ratio, bots) and its cache."""

from datetime import timedelta

import pytest
from django.core.management import call_command

from projects.analysis.thresholds import SRM_ALPHA
from projects.models import (
    Event,
    EventKind,
    Experiment,
    ExperimentExposure,
    ExperimentStatus,
    Traffic,
)
from tests.projects.experiments.helpers import (
    add_rollup,
    browser,
    created,
    expose,
    move,
    reference,
    started,
    variant_list,
    visitor_in,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]


def test_results_shape_and_values_match_the_statistics(auth_api_client, project, live_page):
    experiment = started(auth_api_client, project, live_page, days_ago=10)
    expose(experiment, "control", 1000, signed_up=100, unconfirmed=7, clicked=90, preordered=3)
    expose(experiment, "b", 1010, signed_up=180, unconfirmed=2, clicked=120)

    response = auth_api_client.get(f"/api/experiments/{experiment.pk}/results")

    assert response.status_code == 200, response.content
    body = response.json()
    assert {"arms", "srm", "gates", "decision", "health", "secondary", "days_running", "metric"} <= set(body)
    assert body["experiment_id"] == experiment.pk and body["status"] == "running" and body["metric"] == "signup"
    assert 9.99 < body["days_running"] < 10.01
    expected = reference(experiment, [("control", 1000, 100), ("b", 1010, 180)], body["days_running"])
    for key in ("arms", "srm", "gates", "sample_size_per_variant", "days_to_decision", "decision", "mde_relative"):
        assert body[key] == expected[key], key
    assert [(a["key"], a["visitors"], a["conversions"]) for a in body["arms"]] == [
        ("control", 1000, 100),
        ("b", 1010, 180),
    ]
    assert body["decision"]["status"] == "winner" and body["decision"]["winner"] == "b"
    assert body["secondary"] == {
        "control": {"cta_clicks": 90, "preorders": 3, "unconfirmed_visitors": 7},
        "b": {"cta_clicks": 120, "preorders": 0, "unconfirmed_visitors": 2},
    }
    assert body["health"] == {
        "srm": expected["srm"], "bot_share": None, "bot_share_limit": 0.3, "too_many_bots": False,
        "traffic_quality": {"status": "too early", "bot_share": None, "views": 0, "minimum_views": 100, "limit": 0.3,
                            "reason": body["health"]["traffic_quality"]["reason"]},
    }  # fmt: skip


def test_results_of_three_arms_match_the_statistics(auth_api_client, project, live_page):
    experiment = started(auth_api_client, project, live_page, days_ago=3, variants=variant_list("a", "b", "c"))
    expose(experiment, "a", 120, signed_up=12)
    expose(experiment, "b", 118, signed_up=20)
    expose(experiment, "c", 125, signed_up=9)
    body = auth_api_client.get(f"/api/experiments/{experiment.pk}/results").json()
    expected = reference(experiment, [("a", 120, 12), ("b", 118, 20), ("c", 125, 9)], body["days_running"])
    for key in ("arms", "srm", "gates", "sample_size_per_variant", "days_to_decision", "decision"):
        assert body[key] == expected[key], key
    assert body["decision"]["status"] == "collecting"


def test_results_of_a_draft_with_no_one_yet(auth_api_client, project, live_page):
    experiment_id = created(auth_api_client, project, live_page)["id"]
    body = auth_api_client.get(f"/api/experiments/{experiment_id}/results").json()
    assert body["status"] == "draft" and body["days_running"] == 0 and body["started_at"] is None
    assert [a["visitors"] for a in body["arms"]] == [0, 0]
    assert body["decision"]["status"] == "collecting"


def test_a_pause_stops_the_experiments_clock(auth_api_client, project, live_page):
    experiment = started(auth_api_client, project, live_page, days_ago=10)
    Experiment.objects.filter(pk=experiment.pk).update(
        status=ExperimentStatus.PAUSED, paused_at=experiment.started_at + timedelta(days=2)
    )
    url = f"/api/experiments/{experiment.pk}/results"
    body = auth_api_client.get(url).json()
    assert body["status"] == "paused" and 1.99 < body["days_running"] < 2.01
    assert body["gates"]["min_days"] == {"required": 7, "actual": body["days_running"], "met": False}
    move(auth_api_client, experiment.pk, "complete")  # completed while paused: still 2 days of traffic
    assert 1.99 < auth_api_client.get(url).json()["days_running"] < 2.01
    resumed = started(auth_api_client, project, live_page, days_ago=3)
    move(auth_api_client, resumed.pk, "pause")
    move(auth_api_client, resumed.pk, "start")
    assert 2.99 < auth_api_client.get(f"/api/experiments/{resumed.pk}/results").json()["days_running"] < 3.01


def test_sample_ratio_mismatch_makes_the_decision_unhealthy(auth_api_client, project, live_page):
    experiment = started(auth_api_client, project, live_page, days_ago=10)
    expose(experiment, "control", 600, signed_up=60)
    expose(experiment, "b", 400, signed_up=80)  # 60/40 on a 50/50 plan
    body = auth_api_client.get(f"/api/experiments/{experiment.pk}/results").json()
    assert body["srm"]["unhealthy"] is True and body["srm"]["p_value"] < SRM_ALPHA
    assert body["health"]["srm"]["unhealthy"] is True
    assert body["decision"]["status"] == "unhealthy" and body["decision"]["winner"] is None


def test_too_many_bots_make_the_decision_unhealthy(auth_api_client, project, live_page):
    experiment = started(auth_api_client, project, live_page, days_ago=10)
    expose(experiment, "control", 1000, signed_up=100)
    expose(experiment, "b", 1010, signed_up=180)
    add_rollup(experiment, "control", Traffic.HUMAN, 300)
    add_rollup(experiment, "b", Traffic.HUMAN, 300, day_offset=1)
    add_rollup(experiment, "control", Traffic.BOT, 310)
    add_rollup(experiment, "b", Traffic.FOUNDER, 500)  # the founder's previews are no bots
    body = auth_api_client.get(f"/api/experiments/{experiment.pk}/results").json()
    assert body["health"]["bot_share"] == round(310 / 910, 6)
    assert body["health"]["too_many_bots"] is True
    assert body["decision"]["status"] == "unhealthy" and body["decision"]["winner"] is None
    assert "known bots" in body["decision"]["reason"]


def test_a_bot_share_under_the_limit_keeps_the_verdict(auth_api_client, project, live_page):
    experiment = started(auth_api_client, project, live_page, days_ago=10)
    expose(experiment, "control", 1000, signed_up=100)
    expose(experiment, "b", 1010, signed_up=180)
    add_rollup(experiment, "control", Traffic.HUMAN, 700)
    add_rollup(experiment, "b", Traffic.BOT, 300)
    body = auth_api_client.get(f"/api/experiments/{experiment.pk}/results").json()
    assert body["health"]["bot_share"] == 0.3 and body["health"]["too_many_bots"] is False
    assert body["decision"]["status"] == "winner"


def test_results_are_cached_until_the_worker_rolls_up_the_experiments_events(
    commit, auth_api_client, project, live_page
):
    experiment = started(auth_api_client, project, live_page, variants=variant_list("control", "b"))
    url = f"/api/experiments/{experiment.pk}/results"
    first = auth_api_client.get(url).json()
    assert [a["visitors"] for a in first["arms"]] == [0, 0]
    expose(experiment, "control", 5)  # written behind the worker's back: no bump, still cached
    assert auth_api_client.get(url).json() == first

    vid = visitor_in(experiment, 1)
    client = browser(vid)
    client.get("/p/chaser/")
    client.post("/p/chaser/e", {"k": "beacon"})
    assert auth_api_client.get(url).json() == first  # not rolled up yet
    with commit():
        call_command("flush_events")

    body = auth_api_client.get(url).json()
    assert [(a["key"], a["visitors"]) for a in body["arms"]] == [("control", 5), ("b", 1)]
    assert body["computed_at"] != first["computed_at"]


def test_results_follow_a_new_minimum_detectable_effect(auth_api_client, project, live_page):
    experiment = started(auth_api_client, project, live_page)
    url = f"/api/experiments/{experiment.pk}/results"
    assert auth_api_client.get(url).json()["mde_relative"] == 0.2
    response = auth_api_client.patch(
        f"/api/experiments/{experiment.pk}/", {"minimum_detectable_effect": "0.5"}, format="json"
    )
    assert response.status_code == 200
    assert auth_api_client.get(url).json()["mde_relative"] == 0.5


def test_results_follow_a_status_move(auth_api_client, project, live_page):
    experiment = started(auth_api_client, project, live_page)
    url = f"/api/experiments/{experiment.pk}/results"
    assert auth_api_client.get(url).json()["status"] == "running"
    move(auth_api_client, experiment.pk, "complete")
    assert auth_api_client.get(url).json()["status"] == "completed"


def test_bots_and_founder_views_never_count_in_the_results(auth_api_client, project, live_page):
    experiment = started(auth_api_client, project, live_page)
    bot = browser(visitor_in(experiment, 0), ua="Mozilla/5.0 (compatible; Googlebot/2.1)")
    bot.get("/p/chaser/")
    bot.post("/p/chaser/e", {"k": "beacon"})
    founder = browser(visitor_in(experiment, 1))
    preview_url = auth_api_client.get(f"/api/landing-pages/{live_page.pk}/").json()["preview_url"]
    assert founder.get(preview_url).status_code == 302
    founder.get("/p/chaser/")
    founder.post("/p/chaser/e", {"k": "cta_click"})
    call_command("flush_events")
    assert Event.objects.filter(kind=EventKind.VIEW).count() == 2
    body = auth_api_client.get(f"/api/experiments/{experiment.pk}/results").json()
    assert [a["visitors"] for a in body["arms"]] == [0, 0]
    assert ExperimentExposure.objects.count() == 0
