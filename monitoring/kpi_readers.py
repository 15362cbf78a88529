"""The readers of the monitoring app's own KPIs: response time, query time, error rate,
health-check success (from the request, query and health series of `monitoring.metrics`), the
cache hit rate per key family and external API success per service (KPI counters, persisted).

The figures of a set of metric fields (`response_p95(fields)` ...) are shared with the
performance panel, `GET /api/monitoring/performance` and `monitoring_report`, so every surface
reads the same number. Imported by `MonitoringConfig.ready`, which registers the readers.

Cache: a family is *busy* in a window when it had at least `BUSY_LOOKUPS` lookups (hits, local
hits, stale serves and misses) in it; the KPI is the worst busy family's hit rate, so one cold
family cannot hide behind a hot one, and a family looked up a handful of times cannot fail it.
Every family is in the detail with its rate and lookups.

External: the KPI is the worst success rate among the services called in the window.
"""

from collections.abc import Callable
from typing import Any

from monitoring import histogram, kpi_counters, kpis, metrics

# Requests that are not the platform's own work (static files): left out of the KPIs.
NOT_KPI_ROUTES = ("<static>",)
BUSY_LOOKUPS = 20
CACHE_PREFIX = "cache."
EXTERNAL_PREFIX = "external."


# --- Figures of metric fields ----------------------------------------------------------------

# Every figure is exact: the bar judges it as it is, and only the surfaces round it for display.


def requests_overall(fields: dict[str, int]) -> dict[str, int]:
    """Every request stat summed over the routes the KPIs judge (static files left out): read it,
    never change it. Several KPIs read the same hours, and the sparklines 168 of them on every
    evaluation: made once for a settled hour (`metrics.derived`), once per evaluation for the
    others (`kpi_counters.memo`)."""
    return metrics.derived(
        fields, "requests_overall", lambda: kpi_counters.memo("requests", [fields], lambda: _requests_of(fields))
    )


def _requests_of(fields: dict[str, int]) -> dict[str, int]:
    overall: dict[str, int] = {}
    for labels, stats in metrics.group(fields, "r").items():
        if len(labels) == 3 and labels[1] not in NOT_KPI_ROUTES:
            for name, n in stats.items():
                overall[name] = overall.get(name, 0) + n
    return overall


def response_p95(fields: dict[str, int]) -> float | None:
    return histogram.percentile(metrics.histogram_of(requests_overall(fields)), 0.95)


def query_p95(fields: dict[str, int]) -> float | None:
    return histogram.percentile(metrics.histogram_of(metrics.group(fields, "q").get(("all",), {})), 0.95)


def error_rate(fields: dict[str, int]) -> float | None:
    overall = requests_overall(fields)
    n = overall.get("n", 0)
    return min(overall.get("err", 0), n) / n if n else None


def health_success(fields: dict[str, int]) -> float | None:
    stats = metrics.group(fields, "h").get(("all",), {})
    n = stats.get("n", 0)
    return stats.get("ok", 0) / n if n else None


def cache_hit_rate(fields: dict[str, int]) -> float | None:
    """The worst busy family's hit rate among the window's fields (the KPI counters ride in them)."""
    counters = {
        labels[0]: stats.get("n", 0) for labels, stats in metrics.group(fields, kpi_counters.SERIES).items() if labels
    }
    rates = [
        counters.get(name[: -len(".lookups")] + ".hits", 0) / n
        for name, n in counters.items()
        if name.startswith(CACHE_PREFIX) and name.endswith(".lookups") and n >= BUSY_LOOKUPS
    ]
    return min(rates) if rates else None


# The KPIs one window of metric fields answers (the performance panel's and API's windows).
WINDOW_FIGURES: dict[str, Callable[[dict[str, int]], float | None]] = {
    "response_p95": response_p95,
    "query_p95": query_p95,
    "error_rate": error_rate,
    "cache_hit_rate": cache_hit_rate,
    "health_success": health_success,
}


def _hour_fields(hours: int) -> list[dict[str, int]]:
    return kpi_counters.hour_fields(hours)


def _summed(buckets: list[dict[str, int]]) -> dict[str, int]:
    """The buckets' fields summed (read it, never change it): each KPI of the buckets sums the
    same hours, and the sparklines' days are the same hours on every evaluation of the hour. Made
    once for settled hours (`metrics.derived_together`), once per evaluation otherwise."""
    return metrics.derived_together(
        buckets,
        "sum",
        lambda: kpi_counters.memo("sum", buckets, lambda: metrics.sum_buckets(buckets)),
        settled_fields=True,  # what the KPIs derive from a settled day's sum is kept with it
    )


def _from_buckets(
    kpi_id: str, figure: Callable[[dict[str, int]], float | None], detail: Callable[[dict[str, int]], dict[str, Any]]
) -> None:
    """Register reader and history of a KPI computed from the request / query / health buckets."""

    def read(hours: int) -> kpis.Reading:
        fields = _summed(_hour_fields(hours))
        return kpis.Reading(figure(fields), detail(fields))

    def hourly(hours: int) -> list[float | None]:
        return [figure(fields) for fields in _hour_fields(hours)]

    def daily(days: int) -> list[float | None]:
        buckets = _hour_fields(days * 24)
        return [figure(_summed(buckets[i : i + 24])) for i in range(0, days * 24, 24)]

    hourly.daily = daily  # type: ignore[attr-defined]
    kpis.reader(kpi_id)(read)
    kpis.history(kpi_id)(hourly)


_from_buckets("response_p95", response_p95, lambda f: {"requests": requests_overall(f).get("n", 0)})
_from_buckets("query_p95", query_p95, lambda f: {"queries": metrics.group(f, "q").get(("all",), {}).get("n", 0)})
_from_buckets(
    "error_rate",
    error_rate,
    lambda f: {"requests": requests_overall(f).get("n", 0), "errors": requests_overall(f).get("err", 0)},
)
_from_buckets(
    "health_success",
    health_success,
    lambda f: {
        "checks": metrics.group(f, "h").get(("all",), {}).get("n", 0),
        "passed": metrics.group(f, "h").get(("all",), {}).get("ok", 0),
    },
)


# --- Per family / per service ratios of KPI counters -----------------------------------------


def count_cache_event(family: str, event: str, n: int) -> None:
    """A `mvpvalidator.cache.stats` observer: each lookup counted per family as a KPI counter."""
    if family.startswith("_"):
        return
    if event in ("hit", "local_hit", "stale"):
        kpi_counters.count_many({f"{CACHE_PREFIX}{family}.hits": n, f"{CACHE_PREFIX}{family}.lookups": n})
    elif event == "miss":
        kpi_counters.count(f"{CACHE_PREFIX}{family}.lookups", n)


def count_external_call(service: str, *, failed: bool) -> None:
    """Called by `monitoring.external` for each outbound call."""
    kpi_counters.count_many(
        {f"{EXTERNAL_PREFIX}{service}.calls": 1, f"{EXTERNAL_PREFIX}{service}.failures": int(failed)}
    )


def _keys(prefix: str, suffix: str, hours: int) -> list[str]:
    return [
        n[len(prefix) : -len(suffix)] for n in kpi_counters.counter_names(prefix, hours=hours) if n.endswith(suffix)
    ]


def _cache_rows(hours: int) -> dict[str, tuple[list[int], list[int]]]:
    """{family: (hits per hour, lookups per hour)}."""
    return {
        family: (
            kpi_counters.counter_hourly(f"{CACHE_PREFIX}{family}.hits", hours=hours),
            kpi_counters.counter_hourly(f"{CACHE_PREFIX}{family}.lookups", hours=hours),
        )
        for family in _keys(CACHE_PREFIX, ".lookups", hours)
    }


def _external_rows(hours: int) -> dict[str, tuple[list[int], list[int]]]:
    """{service: (successes per hour, calls per hour)}."""
    rows = {}
    for service in _keys(EXTERNAL_PREFIX, ".calls", hours):
        calls = kpi_counters.counter_hourly(f"{EXTERNAL_PREFIX}{service}.calls", hours=hours)
        failures = kpi_counters.counter_hourly(f"{EXTERNAL_PREFIX}{service}.failures", hours=hours)
        rows[service] = ([c - min(f, c) for c, f in zip(calls, failures, strict=True)], calls)
    return rows


def _worst(rows: dict[str, tuple[list[int], list[int]]], lo: int, hi: int, *, minimum: int) -> float | None:
    rates = [
        sum(good[lo:hi]) / sum(total[lo:hi]) for good, total in rows.values() if sum(total[lo:hi]) >= max(minimum, 1)
    ]
    return min(rates) if rates else None


def _per_key(
    kpi_id: str, rows_of: Callable[[int], dict[str, tuple[list[int], list[int]]]], *, minimum: int, what: str, noun: str
) -> None:
    def read(hours: int) -> kpis.Reading:
        rows = rows_of(hours)
        detail: dict[str, dict[str, Any]] = {
            key: {
                what: sum(total),
                "rate": sum(good) / sum(total) if sum(total) else None,
                **({"busy": sum(total) >= minimum} if minimum > 1 else {}),
            }
            for key, (good, total) in sorted(rows.items())
        }
        judged: dict[str, float] = {
            k: d["rate"] for k, d in detail.items() if d[what] >= max(minimum, 1) and d["rate"] is not None
        }
        if not judged:
            note = f"no {noun} with {minimum} {what} or more in the window" if rows and minimum > 1 else ""
            return kpis.Reading(None, {"per": detail} if rows else {}, note)
        worst = min(judged, key=lambda k: judged[k])
        return kpis.Reading(judged[worst], {"worst": worst, "per": detail})

    def hourly(hours: int) -> list[float | None]:
        rows = rows_of(hours)
        return [_worst(rows, i, i + 1, minimum=minimum) for i in range(hours)]

    def daily(days: int) -> list[float | None]:
        rows = rows_of(days * 24)
        return [_worst(rows, i, i + 24, minimum=minimum) for i in range(0, days * 24, 24)]

    hourly.daily = daily  # type: ignore[attr-defined]
    kpis.reader(kpi_id)(read)
    kpis.history(kpi_id)(hourly)


_per_key("cache_hit_rate", _cache_rows, minimum=BUSY_LOOKUPS, what="lookups", noun="family")
_per_key("external_success", _external_rows, minimum=1, what="calls", noun="service")
