"""Uptime from the health probe's own history, driven through GET /api/monitoring/health with a
moved clock, and read from `GET /api/monitoring/kpis`."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

from monitoring import health, uptime
from monitoring.health import CheckResult
from monitoring.models import HealthMinute
from tests.kpi_api import kpi

pytestmark = pytest.mark.django_db

HEALTH = "/api/monitoring/health"
START = datetime(2026, 3, 1, 12, 0, 20, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, *, minutes: int = 0, seconds: int = 0) -> None:
        self.now += timedelta(minutes=minutes, seconds=seconds)


@pytest.fixture
def clock(monkeypatch, settings):
    """The uptime clock, moved by the test; each probe runs the checks afresh."""
    settings.HEALTH_CACHE_SECONDS = 0
    moved = Clock()
    monkeypatch.setattr(uptime, "clock", moved)
    health.reset_cache()
    uptime.forget()
    yield moved
    health.reset_cache()
    uptime.forget()


def probe(client, clock, *, minutes: int) -> None:
    """The external probe: one health request a minute for `minutes` minutes."""
    for _ in range(minutes):
        assert client.get(HEALTH).status_code in (200, 503)
        clock.advance(minutes=1)


def uptime_kpi(hours: int = 24) -> dict:
    return kpi("uptime", hours=hours)


def database_down(monkeypatch):
    monkeypatch.setattr(health, "check_database", lambda: CheckResult("down", 1.0, {"error": "OperationalError"}))


def test_before_any_answer_there_is_no_figure(clock):
    row = uptime_kpi()
    assert row["value"] is None and row["pass"] is None
    assert "no health answer" in row["note"]


def test_a_new_install_is_counted_from_its_first_minute(client, clock):
    probe(client, clock, minutes=30)
    clock.advance(seconds=-30)  # back inside the last probed minute: answered, so it counts
    row = uptime_kpi()
    assert row["value"] == 1.0 and row["pass"] is True
    assert row["detail"]["minutes_total"] == 30 and row["detail"]["minutes_up"] == 30
    assert row["detail"]["7d"] == 1.0 and row["detail"]["30d"] == 1.0
    assert row["detail"]["since"] == START.replace(second=0).isoformat()


def test_a_stopped_probe_lowers_uptime_below_the_bar(client, clock):
    probe(client, clock, minutes=120)
    clock.advance(minutes=5)  # nobody asked (the process was down, or the probe was)
    probe(client, clock, minutes=10)
    row = uptime_kpi()
    detail = row["detail"]
    assert detail["minutes_total"] == 135 and detail["minutes_up"] == 130
    assert row["value"] == pytest.approx(130 / 135, abs=1e-6)
    assert row["value"] < 0.999 and row["pass"] is False


def test_an_unhealthy_answer_counts_as_down(client, clock, monkeypatch):
    probe(client, clock, minutes=10)
    with monkeypatch.context() as patched:
        database_down(patched)
        assert client.get(HEALTH).status_code == 503
    clock.advance(minutes=1)
    probe(client, clock, minutes=9)
    row = uptime_kpi()
    assert (row["detail"]["minutes_up"], row["detail"]["minutes_total"]) == (19, 20)
    assert row["pass"] is False
    assert HealthMinute.objects.filter(status="down").count() == 1


def test_a_minute_keeps_its_worst_answer(client, clock, monkeypatch):
    assert client.get(HEALTH).status_code == 200
    with monkeypatch.context() as patched:
        database_down(patched)
        client.get(HEALTH)
    health.reset_cache()
    assert client.get(HEALTH).status_code == 200  # healthy again within the same minute
    assert list(HealthMinute.objects.values_list("status", flat=True)) == ["down"]


def test_one_write_per_minute_per_process(client, clock):
    client.get(HEALTH)
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            clock.advance(seconds=5)
            assert client.get(HEALTH).status_code == 200
    assert not [q for q in queries.captured_queries if "healthminute" in q["sql"].lower()]
    clock.advance(minutes=1)
    with CaptureQueriesContext(connection) as queries:
        client.get(HEALTH)
    assert [q for q in queries.captured_queries if "healthminute" in q["sql"].lower()]


def test_another_process_writing_the_same_minute_keeps_the_worst(clock):
    assert uptime.record("down")
    uptime.forget()  # another process: its own guard
    assert uptime.record("ok")
    assert HealthMinute.objects.get().status == "down"
    uptime.forget()
    assert uptime.record("degraded")
    assert HealthMinute.objects.get().status == "down"


def test_uptime_survives_a_restart(client, clock):
    probe(client, clock, minutes=60)
    uptime.forget()  # a restart: the process's state is gone, the rows are not
    health.reset_cache()
    clock.advance(minutes=3)
    probe(client, clock, minutes=1)
    row = uptime_kpi()
    assert (row["detail"]["minutes_up"], row["detail"]["minutes_total"]) == (61, 64)


def test_a_failed_write_never_fails_the_health_answer(client, clock, monkeypatch):
    probe(client, clock, minutes=10)

    def broken(*args, **kwargs):
        raise OperationalError("the database is away")

    with monkeypatch.context() as patched:
        patched.setattr(HealthMinute.objects, "bulk_create", broken)
        response = client.get(HEALTH)
        assert response.status_code == 200 and response.json()["status"] == "ok"
        clock.advance(seconds=10)
        client.get(HEALTH)  # not retried within the minute
    clock.advance(minutes=1)
    probe(client, clock, minutes=1)
    row = uptime_kpi()
    # The minute whose write failed is not recorded: it counts as down.
    assert (row["detail"]["minutes_up"], row["detail"]["minutes_total"]) == (11, 12)


def test_the_longer_windows_count_from_the_first_minute(clock):
    for day in range(3):
        clock.now = START + timedelta(days=day)
        uptime.record("ok")
    clock.now = START + timedelta(days=2)
    detail = uptime_kpi()["detail"]
    total_7d = 2 * 24 * 60 + 1
    assert detail["7d"] == pytest.approx(3 / total_7d)
    assert detail["30d"] == detail["7d"]
    assert detail["24h"] == pytest.approx(2 / (24 * 60 + 1))


def test_history_is_the_hourly_share(clock):
    clock.now = START.replace(minute=0, second=0)
    for minute in range(60):
        if minute < 30:
            uptime.record("ok", now=clock.now + timedelta(minutes=minute))
    clock.advance(minutes=90)  # one hour and a half later: the second hour never answered
    series = uptime.hourly(3)
    assert series == [None, 0.5, 0.0]
    spark = uptime_kpi()["spark"]
    assert len(spark) == 7 and spark[-1] == pytest.approx(0.25)


def test_prune_keeps_the_longest_window(clock):
    uptime.record("ok", now=START - timedelta(days=32))
    uptime.record("ok", now=START - timedelta(days=29))
    assert uptime.prune() == 1
    assert HealthMinute.objects.count() == 1
