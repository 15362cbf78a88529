"""A KPI failing for longer than KPI_ALERT_AFTER_MINUTES alerts its channel's webhook, once per
dedup window; one failing for less, or passing again, does not."""

import time

import pytest

from monitoring import alerts, external, metrics
from monitoring.models import AlertDelivery
from mvpvalidator import background

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def hooks(settings, webhook):
    settings.ERROR_WEBHOOK_URL = webhook.url
    settings.PERFORMANCE_WEBHOOK_URL = webhook.url
    settings.KPI_ALERT_AFTER_MINUTES = 15
    return webhook


def delivered() -> list[AlertDelivery]:
    background.drain()  # the alerts are recorded and posted off the caller's thread
    return list(AlertDelivery.objects.filter(delivered=True))


def fail_external() -> None:
    for _ in range(3):
        with external.track("openai") as call:
            call.status_code = 503


def test_a_kpi_failing_past_the_window_alerts_once(hooks):
    fail_external()
    t0 = time.time()
    assert "kpi:external_success" not in alerts.evaluate_kpis(now=t0)  # failing from now on
    assert "kpi:external_success" not in alerts.evaluate_kpis(now=t0 + 14 * 60)  # not yet 15 minutes
    assert "kpi:external_success" in alerts.evaluate_kpis(now=t0 + 16 * 60)
    post = next(p["json"] for p in hooks.wait_for(1) if p["json"]["rule"] == "kpi:external_success")
    assert [row.rule for row in delivered()] == ["kpi:external_success"]
    assert post["channel"] == "error"  # an availability KPI
    assert "External API success" in post["title"] and "0.00%" in post["title"]
    assert post["details"]["kpi"] == "external_success" and post["details"]["detail"]["worst"] == "openai"
    assert post["details"]["source"].startswith("Availability KPIs: External API Success")
    # Still failing: deduplicated like every rule, no second alert.
    assert "kpi:external_success" not in alerts.evaluate_kpis(now=t0 + 17 * 60)
    assert [row.rule for row in delivered()] == ["kpi:external_success"]
    assert len(hooks.received) == 1


def test_a_kpi_that_recovers_starts_its_window_again(hooks):
    fail_external()
    t0 = time.time()
    alerts.evaluate_kpis(now=t0)
    for _ in range(200):
        with external.track("openai") as call:
            call.status_code = 200
    assert alerts.evaluate_kpis(now=t0 + 10 * 60) == []  # passing: the failing run ends
    for _ in range(200):
        with external.track("openai") as call:
            call.status_code = 503
    assert alerts.evaluate_kpis(now=t0 + 11 * 60) == []  # failing again, from now
    assert alerts.evaluate_kpis(now=t0 + 20 * 60) == []  # 9 minutes: not yet
    assert "kpi:external_success" in alerts.evaluate_kpis(now=t0 + 27 * 60)


def test_the_periodic_pass_evaluates_the_kpis(hooks, monkeypatch):
    seen = []
    monkeypatch.setattr(alerts, "evaluate_kpis", lambda: seen.append(True) or [])
    monkeypatch.setattr(alerts, "_last_evaluation", 0.0)
    metrics._evaluate_alerts()
    assert seen == [True]
