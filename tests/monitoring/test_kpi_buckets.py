"""An hour bucket reduced to what the KPIs read (`monitoring.kpi_buckets`) gives every figure the
whole bucket gives, alone or summed with others; a settled bucket is reduced once, a live one
at every read."""

import time

import pytest

from monitoring import kpi_buckets, kpi_counters, kpi_readers, metrics

f = metrics.field


def _bucket(scale: int = 1) -> dict[str, int]:
    fields: dict[str, int] = {}
    for route, status, n in (("/api/a/", "2xx", 90), ("/api/b/<int:pk>/", "5xx", 10), ("<static>", "2xx", 500)):
        n *= scale
        fields[f("r", "GET", route, status, "n")] = n
        fields[f("r", "GET", route, status, "us")] = n * 1500
        fields[f("r", "GET", route, status, "b3")] = n // 3
        fields[f("r", "GET", route, status, "b9")] = n - n // 3
        if status == "5xx":
            fields[f("r", "GET", route, status, "err")] = n
    fields[f("r", "POST", "/api/a/", "2xx", "qn")] = 7 * scale
    fields[f("q", "all", "n")] = 40 * scale
    fields[f("q", "all", "b5")] = 40 * scale
    fields[f("h", "all", "n")] = 4 * scale
    fields[f("h", "all", "ok")] = 3 * scale
    fields[f("k", "cache.page.lookups", "n")] = 30 * scale
    fields[f("k", "cache.page.hits", "n")] = 27 * scale
    fields[f("o", "request", "GET /api/a/", "n")] = 2  # series no KPI reads
    fields[f("x", "openai", "n")] = 5
    return fields


def test_a_reduced_bucket_gives_every_kpi_figure_of_the_whole_one():
    whole = _bucket()
    reduced = kpi_buckets.reduce(whole)
    assert len(reduced) < len(whole)
    for name, figure in kpi_readers.WINDOW_FIGURES.items():
        assert figure(reduced) == figure(whole), name
    assert kpi_readers.request_count(reduced) == kpi_readers.request_count(whole) == 100
    assert kpi_counters._counters_of(reduced) == kpi_counters._counters_of(whole)
    # Summed with other buckets, as a day of a sparkline is.
    wholes, reduceds = [whole, _bucket(3)], [reduced, kpi_buckets.reduce(_bucket(3))]
    for name, figure in kpi_readers.WINDOW_FIGURES.items():
        assert figure(metrics.sum_buckets(reduceds)) == figure(metrics.sum_buckets(wholes)), name


@pytest.mark.django_db
def test_a_settled_bucket_is_reduced_once_and_a_live_one_at_every_read():
    now = time.time()
    current = int(now // 3600)
    old = current - 3
    metrics.record(_bucket(), at=old * 3600 + 60)
    metrics.record(_bucket(), at=now)
    metrics.flush()
    first = kpi_buckets.hours([old, current], now=now)
    metrics.record({f("r", "GET", "/api/a/", "2xx", "n"): 1}, at=now)
    metrics.flush()
    second = kpi_buckets.hours([old, current], now=now)
    assert second[old] is first[old]
    assert kpi_readers.request_count(second[current]) == kpi_readers.request_count(first[current]) + 1 == 101
