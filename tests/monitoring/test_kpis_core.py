"""The KPI core: counters persisted into `CounterHour` and read back after a restart, readers
registered per KPI (a KPI without one is "no data"), ratios, and the failing state."""

import time
from datetime import UTC, datetime

import pytest

from monitoring import kpi_counters, kpis, metrics
from monitoring.kpi_catalog import CATALOG
from monitoring.models import CounterHour

pytestmark = pytest.mark.django_db


def restart() -> None:
    """What a process restart loses: what it remembered copying, and its buckets when they live
    in its memory (the embedded mode; Redis keeps the shared ones)."""
    if metrics.shared():
        metrics.forget_settled()
    else:
        metrics.reset()
    kpi_counters.reset()
    kpis.reset()


def test_a_counter_is_read_back_after_a_restart_once_persisted():
    kpi_counters.count("test.widgets", 3)
    assert kpi_counters.counter_total("test.widgets", hours=1) == 3
    assert kpi_counters.persist() == 1
    row = CounterHour.objects.get(name="test.widgets")
    assert row.value == 3 and row.hour == datetime.fromtimestamp(int(time.time() // 3600) * 3600, tz=UTC)
    restart()
    assert kpi_counters.counter_total("test.widgets", hours=1) == 3
    assert kpi_counters.counter_hourly("test.widgets", hours=3) == [0, 0, 3]


def test_persisting_again_adds_only_what_was_not_copied():
    kpi_counters.count("test.widgets", 3)
    kpi_counters.persist()
    kpi_counters.persist()  # nothing new: nothing added
    kpi_counters.count("test.widgets", 2)
    assert kpi_counters.counter_total("test.widgets", hours=1) == 5  # 3 stored + 2 live, not 3 + 5
    kpi_counters.persist()
    assert CounterHour.objects.get(name="test.widgets").value == 5
    restart()
    kpi_counters.count("test.widgets", 1)  # the new process counts on top of what the old one left
    assert kpi_counters.counter_total("test.widgets", hours=1) == 6
    kpi_counters.persist()
    assert CounterHour.objects.get(name="test.widgets").value == 6


def test_the_hourly_rollup_persists_the_counters(settings):
    from monitoring import services

    kpi_counters.count("test.gadgets", 4)
    services.rollup_hours(hours=2)
    assert CounterHour.objects.get(name="test.gadgets").value == 4


def test_old_counter_hours_are_pruned_with_the_other_monitoring_rows():
    from datetime import timedelta

    from django.utils import timezone

    from monitoring import services
    from monitoring.models import HealthMinute

    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    CounterHour.objects.create(name="old", hour=now - timedelta(days=40), value=1)
    CounterHour.objects.create(name="kept", hour=now - timedelta(days=20), value=1)
    HealthMinute.objects.create(minute=now - timedelta(days=32), status="ok")
    HealthMinute.objects.create(minute=now - timedelta(days=2), status="ok")
    # Asked for 7 days, the KPI history still keeps 31 (uptime reads 30).
    result = services.prune(older_than=timedelta(days=7))
    assert result.counter_hours == 1 and result.health_minutes == 1
    assert list(CounterHour.objects.values_list("name", flat=True)) == ["kept"]
    assert HealthMinute.objects.count() == 1


def test_a_ratio_reads_and_trends_two_counters():
    read, hourly = kpis.ratio("test.good", "test.all")
    assert read(24).value is None  # no denominator: no figure
    kpi_counters.count("test.all", 4)
    kpi_counters.count("test.good", 3)
    reading = read(24)
    assert reading.value == 0.75 and reading.detail["numerator"] == 3 and reading.detail["denominator"] == 4
    assert hourly(2) == [None, 0.75]
    assert hourly.daily(7) == [None] * 6 + [0.75]  # type: ignore[attr-defined]


def test_every_kpi_of_the_catalog_is_evaluated_and_one_without_a_reader_is_no_data(monkeypatch):
    monkeypatch.delitem(kpis._readers, "error_rate")
    monkeypatch.delitem(kpis._histories, "error_rate")
    results = kpis.evaluate()
    assert [r["id"] for r in results] == [spec.id for spec in CATALOG]
    row = next(r for r in results if r["id"] == "error_rate")
    assert row["value"] is None and row["pass"] is None and row["note"].startswith("no data")
    assert row["spark"] == [None] * 7
    for r in results:
        assert set(r) == {
            "id", "group", "name", "target", "unit", "source", "value", "pass", "detail", "note", "spark",
            "failing_since",
        }  # fmt: skip
        assert len(r["spark"]) == 7


def test_a_reader_that_fails_is_no_data_and_the_others_still_read(monkeypatch):
    def broken(hours: int) -> kpis.Reading:
        raise RuntimeError("the statistics view is gone")

    monkeypatch.setitem(kpis._readers, "uptime", broken)
    kpi_counters.count("cache.page.lookups", 30)
    kpi_counters.count("cache.page.hits", 30)
    results = {r["id"]: r for r in kpis.evaluate()}
    assert results["uptime"]["value"] is None and "failed" in results["uptime"]["note"]
    assert results["cache_hit_rate"]["value"] == 1.0 and results["cache_hit_rate"]["pass"] is True


def test_failing_since_is_the_first_evaluation_that_saw_the_failure_and_clears_on_a_pass():
    for _ in range(10):
        metrics.observe(("r", "GET", "/x/", "5xx"), 5.0, errors=1)
    t0 = time.time()

    def error_rate(now: float) -> dict:
        return next(r for r in kpis.evaluate(hours=2, now=now, spark=False) if r["id"] == "error_rate")

    first = error_rate(t0)
    assert first["pass"] is False and first["failing_since"] == datetime.fromtimestamp(t0, tz=UTC)
    assert error_rate(t0 + 600)["failing_since"] == first["failing_since"]  # the run goes on
    for _ in range(2000):
        metrics.observe(("r", "GET", "/x/", "2xx"), 5.0)
    assert error_rate(t0 + 700)["pass"] is True and error_rate(t0 + 700)["failing_since"] is None


def test_an_unknown_kpi_cannot_be_registered():
    with pytest.raises(ValueError, match="catalog"):
        kpis.reader("made_up")


def test_security_reaches_the_kpi_api_through_the_interface():
    from monitoring import interface

    assert interface.count_kpi is kpi_counters.count and interface.KpiReading is kpis.Reading
    assert interface.register_kpi_reader is kpis.reader and interface.register_kpi_history is kpis.history
    assert interface.kpi_ratio is kpis.ratio


@pytest.mark.django_db(transaction=True)
def test_the_background_pass_persists_every_few_minutes(monkeypatch):
    import threading

    kpi_counters.count("test.widgets", 2)
    kpi_counters.persist_due()  # just started: not yet due
    assert not CounterHour.objects.exists()
    monkeypatch.setattr(kpi_counters, "_next_persist", 0.0)  # the interval has passed
    # On its own thread, as the flusher runs it (it closes that thread's connection).
    worker = threading.Thread(target=kpi_counters.persist_due)
    worker.start()
    worker.join()
    assert CounterHour.objects.get(name="test.widgets").value == 2
    assert kpi_counters._next_persist > time.monotonic() + kpi_counters.PERSIST_EVERY_SECONDS - 60


def test_a_ratio_is_exact_so_a_figure_just_under_its_bar_passes():
    """0.9951% errors is under "< 1%": the figure is never rounded before the bar judges it."""
    from monitoring import kpi_readers
    from monitoring.kpi_catalog import BY_ID

    fields = {
        metrics.field("r", "GET", "/x/", "5xx", "n"): 9_951,
        metrics.field("r", "GET", "/x/", "5xx", "err"): 9_951,
        metrics.field("r", "GET", "/x/", "2xx", "n"): 1_000_000 - 9_951,
    }
    rate = kpi_readers.error_rate(fields)
    assert rate == 0.009951 and BY_ID["error_rate"].passes(rate) is True
    kpi_counters.count("test.bad", 9_951)
    kpi_counters.count("test.all", 1_000_000)
    read, hourly = kpis.ratio("test.bad", "test.all")
    assert read(1).value == 0.009951 and hourly(1)[-1] == 0.009951
    assert kpis.format_value(read(1).value, "ratio") == "1.00%"  # rounded for display only
    assert kpis.format_value(0.99997, "ratio") == "99.99%"  # a miss never prints as the bar
    assert kpis.format_value(1.0, "ratio") == "100.00%"


def test_a_window_without_a_figure_keeps_the_failing_run():
    """No figure (an hour's turn emptied the window) neither ends nor restarts a failure."""
    t0 = time.time()
    since = kpis._failing_since("error_rate", 1, False, now=t0)
    assert since == t0
    assert kpis._failing_since("error_rate", 1, None, now=t0 + 60) is None  # no figure to show
    assert kpis._failing_since("error_rate", 1, False, now=t0 + 120) == t0  # the same run
    assert kpis._failing_since("error_rate", 1, True, now=t0 + 180) is None
    assert kpis._failing_since("error_rate", 1, False, now=t0 + 240) == t0 + 240  # a new run


def test_a_failed_persist_loses_nothing_the_next_one_copies_it_all(monkeypatch):
    """A pass whose transaction rolls back half-way remembers nothing as copied."""
    from django.db import DatabaseError
    from django.db.models.query import QuerySet

    kpi_counters.count("test.first", 3)
    kpi_counters.count("test.second", 4)
    update = QuerySet.update
    calls = []

    def fails_once_midway(self, **kwargs):
        calls.append(True)
        if len(calls) == 2:  # the first row already raised, inside the transaction
            raise DatabaseError("connection lost")
        return update(self, **kwargs)

    monkeypatch.setattr(QuerySet, "update", fails_once_midway)
    with pytest.raises(DatabaseError):
        kpi_counters.persist()
    assert not CounterHour.objects.filter(name__startswith="test.").exists()  # rolled back
    assert kpi_counters.persist() == 2
    assert dict(CounterHour.objects.filter(name__startswith="test.").values_list("name", "value")) == {
        "test.first": 3,
        "test.second": 4,
    }
    kpi_counters.count("test.first", 1)
    kpi_counters.persist()
    assert CounterHour.objects.get(name="test.first").value == 4


def test_a_row_written_by_another_process_is_added_to_or_kept_never_lowered():
    """A row another process created for this hour first: embedded, this process adds its own
    counts to it; shared, the row keeps the larger of it and the bucket."""
    hour = datetime.fromtimestamp(int(time.time() // 3600) * 3600, tz=UTC)
    CounterHour.objects.create(name="test.widgets", hour=hour, value=10)
    kpi_counters.count("test.widgets", 3)
    kpi_counters.persist()
    assert CounterHour.objects.get(name="test.widgets").value == (10 if metrics.shared() else 13)


def test_an_evaluation_sums_each_window_of_hours_once_whatever_the_kpis_reading_it(monkeypatch):
    """The response, query, error and health KPIs read the same hours: the day's sum (and each
    of the spark's 7 days) is made once per evaluation and shared, not once per KPI."""
    now = time.time()
    for hours_ago in range(0, 7 * 24, 5):
        metrics.record({"r|GET|/x/|2xx|n": 1, "r|GET|/x/|2xx|b10": 1, "q|all|n": 2}, at=now - hours_ago * 3600)
    sums: list[int] = []
    real = metrics.sum_buckets
    monkeypatch.setattr(metrics, "sum_buckets", lambda buckets: sums.append(1) or real(buckets))
    figures = {k["id"]: k for k in kpis.evaluate(hours=24, now=now)}
    assert len(sums) == kpis.SPARK_DAYS  # the last spark day is the 24 hours read: the same sum
    assert figures["response_p95"]["detail"]["requests"] == figures["error_rate"]["detail"]["requests"] > 0
    sums.clear()
    kpis.evaluate(hours=24, now=now)
    # The next evaluation sums again only the day with the open hour in it: the other days'
    # hours are settled, and their sums kept (`metrics.derived_together`).
    assert len(sums) == 1
