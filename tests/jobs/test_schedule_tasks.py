"""What each scheduled maintenance task does for its period (the production guide's daily,
weekly and monthly work), and that its outcome is kept on the run's row."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from jobs.models import ScheduledRun
from monitoring import tasks as monitoring_tasks
from monitoring.models import AlertDelivery, ErrorGroup
from mvpvalidator.cache import stats
from projects import tasks as projects_tasks
from security import tasks as security_tasks
from security.models import BlockedIP, BlockRule, EventKind, SecurityEvent

pytestmark = pytest.mark.django_db

MARCH = "2031-03"
IN_FEBRUARY = datetime(2031, 2, 10, tzinfo=UTC)


def error_group(fingerprint: str, *, count: int, first: datetime, last: datetime) -> ErrorGroup:
    return ErrorGroup.objects.create(
        fingerprint=fingerprint * 64, exc_type=f"Error{fingerprint}", location=f"app.py:{count}", count=count,
        first_seen=first, last_seen=last,
    )  # fmt: skip


def outcome_of(task) -> dict:
    return ScheduledRun.objects.get(name=task.name).outcome


def test_the_daily_monitoring_prune_keeps_the_retention(settings):
    settings.MONITORING_RETENTION_DAYS = 30
    now = timezone.now()
    error_group("a", count=1, first=now - timedelta(days=60), last=now - timedelta(days=40))
    error_group("b", count=1, first=now - timedelta(days=60), last=now - timedelta(days=1))
    outcome = monitoring_tasks.monitoring_prune.apply().get()
    assert outcome["deleted"]["error_groups"] == 1
    assert list(ErrorGroup.objects.values_list("exc_type", flat=True)) == ["Errorb"]
    assert outcome_of(monitoring_tasks.monitoring_prune) == outcome


def test_the_daily_security_clearing_keeps_active_blocks(settings):
    settings.SECURITY_EVENT_RETENTION_DAYS = 90
    now = timezone.now()
    old = SecurityEvent.objects.create(kind=EventKind.LOGIN_FAILED, ip="198.51.100.1")
    SecurityEvent.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=91))
    SecurityEvent.objects.create(kind=EventKind.LOGIN_FAILED, ip="198.51.100.2")
    BlockedIP.objects.create(
        ip="198.51.100.3", rule=BlockRule.MANUAL, reason="r", created_at=now - timedelta(hours=2),
        expires_at=now - timedelta(hours=1),
    )  # fmt: skip
    BlockedIP.objects.create(ip="198.51.100.4", rule=BlockRule.MANUAL, reason="r", expires_at=now + timedelta(hours=1))
    outcome = security_tasks.security_data_clear.apply().get()
    assert outcome == {"events": 1, "blocks": 1}
    assert list(BlockedIP.objects.values_list("ip", flat=True)) == ["198.51.100.4"]
    assert SecurityEvent.objects.count() == 1


def test_the_daily_events_prune_runs_the_workers_prune():
    assert projects_tasks.events_prune.apply().get() == {"deleted": 0}
    assert outcome_of(projects_tasks.events_prune) == {"deleted": 0}


@pytest.mark.django_db(transaction=True)  # the alert's row is written by a background thread
def test_the_cache_health_report_logs_rates_and_alerts_under_the_kpi(settings, webhook, caplog):
    settings.PERFORMANCE_WEBHOOK_URL = webhook.url
    # Counts are shared through Redis when it is configured: others' lookups may be in them too.
    stats.record("project", "hit", 3)
    stats.record("project", "miss", 700)
    with caplog.at_level("INFO", logger="monitoring.tasks"):
        outcome = monitoring_tasks.cache_health_report.apply().get()
    assert outcome["overall_hit_rate"] < 0.05 and outcome["families"]["project"] < 0.05
    assert outcome["breaker"] == "closed" and outcome["below_kpi"] and outcome["alerted"]
    assert "cache health:" in caplog.text and f"overall_hit_rate={outcome['overall_hit_rate']}" in caplog.text
    [alert] = webhook.wait_for(1)
    assert alert["json"]["rule"] == "cache_hit_rate" and alert["json"]["channel"] == "performance"


@pytest.mark.django_db(transaction=True)
def test_a_healthy_cache_does_not_alert(settings, webhook):
    settings.PERFORMANCE_WEBHOOK_URL = webhook.url
    stats.record("project", "hit", 90_000)
    stats.record("project", "miss", 1)
    outcome = monitoring_tasks.cache_health_report.apply().get()
    assert outcome["overall_hit_rate"] > 0.95 and not outcome["below_kpi"] and "alerted" not in outcome
    assert not AlertDelivery.objects.exists()


def test_the_weekly_analyze_reports_what_it_ran():
    outcome = monitoring_tasks.database_analyze.apply(kwargs={"period": "2031-W10"}).get()
    assert outcome["actions"] > 0 and outcome["vendor"] in ("sqlite", "postgresql")
    assert ScheduledRun.objects.get(name=monitoring_tasks.database_analyze.name).period == "2031-W10"


def test_the_monthly_error_summary_covers_the_previous_month():
    january, march = datetime(2031, 1, 5, tzinfo=UTC), datetime(2031, 3, 2, tzinfo=UTC)
    error_group("a", count=50, first=january, last=IN_FEBRUARY)  # old, still seen in February
    error_group("b", count=5, first=IN_FEBRUARY, last=IN_FEBRUARY)  # new in February
    error_group("c", count=99, first=january, last=january)  # not seen in February
    error_group("d", count=7, first=march, last=march)  # after it
    outcome = monitoring_tasks.error_summary.apply(kwargs={"period": MARCH}).get()
    assert outcome["month"] == "2031-02" and outcome["groups_seen"] == 2 and outcome["new_groups"] == 1
    assert [g["exc_type"] for g in outcome["top"]] == ["Errora", "Errorb"]
    assert monitoring_tasks.error_summary.apply(kwargs={"period": MARCH}).get() is None  # once a month


def test_the_monthly_security_summary_counts_blocks_by_address():
    for ip in ("203.0.113.5", "203.0.113.5", "203.0.113.6"):
        SecurityEvent.objects.create(kind=EventKind.IP_BLOCKED, ip=ip, created_at=IN_FEBRUARY)
    SecurityEvent.objects.create(kind=EventKind.LOCKOUT, ip="203.0.113.7", created_at=IN_FEBRUARY)
    SecurityEvent.objects.create(kind=EventKind.IP_BLOCKED, ip="203.0.113.8")  # now: not February
    outcome = security_tasks.security_summary.apply(kwargs={"period": MARCH}).get()
    assert outcome["month"] == "2031-02"
    assert outcome["events_by_kind"] == {"ip_blocked": 3, "lockout": 1}
    assert outcome["blocks"] == 3 and outcome["addresses_blocked"] == 2
    assert outcome["most_blocked"] == [{"ip": "203.0.113.5", "blocks": 2}, {"ip": "203.0.113.6", "blocks": 1}]
