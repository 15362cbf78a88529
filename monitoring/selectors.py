"""Reads of monitoring data: request, query, operation and external-call statistics for a
window, the slow-query / slow-operation / error groups, and the KPIs of the production guide."""

import time
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from monitoring import external, histogram, kpi_readers, metrics
from monitoring.kpi_catalog import BY_ID
from monitoring.models import AlertDelivery, ErrorGroup, SlowOperationGroup, SlowQueryGroup
from mvpvalidator.db import pool_stats

WINDOWS: dict[str, int] = {"5m": 5, "1h": 60, "24h": 24 * 60}
# Requests that are not the platform's own work: left out of the KPIs (still listed per route).
NOT_KPI_ROUTES = kpi_readers.NOT_KPI_ROUTES


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
        "kpis": kpis(fields),
    }


def kpis(fields: dict[str, int]) -> list[dict[str, Any]]:
    """The request, query, cache and health KPIs over a window's metric fields, as pass/fail
    (`pass` is None when there is no data yet): the same figures and bars as the KPI panel."""
    out = []
    for kpi_id, figure in kpi_readers.WINDOW_FIGURES.items():
        spec = BY_ID[kpi_id]
        value = figure(fields)
        out.append({"id": kpi_id, "name": spec.name, "target": spec.target, "value": value, "unit": spec.unit,
                    "pass": spec.passes(value)})  # fmt: skip
    return out


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
