"""A KPI failing for longer than KPI_ALERT_AFTER_MINUTES alerts its channel's webhook, once per
dedup window; one failing for less, or passing again, does not."""

import time

import pytest

from monitoring import alerts, external, kpis, metrics
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


def _fail_error_ratio(monkeypatch, at: float) -> None:
    """The error-rate KPI read from two test counters, failing (half the requests) at `at`."""
    read, hourly = kpis.ratio("test.errors", "test.requests")
    monkeypatch.setitem(kpis._readers, "error_rate", read)
    monkeypatch.setitem(kpis._histories, "error_rate", hourly)
    metrics.record({kpis._field("test.errors"): 50, kpis._field("test.requests"): 100}, at=at)


def test_a_failure_outlives_the_hours_turn_and_alerts(hooks, monkeypatch):
    """Failing at 10:50, nothing new since: at 11:01 the current hour holds a minute of nothing,
    but the judged window (the previous hour too) still fails, so at 11:06 it has failed for 16
    minutes and alerts."""
    ten = (int(time.time() // 3600) - 3) * 3600  # a past hour the buckets still hold
    _fail_error_ratio(monkeypatch, ten + 50 * 60)
    assert alerts.evaluate_kpis(now=ten + 50 * 60) == []
    at_1101 = {r["id"]: r for r in kpis.evaluate(hours=alerts.KPI_ALERT_HOURS, now=ten + 61 * 60, spark=False)}
    assert at_1101["error_rate"]["pass"] is False
    assert at_1101["error_rate"]["failing_since"].timestamp() == ten + 50 * 60
    assert "kpi:error_rate" in alerts.evaluate_kpis(now=ten + 66 * 60)
    assert [row.rule for row in delivered()] == ["kpi:error_rate"]
