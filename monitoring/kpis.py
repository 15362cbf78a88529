"""The production guide's KPIs: the readers bound to each KPI of the catalog, and their
evaluation (value, pass/fail, 7-day trend, how long a failure has lasted).

Counters (`count`, and reading them back) are in `monitoring.kpi_counters`.

Readers. A module that knows how to read a KPI registers `@reader("uptime")` (the figure over
the last `hours` hours) and optionally `@history("uptime")` (one value per hour, oldest first);
`ratio(num, den)` builds both for a ratio of two counters. A KPI with no reader, or whose reader
fails, is "no data"; it never breaks the others.

`failing_since` is a small state, not derived from history: the first evaluation (of the same
window) that saw the KPI fail, kept in the cache (shared by every process; this process's memory
when the cache is away) and cleared by the first evaluation that sees it pass. An evaluation
without a figure (the window holds no data yet, e.g. just after an hour's turn) neither starts nor
ends a run: it keeps the start for the next figure to confirm or clear.

Clock. `evaluate(now=...)` reads the hours around `now` (every counter and bucket read inside
it), so an evaluation can be made for any moment the buckets still hold (the alert tests).
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.core.cache import cache

from monitoring.kpi_catalog import BY_ID, CATALOG, GROUPS, KpiSpec
from monitoring.kpi_counters import counter_hourly, counter_total, reading
from mvpvalidator import background

logger = logging.getLogger(__name__)

SPARK_DAYS = 7
FAILING_STATE_TTL_SECONDS = 40 * 24 * 3600

ReadFn = Callable[[int], "Reading"]
HourlyFn = Callable[[int], list[float | None]]


@dataclass(frozen=True)
class Reading:
    value: float | None
    detail: dict[str, Any] = field(default_factory=dict)
    note: str = ""


# --- Readers ---------------------------------------------------------------------------------

_readers: dict[str, ReadFn] = {}
_histories: dict[str, HourlyFn] = {}


def _known(kpi_id: str) -> None:
    if kpi_id not in BY_ID:
        raise ValueError(f"unknown KPI {kpi_id!r}: add it to monitoring.kpi_catalog first")


def reader(kpi_id: str) -> Callable[[ReadFn], ReadFn]:
    """Register `read(hours) -> Reading` as the KPI's reader (registering again replaces it)."""
    _known(kpi_id)

    def register(fn: ReadFn) -> ReadFn:
        _readers[kpi_id] = fn
        return fn

    return register


def history(kpi_id: str) -> Callable[[HourlyFn], HourlyFn]:
    """Register `hourly(hours) -> [value per hour, oldest first]` as the KPI's history."""
    _known(kpi_id)

    def register(fn: HourlyFn) -> HourlyFn:
        _histories[kpi_id] = fn
        return fn

    return register


def _share(num: int, den: int) -> float | None:
    # Exact: the bar judges the true figure (0.009951 is under 1%; 3 lacking in 100,000 is not
    # 100%); only `format_value` rounds, for display.
    return num / den if den else None


def ratio(num: str, den: str) -> tuple[ReadFn, HourlyFn]:
    """(read, hourly) for the KPI `num / den` of two counters; no figure while `den` is zero.
    The daily trend of a ratio is summed per day, not averaged from its hours."""

    def read(hours: int) -> Reading:
        n, d = counter_total(num, hours=hours), counter_total(den, hours=hours)
        return Reading(_share(n, d), {"numerator": n, "denominator": d, "counters": [num, den]})

    def hourly(hours: int) -> list[float | None]:
        return [
            _share(n, d)
            for n, d in zip(counter_hourly(num, hours=hours), counter_hourly(den, hours=hours), strict=True)
        ]

    def daily(days: int) -> list[float | None]:
        nums, dens = counter_hourly(num, hours=days * 24), counter_hourly(den, hours=days * 24)
        return [_share(sum(nums[i : i + 24]), sum(dens[i : i + 24])) for i in range(0, days * 24, 24)]

    hourly.daily = daily  # type: ignore[attr-defined]
    return read, hourly


def registered() -> set[str]:
    return set(_readers)


# --- Evaluation ------------------------------------------------------------------------------


def _read(spec: KpiSpec, hours: int) -> Reading:
    fn = _readers.get(spec.id)
    if fn is None:
        return Reading(None, note="no data: nothing measures this KPI in this deployment")
    try:
        return fn(hours)
    except Exception:
        logger.warning("KPI %s could not be read", spec.id, exc_info=True)
        return Reading(None, note="no data: its reader failed (see the logs)")


def _spark(spec: KpiSpec) -> list[float | None]:
    """One value per day for the last SPARK_DAYS days (24-hour blocks ending now), oldest first:
    the history's own daily figure when it has one, else the mean of the day's hourly values."""
    fn = _histories.get(spec.id)
    if fn is None:
        return [None] * SPARK_DAYS
    try:
        daily = getattr(fn, "daily", None)
        if daily is not None:
            return list(daily(SPARK_DAYS))
        values = fn(SPARK_DAYS * 24)
    except Exception:
        logger.warning("KPI %s history could not be read", spec.id, exc_info=True)
        return [None] * SPARK_DAYS
    out: list[float | None] = []
    for i in range(0, SPARK_DAYS * 24, 24):
        day = [v for v in values[i : i + 24] if v is not None]
        out.append(sum(day) / len(day) if day else None)
    return out


_failing_lock = threading.Lock()
_local_failing: dict[str, float] = {}


def reset() -> None:
    """Forget this process's failing runs, kept here while the cache is away (tests)."""
    with _failing_lock:
        _local_failing.clear()


background.register("monitoring.kpis", reset=reset)


def _failing_key(kpi_id: str, hours: int) -> str:
    return f"mon:kpi:failing:{hours}:{kpi_id}"


def _failing_since(kpi_id: str, hours: int, passed: bool | None, *, now: float) -> float | None:
    """When this KPI (over this window) was first seen failing in its current run; None when not
    failing. A pass ends the run; no figure (`passed` None) keeps it for the next figure, so a
    window emptied by an hour's turn does not restart a failure's clock. Shared through the
    cache, this process's memory when it is away."""
    from mvpvalidator.cache import CacheUnavailable, call

    key = _failing_key(kpi_id, hours)
    try:
        if passed is False:
            call(cache.add, key, now, FAILING_STATE_TTL_SECONDS)
            since = call(cache.get, key)
            return float(since) if since is not None else now
        if passed is True:
            call(cache.delete, key)
        return None
    except CacheUnavailable:
        with _failing_lock:
            if passed is False:
                return _local_failing.setdefault(key, now)
            if passed is True:
                _local_failing.pop(key, None)
            return None


def evaluate(*, hours: int = 24, now: float | None = None, spark: bool = True) -> list[dict[str, Any]]:
    """Every KPI of the catalog, in its order: the figure over the last `hours` hours, pass/fail
    against its bar, its detail and note, 7 daily values (without `spark`: empty) and since when
    it has been failing."""
    now = now if now is not None else time.time()
    with reading(max(hours, SPARK_DAYS * 24) if spark else hours, now=now):
        return _evaluate(hours, now=now, spark=spark)


def _evaluate(hours: int, *, now: float, spark: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for spec in CATALOG:
        reading = _read(spec, hours)
        passed = spec.passes(reading.value)
        since = _failing_since(spec.id, hours, passed, now=now)
        out.append(
            {
                "id": spec.id,
                "group": spec.group,
                "name": spec.name,
                "target": spec.target,
                "unit": spec.unit,
                "source": spec.source,
                "value": reading.value,
                "pass": passed,
                "detail": reading.detail,
                "note": reading.note,
                "spark": _spark(spec) if spark else [],
                "failing_since": datetime.fromtimestamp(since, tz=UTC) if since is not None else None,
            }
        )
    return out


def grouped(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The evaluation grouped as the guide groups it: [{group, title, kpis}]."""
    return [
        {"group": group, "title": title, "kpis": [r for r in results if r["group"] == group]} for group, title in GROUPS
    ]


def format_value(value: float | None, unit: str) -> str:
    """A KPI's figure with its unit, as the monitor and the report print it."""
    if value is None:
        return "no data"
    if unit == "ratio":
        shown = f"{value * 100:.2f}%"
        # 3 lacking in 100,000 fails "100%": never print the bar it missed.
        return "99.99%" if shown == "100.00%" and value < 1.0 else shown
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "per_request":
        return f"{value:.3f} per request"
    return f"{value:g}"
