"""A KPI failing for longer than KPI_ALERT_AFTER_MINUTES alerts its channel's webhook, once per
dedup window; one failing for less, or passing again, does not."""

import time

import pytest

from monitoring import alert_rules, external, kpi_counters, kpis, metrics
from monitoring.models import AlertDelivery
from mvpvalidator import background

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def hooks(settings, webhook, monkeypatch):
    # Index coverage is cumulative over the whole test database on PostgreSQL (what the rest of
    # the suite scanned): here it would be one more failing KPI beside the one under test.
    monkeypatch.setitem(kpis._readers, "index_coverage", lambda hours: kpis.Reading(None))
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
    rule = f"kpi:external_success:{int(t0)}"  # the KPI and the start of its failing run
    assert rule not in alert_rules.evaluate_kpis(now=t0)  # failing from now on
    assert rule not in alert_rules.evaluate_kpis(now=t0 + 14 * 60)  # not yet 15 minutes
    assert rule in alert_rules.evaluate_kpis(now=t0 + 16 * 60)
    post = next(p["json"] for p in hooks.wait_for(1) if p["json"]["rule"] == rule)
    assert [row.rule for row in delivered()] == [rule]
    assert post["channel"] == "error"  # an availability KPI
    assert "External API success" in post["title"] and "0.00%" in post["title"]
    assert post["details"]["kpi"] == "external_success" and post["details"]["detail"]["worst"] == "openai"
    assert post["details"]["source"].startswith("Availability KPIs: External API Success")
    # Still failing: deduplicated like every rule, no second alert.
    assert alert_rules.evaluate_kpis(now=t0 + 17 * 60) == []
    assert [row.rule for row in delivered()] == [rule]
    assert len(hooks.received) == 1


def test_a_kpi_that_recovers_starts_its_window_again(hooks):
    fail_external()
    t0 = time.time()
    alert_rules.evaluate_kpis(now=t0)
    for _ in range(200):
        with external.track("openai") as call:
            call.status_code = 200
    assert alert_rules.evaluate_kpis(now=t0 + 10 * 60) == []  # passing: the failing run ends
    for _ in range(200):
        with external.track("openai") as call:
            call.status_code = 503
    assert alert_rules.evaluate_kpis(now=t0 + 11 * 60) == []  # failing again, from now
    assert alert_rules.evaluate_kpis(now=t0 + 20 * 60) == []  # 9 minutes: not yet
    assert alert_rules.evaluate_kpis(now=t0 + 27 * 60) == [f"kpi:external_success:{int(t0 + 11 * 60)}"]


def test_the_periodic_pass_evaluates_the_kpis(hooks, monkeypatch):
    seen = []
    monkeypatch.setattr(alert_rules, "evaluate_kpis", lambda: seen.append(True) or [])
    monkeypatch.setattr(alert_rules, "_last_evaluation", 0.0)
    monkeypatch.setattr(alert_rules, "_last_kpi_evaluation", time.monotonic())
    the_pass = next(task for task in background.tasks() if task.name == "monitoring.alert_rules")
    the_pass.flush()
    assert seen == []  # not in the first minute after the process started
    monkeypatch.setattr(alert_rules, "_last_evaluation", 0.0)
    monkeypatch.setattr(alert_rules, "_last_kpi_evaluation", time.monotonic() - alert_rules.KPI_EVALUATE_EVERY_SECONDS)
    the_pass.flush()
    assert seen == [True]


def _fail_error_ratio(monkeypatch, at: float) -> None:
    """The error-rate KPI read from two test counters, failing (half the requests) at `at`."""
    read, hourly = kpis.ratio("test.errors", "test.requests")
    monkeypatch.setitem(kpis._readers, "error_rate", read)
    monkeypatch.setitem(kpis._histories, "error_rate", hourly)
    metrics.record({kpi_counters.field_of("test.errors"): 50, kpi_counters.field_of("test.requests"): 100}, at=at)


def test_a_failure_outlives_the_hours_turn_and_alerts(hooks, monkeypatch):
    """Failing at 10:50, nothing new since: at 11:01 the current hour holds a minute of nothing,
    but the judged window (the previous hour too) still fails, so at 11:06 it has failed for 16
    minutes and alerts."""
    ten = (int(time.time() // 3600) - 3) * 3600  # a past hour the buckets still hold
    _fail_error_ratio(monkeypatch, ten + 50 * 60)
    assert alert_rules.evaluate_kpis(now=ten + 50 * 60) == []
    at_1101 = {r["id"]: r for r in kpis.evaluate(hours=alert_rules.KPI_ALERT_HOURS, now=ten + 61 * 60, spark=False)}
    assert at_1101["error_rate"]["pass"] is False
    assert at_1101["error_rate"]["failing_since"].timestamp() == ten + 50 * 60
    assert alert_rules.evaluate_kpis(now=ten + 66 * 60) == [f"kpi:error_rate:{ten + 50 * 60}"]
    assert len(delivered()) == 1


def test_a_lasting_failure_alerts_once_per_run_then_reminds(hooks, monkeypatch, settings):
    """Failing for two hours, evaluated every few minutes: one alert, not one per dedup window;
    after KPI_ALERT_REMIND_HOURS still failing, one reminder."""
    settings.KPI_ALERT_REMIND_HOURS = 3
    # The simulated two hours pass in seconds: let every other rule's dedup window lapse at once,
    # as 120 minutes would let it lapse many times over.
    settings.ALERT_DEDUP_MINUTES = 0
    start = (int(time.time() // 3600) - 6) * 3600 + 10 * 60  # a past moment the buckets still hold
    _fail_error_ratio(monkeypatch, start)
    fired = []
    for minute in range(0, 2 * 60 + 1, 5):  # every 5 minutes for two hours, the data kept fresh
        at = start + minute * 60
        metrics.record({kpi_counters.field_of("test.errors"): 50, kpi_counters.field_of("test.requests"): 100}, at=at)
        fired += alert_rules.evaluate_kpis(now=at)
    assert fired == [f"kpi:error_rate:{start}"]
    assert len(delivered()) == 1
    for minute in range(2 * 60 + 5, 3 * 60 + 20, 5):  # past 15 min + 3 h: the reminder, once
        at = start + minute * 60
        metrics.record({kpi_counters.field_of("test.errors"): 50, kpi_counters.field_of("test.requests"): 100}, at=at)
        fired += alert_rules.evaluate_kpis(now=at)
    assert fired == [f"kpi:error_rate:{start}", f"kpi:error_rate:{start}:1"]
    rows = delivered()
    assert len(rows) == 2
    reminder = next(r.payload for r in rows if r.payload["rule"].endswith(":1"))
    assert reminder["title"].startswith("KPI still failing for 3 h") and reminder["details"]["reminder"] == 1
