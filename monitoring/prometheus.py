"""The Prometheus text exposition (format 0.0.4) of the all-time counters: requests, queries,
external calls and cache events, with latency histograms in seconds; and the production guide's
KPIs as gauges."""

from collections.abc import Iterable
from typing import Any

from monitoring import histogram, kpis, metrics
from mvpvalidator.cache import stats as cache_stats
from mvpvalidator.db import pool_stats

# https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**labels: str) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels.items()) + "}"


def _histogram_lines(name: str, labels: dict[str, str], stats: dict[str, int]) -> Iterable[str]:
    counts = metrics.histogram_of(stats)
    running = 0
    for index, bound in enumerate(histogram.BOUNDS_MS):
        running += counts[index]
        yield f"{name}_bucket{_labels(**labels, le=repr(bound / 1000))} {running}"
    running += counts[-1]
    yield f"{name}_bucket{_labels(**labels, le='+Inf')} {running}"
    yield f"{name}_sum{_labels(**labels)} {stats.get('us', 0) / 1_000_000:.6f}"
    yield f"{name}_count{_labels(**labels)} {stats.get('n', 0)}"


# The window the KPI gauges cover (Prometheus keeps the trend): the one alerts judge.
KPI_HOURS = 1


def _kpi_lines() -> list[str]:
    """Each KPI with a figure as a gauge, and whether it passes its bar (tracked KPIs: no pass)."""
    results = [kpi for kpi in kpis.evaluate(hours=KPI_HOURS, spark=False) if kpi["value"] is not None]
    out = [
        f"# HELP mvp_kpi_value The production guide's KPIs over the last {KPI_HOURS} h (ratios 0..1, times in ms).",
        "# TYPE mvp_kpi_value gauge",
        *(f"mvp_kpi_value{_labels(kpi=kpi['id'])} {float(kpi['value'])!r}" for kpi in results),
        "# HELP mvp_kpi_pass 1 when the KPI meets the production guide's bar, 0 when it fails.",
        "# TYPE mvp_kpi_pass gauge",
        *(f"mvp_kpi_pass{_labels(kpi=kpi['id'])} {int(kpi['pass'])}" for kpi in results if kpi["pass"] is not None),
    ]
    return out


def exposition() -> str:
    totals = metrics.read_totals()
    out: list[str] = []

    requests = metrics.group(totals, "r")
    out += [
        "# HELP mvp_http_requests_total Requests served, by route pattern, method and status class.",
        "# TYPE mvp_http_requests_total counter",
    ]
    for (method, route, status_class), stats in sorted(requests.items()):
        out.append(
            f"mvp_http_requests_total{_labels(method=method, route=route, status=status_class)} {stats.get('n', 0)}"
        )
    out += [
        "# HELP mvp_http_request_duration_seconds Request latency.",
        "# TYPE mvp_http_request_duration_seconds histogram",
    ]
    for (method, route, status_class), stats in sorted(requests.items()):
        out += _histogram_lines(
            "mvp_http_request_duration_seconds", {"method": method, "route": route, "status": status_class}, stats
        )

    queries = metrics.group(totals, "q").get(("all",), {})
    out += [
        "# HELP mvp_db_query_duration_seconds Database query latency.",
        "# TYPE mvp_db_query_duration_seconds histogram",
        *_histogram_lines("mvp_db_query_duration_seconds", {}, queries),
        "# HELP mvp_db_slow_queries_total Queries slower than SLOW_QUERY_THRESHOLD_MS.",
        "# TYPE mvp_db_slow_queries_total counter",
        f"mvp_db_slow_queries_total {queries.get('slow', 0)}",
    ]

    external = metrics.group(totals, "x")
    out += [
        "# HELP mvp_external_calls_total Outbound calls by service and outcome.",
        "# TYPE mvp_external_calls_total counter",
    ]
    for (service,), stats in sorted(external.items()):
        failed, timeouts = stats.get("err", 0), stats.get("to", 0)
        ok = stats.get("n", 0) - failed
        out.append(f"mvp_external_calls_total{_labels(service=service, outcome='ok')} {ok}")
        out.append(f"mvp_external_calls_total{_labels(service=service, outcome='error')} {failed - timeouts}")
        out.append(f"mvp_external_calls_total{_labels(service=service, outcome='timeout')} {timeouts}")
    out += [
        "# HELP mvp_external_call_duration_seconds Outbound call latency.",
        "# TYPE mvp_external_call_duration_seconds histogram",
    ]
    for (service,), stats in sorted(external.items()):
        out += _histogram_lines("mvp_external_call_duration_seconds", {"service": service}, stats)

    snapshot: dict[str, Any] = cache_stats.snapshot()
    out += [
        "# HELP mvp_cache_events_total Cache lookups by key family and outcome.",
        "# TYPE mvp_cache_events_total counter",
    ]
    for family, counts in sorted(snapshot.get("families", {}).items()):
        for event, n in sorted(counts.items()):
            if event != "hit_rate" and isinstance(n, int):
                out.append(f"mvp_cache_events_total{_labels(family=family, event=event)} {n}")

    out += _kpi_lines()

    pool = pool_stats()
    if pool:
        out += ["# HELP mvp_db_pool Connection pool figures of this process.", "# TYPE mvp_db_pool gauge"]
        for key, value in sorted(pool.items()):
            if isinstance(value, int | float):
                out.append(f"mvp_db_pool{_labels(figure=key)} {value}")
    return "\n".join(out) + "\n"
