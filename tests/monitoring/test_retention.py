"""Hourly rollups, pruning and the console report."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from monitoring import metrics, services
from monitoring.durations import parse_duration
from monitoring.models import AlertDelivery, ErrorGroup, RequestMetricHour, SlowQueryGroup

pytestmark = pytest.mark.django_db


def test_rollup_writes_one_row_per_route_and_hour_and_is_idempotent():
    for ms in (5.0, 15.0, 250.0):
        metrics.observe(("r", "GET", "/p/<slug:slug>/", "2xx"), ms)
    metrics.observe(("r", "POST", "/p/<slug:slug>/signup", "5xx"), 40.0, errors=1)
    assert services.rollup_hours() == 2
    assert services.rollup_hours() == 2  # overwrites, never adds
    get = RequestMetricHour.objects.get(method="GET")
    assert get.count == 3 and get.errors == 0 and get.total_ms == pytest.approx(270.0)
    assert sum(get.histogram) == 3
    assert get.hour == datetime.fromtimestamp(int(timezone.now().timestamp() // 3600) * 3600, tz=UTC)
    post = RequestMetricHour.objects.get(method="POST")
    assert post.errors == 1 and post.status_class == "5xx"


def test_prune_deletes_only_what_is_older(settings):
    now = timezone.now()
    old, recent = now - timedelta(days=40), now - timedelta(days=2)
    for seen, fp in ((old, "old"), (recent, "new")):
        ErrorGroup.objects.create(fingerprint=fp, exc_type="E", first_seen=seen, last_seen=seen)
        SlowQueryGroup.objects.create(fingerprint=fp, sql="SELECT ?", vendor="sqlite", first_seen=seen, last_seen=seen)
        RequestMetricHour.objects.create(hour=seen, route=fp, method="GET", status_class="2xx", count=1)
    AlertDelivery.objects.create(channel="error", rule="r")
    AlertDelivery.objects.filter().update(created_at=old)

    out = StringIO()
    call_command("prune_monitoring", "--older-than", "30d", "--dry-run", stdout=out)
    assert "would delete 4 row(s)" in out.getvalue()
    assert ErrorGroup.objects.count() == 2

    out = StringIO()
    call_command("prune_monitoring", "--older-than", "30d", stdout=out)
    assert "deleted 4 row(s)" in out.getvalue()
    assert list(ErrorGroup.objects.values_list("fingerprint", flat=True)) == ["new"]
    assert list(SlowQueryGroup.objects.values_list("fingerprint", flat=True)) == ["new"]
    assert not AlertDelivery.objects.exists()


@pytest.mark.parametrize("bad", ["", "30", "thirty days", "0d", "5w", "-3d"])
def test_prune_rejects_a_bad_duration_and_deletes_nothing(bad):
    ErrorGroup.objects.create(fingerprint="x", exc_type="E", first_seen=timezone.now(), last_seen=timezone.now())
    with pytest.raises(CommandError, match="duration"):
        call_command("prune_monitoring", f"--older-than={bad}")
    assert ErrorGroup.objects.count() == 1


def test_parse_duration():
    assert parse_duration("30d") == timedelta(days=30)
    assert parse_duration(" 12h ") == timedelta(hours=12)
    assert parse_duration("90m") == timedelta(minutes=90)


def test_monitoring_report_prints_kpis_and_routes(client):
    for _ in range(3):
        client.get("/api/monitoring/live")
    out = StringIO()
    call_command("monitoring_report", "--window", "5m", stdout=out)
    text = out.getvalue()
    assert "Response time p95" in text and "PASS" in text
    assert "GET /api/monitoring/live" in text
    assert "Error groups: 0" in text


def test_monitoring_report_json_and_bad_window():
    out = StringIO()
    call_command("monitoring_report", "--json", stdout=out)
    assert '"kpis"' in out.getvalue()
    with pytest.raises(CommandError, match="window"):
        call_command("monitoring_report", "--window", "2d")
