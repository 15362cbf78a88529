"""Reads for the staff performance dashboard: one function per panel, each returning plain data
(and its charts as SVG strings from `monitoring.charts`).

Everything here reads rollups: the request counters' minute/hour buckets, the cache counters,
the error / slow-query groups and aggregates over the indexed security events. Nothing scans
raw request data, so the page costs the same number of queries however much history there is
(pinned by a test).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection
from django.utils import timezone

from monitoring import charts, health, histogram, kpis, metrics, selectors, traces
from mvpvalidator import cache as app_cache
from mvpvalidator.cache import stats as cache_stats
from mvpvalidator.db import pool_stats
from security import interface as security

# Rows per list on the page: the worst first; the admin has the rest, with filters and search.
SHOWN = 10
SHOWN_BLOCKS = 20
# The public landing page's route (its views are counted by the request counters).
LANDING_ROUTE = "/p/<slug:slug>/"


def _clock(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%H:%M")


def _hour_label(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%d %H:00")


# --- Health ----------------------------------------------------------------------------------


def health_panel() -> dict[str, Any]:
    report = health.report()
    checks = [
        {"name": name, "status": result["status"], "ms": result.get("latency_ms"), "detail": result.get("detail") or {}}
        for name, result in report["checks"].items()
    ]
    return {"status": report["status"], "checked_at": report["checked_at"], "checks": checks}


# --- Performance -----------------------------------------------------------------------------


class _Figures(NamedTuple):
    point: dict[str, Any]  # the bucket's request summary (a point of the latency chart)
    landing_views: int  # landing pages served


# What the page derives from settled buckets (those `metrics` keeps, see `reuse_settled`), kept
# next to the very bucket dicts they came from, so a refresh only works through the buckets that
# can still change: {(kind, bucket): (fields, figures)} and {window: (fields list, their sum)}.
_settled_figures: dict[tuple[str, int], tuple[dict[str, int], _Figures]] = {}
_settled_sums: dict[str, tuple[list[dict[str, int]], dict[str, int]]] = {}


def _figures(fields: dict[str, int], seconds: float) -> _Figures:
    overall: dict[str, int] = {}
    views = 0
    for labels, stats in metrics.group(fields, "r").items():
        if len(labels) != 3:
            continue
        if labels[1] not in selectors.NOT_KPI_ROUTES:
            for name, n in stats.items():
                overall[name] = overall.get(name, 0) + n
        if labels[0] == "GET" and labels[1] == LANDING_ROUTE and labels[2] == "2xx":
            views += stats.get("n", 0)
    return _Figures(metrics.summarise(overall, seconds), views)


def _same(a: list[dict[str, int]], b: list[dict[str, int]]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


class Buckets:
    """The request counters the page needs, read once per render: the last hour's minute buckets
    and the last day's hour buckets (two pipelined round trips at most); every window, chart and
    count on the page is summed from them."""

    def __init__(self, *, now: float) -> None:
        self.now = now
        current_minute = metrics.minute_of(now)
        current_hour = current_minute // 60
        # While Redis is away the counters wait in each process: the page says so and shows
        # empty buckets, and every other panel (health first) still renders.
        self.unavailable = False
        try:
            self.minutes = metrics.read_series(60, now=now, reuse_settled=True)
            self.hours = metrics.read_hours(range(current_hour - 23, current_hour + 1), reuse_settled=True, now=now)
        except app_cache.CacheUnavailable:
            self.unavailable = True
            self.minutes = [(m, {}) for m in range(current_minute - 59, current_minute + 1)]
            self.hours = [(h, {}) for h in range(current_hour - 23, current_hour + 1)]
        self._windows: dict[str, dict[str, int]] = {}

    def _series(self, name: str) -> tuple[str, list[tuple[int, dict[str, int]]]]:
        if name == "5m":
            return "m", self.minutes[-5:]
        return ("m", self.minutes) if name == "1h" else ("h", self.hours)

    def window(self, name: str) -> dict[str, int]:
        """The fields of a dashboard window, as `metrics.read_window` sums them (once per render)."""
        if name not in self._windows:
            kind, series = self._series(name)
            settled = [f for b, f in series if metrics.settled(kind, b, now=self.now)]
            fresh = [f for b, f in series if not metrics.settled(kind, b, now=self.now)]
            kept = _settled_sums.get(name)
            if kept is None or not _same(kept[0], settled):
                kept = _settled_sums[name] = (settled, metrics.sum_buckets(settled))
            self._windows[name] = metrics.sum_buckets([kept[1], *fresh])
        return self._windows[name]

    def landing_views_since(self, since: datetime) -> int:
        """Landing pages served from the hour holding `since` on, from the hourly counters."""
        first = int(since.timestamp() // 3600)
        return sum(
            figures.landing_views
            for (hour, _), figures in zip(self.hours, self.figures("24h"), strict=True)
            if hour >= first
        )

    def figures(self, name: str) -> list[_Figures]:
        """Per-bucket figures of the minutes ("1h") or the hours ("24h"), oldest first."""
        kind, series = self._series(name)
        seconds = metrics.BUCKET_SECONDS[kind]
        out = []
        for bucket, fields in series:
            kept = _settled_figures.get((kind, bucket))
            if kept is None or kept[0] is not fields:
                kept = (fields, _figures(fields, seconds))
                if metrics.settled(kind, bucket, now=self.now):
                    _settled_figures[(kind, bucket)] = kept
            out.append(kept[1])
        while len(_settled_figures) > metrics.SETTLED_KEPT:
            _settled_figures.pop(next(iter(_settled_figures)))
        return out


def _request_series(window: str, buckets: Buckets) -> tuple[list[str], list[dict[str, Any]]]:
    """Per-minute (last hour) or per-hour (last day) request summaries, oldest first."""
    if window == "24h":
        labels = [_hour_label(hour * 3600) for hour, _ in buckets.hours]
        figures = buckets.figures("24h")
    else:
        labels = [_clock(minute * 60) for minute, _ in buckets.minutes]
        figures = buckets.figures("1h")
    return labels, [f.point for f in figures]


def performance_panel(window: str, buckets: Buckets) -> dict[str, Any]:
    windows = {
        name: selectors.requests_in(buckets.window(name), minutes=minutes, per_route=name == window)
        for name, minutes in selectors.WINDOWS.items()
    }
    chosen = windows[window]
    summaries = [{"window": name, **data["overall"]} for name, data in windows.items()]
    routes = [r for r in chosen["routes"] if r["p95"] is not None]
    slowest = sorted(routes, key=lambda r: r["p95"] or 0, reverse=True)[:SHOWN]
    labels, points = _request_series(window, buckets)
    latency = charts.line_chart(
        [
            charts.Series("p50", [p["p50"] for p in points], "s0"),
            charts.Series("p95", [p["p95"] for p in points], "s1"),
            charts.Series("p99", [p["p99"] for p in points], "s2"),
        ],
        x_labels=labels,
        title=f"Response time ({'per hour, last 24 h' if window == '24h' else 'per minute, last hour'})",
        unit="ms",
    )
    throughput = charts.sparkline([p["count"] for p in points], label="requests per bucket")
    return {
        "window": window,
        "windows": list(selectors.WINDOWS),
        "scope": chosen["scope"],
        "summaries": summaries,
        "slowest": slowest,
        "latency_chart": latency,
        "throughput_sparkline": throughput,
        "histogram_chart": charts.bar_chart(
            _histogram_bars(chosen["overall_histogram"]), title="Response-time distribution", unit=""
        ),
    }


def _histogram_bars(counts: list[int]) -> list[tuple[str, float]]:
    """Latency buckets as bars, trimmed to the populated range (37 bars do not fit a phone)."""
    used = [i for i, n in enumerate(counts) if n]
    if not used:
        return []
    bars = []
    for i in range(used[0], used[-1] + 1):
        bound = histogram.BOUNDS_MS[i] if i < len(histogram.BOUNDS_MS) else None
        bars.append((f"≤{charts.format_number(bound, 'ms')}" if bound is not None else "more", float(counts[i])))
    return bars


# --- KPIs ------------------------------------------------------------------------------------

KPI_HOURS = 24


def _sparkline_of(kpi: dict[str, Any]) -> str:
    if all(value is None for value in kpi["spark"]):
        # An empty sparkline writes its label in the cell: keep it short (the row names the KPI).
        return charts.sparkline(kpi["spark"], label="no data", width=80, height=22)
    label = f"{kpi['name']}, one value per day for the last {kpis.SPARK_DAYS} days"
    return charts.sparkline(kpi["spark"], label=label, width=80, height=22)


def kpi_panel(buckets: Buckets) -> dict[str, Any]:
    """Every KPI of the production guide over the last day, grouped as the guide groups them,
    each with its bar, its figure, the guide's line and a 7-day sparkline."""
    results = kpis.evaluate(hours=KPI_HOURS)
    for kpi in results:
        kpi["display"] = kpis.format_value(kpi["value"], kpi["unit"])
        kpi["sparkline"] = _sparkline_of(kpi)
    return {
        "hours": KPI_HOURS,
        "groups": kpis.grouped(results),
        "failing": sum(1 for kpi in results if kpi["pass"] is False),
        "passing": sum(1 for kpi in results if kpi["pass"] is True),
        "alert_after_minutes": settings.KPI_ALERT_AFTER_MINUTES,
    }


# --- Database --------------------------------------------------------------------------------


def database_panel() -> dict[str, Any]:
    return {
        "slow_queries": [selectors.slow_query_row(g) for g in selectors.slow_query_groups()[:SHOWN]],
        "threshold_ms": settings.SLOW_QUERY_THRESHOLD_MS,
        "pool": pool_stats(),
        "vendor": connection.vendor,
    }


# --- Cache -----------------------------------------------------------------------------------


def _redis_info() -> dict[str, Any] | None:
    if not app_cache.is_shared():
        return None
    try:
        client = app_cache.redis_client()
        memory = app_cache.call(client.info, "memory")
        keys = app_cache.call(client.dbsize)
    except app_cache.CacheUnavailable:
        return None
    return {
        "used_memory": memory.get("used_memory_human"),
        "peak_memory": memory.get("used_memory_peak_human"),
        "max_memory": memory.get("maxmemory_human"),
        "keys": keys,
    }


def cache_panel() -> dict[str, Any]:
    snapshot = cache_stats.snapshot()
    series = cache_stats.series(minutes=60)
    families = sorted(snapshot.get("families", {}).items())
    labels = [_clock(point["minute"]) for point in series]
    lines = [charts.Series("overall", [p["overall"]["hit_rate"] for p in series], "s0")]
    busiest = sorted(families, key=lambda f: f[1].get("hit", 0) + f[1].get("miss", 0), reverse=True)[:3]
    for i, (name, _) in enumerate(busiest, start=1):
        lines.append(charts.Series(name, [p["families"].get(name, {}).get("hit_rate") for p in series], f"s{i}"))
    breaker = app_cache.breaker.snapshot()
    return {
        "scope": snapshot.get("scope"),
        "note": snapshot.get("note", ""),
        "overall": snapshot.get("overall", {}),
        "families": [{"name": name, **counts} for name, counts in families],
        "backend": "redis" if app_cache.is_shared() else "local-memory",
        "breaker": {
            "state": breaker.state,
            "failures": breaker.consecutive_failures,
            "trips": breaker.trips,
            "last_error": breaker.last_error,
        },  # fmt: skip
        "redis": _redis_info(),
        "chart": charts.line_chart(lines, x_labels=labels, title="Cache hit rate per minute", unit="%", y_max=1.0),
    }


# --- Errors ----------------------------------------------------------------------------------


def errors_panel() -> dict[str, Any]:
    groups = list(selectors.error_groups().filter(resolved_at__isnull=True).defer("sample_traceback")[:SHOWN])
    return {"groups": [selectors.error_group_row(g) for g in groups]}


# --- Security --------------------------------------------------------------------------------


def security_panel() -> dict[str, Any]:
    stats = security.security_stats("24h")
    now = timezone.now()
    hourly = security.events_per_hour(since=now - timedelta(hours=24))
    current = now.replace(minute=0, second=0, microsecond=0)
    hours = [current - timedelta(hours=h) for h in range(23, -1, -1)]
    bars = [(h.strftime("%Hh"), float(hourly.get(h, 0))) for h in hours]
    return {
        **stats,
        "blocked_ips": stats["blocked_ips"][:SHOWN_BLOCKS],
        "blocked_more": max(0, stats["blocked_count"] - SHOWN_BLOCKS),
        "blocked_capped": stats["blocked_count"] >= security.BLOCKS_LISTED,
        "events_by_kind": sorted(stats["events_by_kind"].items(), key=lambda kv: kv[1], reverse=True),
        "chart": charts.bar_chart(bars, title="Security events per hour (24 h)", unit=""),
    }


# --- External services -----------------------------------------------------------------------


def external_panel(window: str, buckets: Buckets) -> dict[str, Any]:
    rows = selectors.external_rows(buckets.window(window), seconds=selectors.WINDOWS[window] * 60)
    rows.sort(key=lambda r: r["count"], reverse=True)
    return {"window": window, "services": rows}


# --- Panels the apps register ----------------------------------------------------------------


@dataclass(frozen=True)
class Panel:
    """A panel an app adds to the dashboard: its key in `build()`'s answer, the template that
    draws it (given the panel's data as `p`) and what reads its data for one render."""

    name: str
    template: str
    read: Callable[[Buckets], dict[str, Any]]


# Filled by the apps' `AppConfig.ready` (the platform's figures, ...); drawn after the
# performance panel, in registration order.
_registered: dict[str, Panel] = {}


def register(name: str, template: str, read: Callable[[Buckets], dict[str, Any]]) -> None:
    """Add a panel. Registering a name again replaces it in place (a `ready()` run twice)."""
    _registered[name] = Panel(name, template, read)


# --- Requests --------------------------------------------------------------------------------


def request_timeline(request_id: str) -> dict[str, Any]:
    """Everything recorded about one request: its trace (when kept) and the rows that name it."""
    from monitoring.models import ErrorGroup, SlowOperationGroup, SlowQueryGroup

    trace = traces.get(request_id)
    events = security.request_events(request_id, limit=50)
    return {
        "request_id": request_id,
        "trace": trace,
        "security_events": events,
        "error_groups": list(ErrorGroup.objects.filter(last_request_id=request_id)[:10]),
        "slow_query_groups": list(SlowQueryGroup.objects.filter(last_request_id=request_id)[:10]),
        "slow_operation_groups": list(SlowOperationGroup.objects.filter(last_request_id=request_id)[:10]),
        "cache": sorted((trace or {}).get("cache", {}).items()),
    }


def build(window: str, *, now: float | None = None) -> dict[str, Any]:
    """Every panel, for one page or one refresh. The registered panels are read after the
    platform's own ones and keyed by their name too."""
    now = now if now is not None else time.time()
    buckets = Buckets(now=now)
    panels: dict[str, Any] = {
        "health": health_panel(),
        "performance": performance_panel(window, buckets),
        "database": database_panel(),
        "cache": cache_panel(),
        "errors": errors_panel(),
        "security": security_panel(),
        "external": external_panel(window, buckets),
    }
    registered = [(panel, panel.read(buckets)) for panel in _registered.values()]
    return {
        **panels,
        **{panel.name: data for panel, data in registered},
        # What `_panels.html` draws after the performance panel, in registration order.
        "registered": [{"template": panel.template, "data": data} for panel, data in registered],
        "traces": traces.recent(15),
        "generated_at": datetime.fromtimestamp(now, tz=UTC),
        "counters_unavailable": buckets.unavailable,
    }
