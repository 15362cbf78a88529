"""Reads of monitoring data: request, query, operation and external-call statistics for a
window, the slow-query / slow-operation / error groups, and the KPIs of the production guide."""

import time
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from monitoring import external, histogram, metrics
from monitoring.models import AlertDelivery, ErrorGroup, SlowOperationGroup, SlowQueryGroup
from mvpvalidator.cache import stats as cache_stats
from mvpvalidator.db import pool_stats

WINDOWS: dict[str, int] = {"5m": 5, "1h": 60, "24h": 24 * 60}
# Requests that are not the platform's own work: left out of the KPIs (still listed per route).
NOT_KPI_ROUTES = ("<static>",)


def _merge(into: dict[str, int], stats: dict[str, int]) -> dict[str, int]:
    for name, n in stats.items():
        into[name] = into.get(name, 0) + n
    return into


def request_window(minutes: int, *, now: float | None = None) -> dict[str, Any]:
    """Per route (method + pattern) and overall: count, errors, rates and percentiles."""
    return requests_in(metrics.read_window(minutes, now=now), minutes=minutes)


def requests_in(fields: dict[str, int], *, minutes: int, per_route: bool = True) -> dict[str, Any]:
    """`request_window` for fields already read (the dashboard reads each bucket once);
    without `per_route` only the overall figures (and no route rows) are computed."""
    seconds = minutes * 60
    routes: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    statuses: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    overall: dict[str, int] = {}
    for labels, stats in metrics.group(fields, "r").items():
        if len(labels) != 3:
            continue
        method, route, status_class = labels
        if per_route:
            _merge(routes[(method, route)], stats)
            statuses[(method, route)][status_class] += stats.get("n", 0)
        if route not in NOT_KPI_ROUTES:
            _merge(overall, stats)
    rows = [
        {
            "method": method,
            "route": route,
            "statuses": dict(statuses[(method, route)]),
            "queries_per_request": round(stats.get("qn", 0) / stats["n"], 2) if stats.get("n") else None,
            **metrics.summarise(stats, seconds),
        }
        for (method, route), stats in routes.items()
    ]
    rows.sort(key=lambda r: r["count"], reverse=True)
    return {
        "window_minutes": minutes,
        "scope": metrics.scope(),
        "overall": metrics.summarise(overall, seconds),
        "overall_histogram": metrics.histogram_of(overall),
        "routes": rows,
        "fields": fields,
    }


def external_rows(fields: dict[str, int], *, seconds: float) -> list[dict[str, Any]]:
    """Per external service: calls, errors, timeouts, latency and the last error."""
    return [
        {
            "service": labels[0],
            "timeouts": stats.get("to", 0),
            "last_error": external.last_error(labels[0]),
            **metrics.summarise(stats, seconds),
        }
        for labels, stats in metrics.group(fields, "x").items()
        if len(labels) == 1
    ]


def performance(window: str = "1h", *, now: float | None = None) -> dict[str, Any]:
    """Everything `GET /api/monitoring/performance` shows, for one window."""
    minutes = WINDOWS[window]
    requests = request_window(minutes, now=now)
    fields = requests.pop("fields")
    seconds = minutes * 60
    query_stats = metrics.group(fields, "q").get(("all",), {})
    operations = [
        {"kind": labels[0], "name": labels[1], **metrics.summarise(stats, seconds)}
        for labels, stats in metrics.group(fields, "o").items()
        if len(labels) == 2
    ]
    operations.sort(key=lambda r: r["count"], reverse=True)
    externals = external_rows(fields, seconds=seconds)
    health_stats = metrics.group(fields, "h").get(("all",), {})
    slowest = sorted(
        (r for r in requests["routes"] if r["p95"] is not None), key=lambda r: r["p95"] or 0, reverse=True
    )[:10]
    return {
        "window": window,
        "scope": requests["scope"],
        "generated_at": time.time(),
        "requests": {"overall": requests["overall"], "routes": requests["routes"], "slowest": slowest},
        "latency_histogram": {
            "bounds_ms": list(histogram.BOUNDS_MS),
            "counts": requests["overall_histogram"],
        },
        "queries": {
            "count": query_stats.get("n", 0),
            "slow": query_stats.get("slow", 0),
            "threshold_ms": settings.SLOW_QUERY_THRESHOLD_MS,
            **histogram.summary(metrics.histogram_of(query_stats)),
        },
        "slow_queries": [slow_query_row(g) for g in slow_query_groups()[:20]],
        "operations": operations,
        "slow_operations": [slow_operation_row(g) for g in slow_operation_groups()[:20]],
        "external": externals,
        "pool": pool_stats(),
        "health_checks": {"count": health_stats.get("n", 0), "ok": health_stats.get("ok", 0)},
        "kpis": kpis(
            requests=requests["overall"],
            query_counts=metrics.histogram_of(query_stats),
            health=health_stats,
        ),
    }


def _kpi(name: str, target: str, value: float | None, passed: bool | None, unit: str = "") -> dict[str, Any]:
    return {"name": name, "target": target, "value": value, "unit": unit, "pass": passed}


def kpis(*, requests: dict[str, Any], query_counts: list[int], health: dict[str, int]) -> list[dict[str, Any]]:
    """The production guide's KPIs as pass/fail (`pass` is None when there is no data yet)."""
    p95 = requests.get("p95")
    query_p95 = histogram.percentile(query_counts, 0.95)
    error_rate = requests.get("error_rate") if requests.get("count") else None
    hit_rate = cache_stats.snapshot().get("overall", {}).get("hit_rate")
    checks = health.get("n", 0)
    health_rate = round(health.get("ok", 0) / checks, 4) if checks else None
    return [
        _kpi("Response time p95", "< 200 ms", p95, None if p95 is None else p95 < 200, "ms"),
        _kpi("Database query p95", "< 100 ms", query_p95, None if query_p95 is None else query_p95 < 100, "ms"),
        _kpi("Error rate", "< 1%", error_rate, None if error_rate is None else error_rate < 0.01, "ratio"),
        _kpi("Cache hit rate", "> 80%", hit_rate, None if hit_rate is None else hit_rate > 0.80, "ratio"),
        _kpi(
            "Health-check success", "> 99%", health_rate, None if health_rate is None else health_rate > 0.99, "ratio"
        ),
    ]


def slow_query_groups() -> QuerySet[SlowQueryGroup]:
    return SlowQueryGroup.objects.order_by("-last_seen")


def slow_operation_groups() -> QuerySet[SlowOperationGroup]:
    return SlowOperationGroup.objects.order_by("-last_seen")


def error_groups() -> QuerySet[ErrorGroup]:
    return ErrorGroup.objects.order_by("-last_seen")


def recent_alerts() -> QuerySet[AlertDelivery]:
    return AlertDelivery.objects.order_by("-created_at")


def slow_query_row(group: SlowQueryGroup) -> dict[str, Any]:
    return {
        "fingerprint": group.fingerprint,
        "sql": group.sql,
        "vendor": group.vendor,
        "count": group.count,
        "mean_ms": round(group.mean_ms, 2),
        "max_ms": round(group.max_ms, 2),
        "first_seen": group.first_seen,
        "last_seen": group.last_seen,
        "call_site": group.call_site,
        "last_request_id": group.last_request_id,
        "plan": group.plan,
    }


def slow_operation_row(group: SlowOperationGroup) -> dict[str, Any]:
    return {
        "kind": group.kind,
        "name": group.name,
        "count": group.count,
        "mean_ms": round(group.mean_ms, 2),
        "max_ms": round(group.max_ms, 2),
        "last_seen": group.last_seen,
        "last_request_id": group.last_request_id,
    }


def error_group_row(group: ErrorGroup) -> dict[str, Any]:
    return {
        "id": group.pk,
        "exc_type": group.exc_type,
        "message": group.message,
        "location": group.location,
        "count": group.count,
        "first_seen": group.first_seen,
        "last_seen": group.last_seen,
        "route": group.route,
        "last_request_id": group.last_request_id,
        "user_id": group.user_id,
        "project_id": group.project_id,
        "handled": group.handled,
    }
