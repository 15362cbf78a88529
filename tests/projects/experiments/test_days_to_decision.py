"""An experiment's days to decision through the results endpoint: never fewer than what is left of the minimum
run (projects.analysis.thresholds.MIN_DAYS), however fast the traffic fills the sample."""

import pytest

from projects.analysis import planning
from projects.analysis.thresholds import MIN_DAYS
from tests.projects.experiments.helpers import expose, started

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]


def test_fast_traffic_still_waits_for_the_minimum_days(auth_api_client, project, live_page):
    # Two days in, 3,500 people per arm: the sample (3,841 per arm at 10 % and a 20 % lift) is 341 people, about
    # 0.1 day, away. The answer said 0.1 day; the decision waits for day 7, 5 days away.
    experiment = started(auth_api_client, project, live_page, days_ago=2)
    expose(experiment, "control", 3500, signed_up=350)
    expose(experiment, "b", 3500, signed_up=420)
    body = auth_api_client.get(f"/api/experiments/{experiment.pk}/results").json()
    assert body["sample_size_per_variant"] > 3500
    traffic_days = (body["sample_size_per_variant"] - 3500) / (7000 / body["days_running"] / 2)
    assert traffic_days < 0.5
    assert body["days_to_decision"] == pytest.approx(MIN_DAYS - body["days_running"], abs=1e-3)
    assert body["days_to_decision"] >= 4.99
    assert body["decision"]["status"] == "collecting"


def test_days_to_decision_is_the_larger_of_traffic_and_minimum_run():
    assert planning.days_to_decision(1000, [990, 990], 100, 2, min_days_left=6.0) == 6.0
    assert planning.days_to_decision(1000, [400, 700], 100, 2, min_days_left=6.0) == pytest.approx(12.0)
    assert planning.days_to_decision(1000, [1000, 1000], 100, 2, min_days_left=2.5) == 2.5
    assert planning.days_to_decision(None, [10, 10], 100, 2, min_days_left=6.0) is None
