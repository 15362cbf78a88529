"""The production guide's KPIs: counters, the readers bound to each KPI of the catalog, and
their evaluation (value, pass/fail, 7-day trend, how long a failure has lasted).

Counters. `count("auth.valid_attempts")` adds to the metrics tally (`monitoring.metrics`: no I/O
on the caller's path, flushed each second into the minute and hour buckets). The hour buckets are
copied into `CounterHour` rows (`persist`): by each process's background flusher every
`PERSIST_EVERY_SECONDS`, and by the daily roll-up (`services.rollup_hours`). So a counter survives
a restart and another process (`manage.py monitoring_report`) reads it from the database.
How a bucket is copied depends on where the buckets live:

- shared (Redis): a bucket holds the whole hour of every process, so its row takes the larger
  of the two (running twice, or from two hosts, writes the same);
- embedded (this process's memory): each process adds what it counted since its last copy, so
  rows hold every process's counts and nothing is counted twice.

Reading (`counter_total`, `counter_hourly`) merges the rows with the live buckets the same way.

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

import contextlib
import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.core.cache import cache

from monitoring import metrics
from monitoring.kpi_catalog import BY_ID, CATALOG, GROUPS, KpiSpec
from mvpvalidator import background

logger = logging.getLogger(__name__)

SERIES = "k"
# How often a process copies its counters into `CounterHour` (at most this much of an embedded
# process's counting is lost when it stops).
PERSIST_EVERY_SECONDS = 300.0
SPARK_DAYS = 7
FAILING_STATE_TTL_SECONDS = 40 * 24 * 3600

ReadFn = Callable[[int], "Reading"]
HourlyFn = Callable[[int], list[float | None]]


@dataclass(frozen=True)
class Reading:
    value: float | None
    detail: dict[str, Any] = field(default_factory=dict)
    note: str = ""


# --- Counters --------------------------------------------------------------------------------


def _field(name: str) -> str:
    return metrics.field(SERIES, name, "n")


def count(name: str, n: int = 1) -> None:
    """Add `n` to a KPI counter (in memory; flushed and persisted in the background)."""
    if n:
        metrics.record({_field(name): n})


def count_many(counts: dict[str, int]) -> None:
    """Several KPI counters at once (one call into the tally)."""
    metrics.record({_field(name): n for name, n in counts.items() if n})


# The moment an evaluation reads at (set by `evaluate`); the wall clock outside one.
_clock: contextvars.ContextVar[float | None] = contextvars.ContextVar("kpi_clock", default=None)


def _now() -> float:
    at = _clock.get()
    return at if at is not None else time.time()


def _hour_ids(hours: int, now: float | None = None) -> list[int]:
    current = int((now if now is not None else _now()) // 3600)
    return list(range(current - hours + 1, current + 1))


def _hour_dt(hour_id: int) -> datetime:
    return datetime.fromtimestamp(hour_id * 3600, tz=UTC)


def _counters_of(fields: dict[str, int]) -> dict[str, int]:
    return {labels[0]: stats.get("n", 0) for labels, stats in metrics.group(fields, SERIES).items() if len(labels) == 1}


# What this process copied into each row (embedded mode): {(hour_id, name): value}.
_persisted: dict[tuple[int, str], int] = {}
_persist_lock = threading.Lock()
_next_persist = time.monotonic() + PERSIST_EVERY_SECONDS


def _read_hours(hour_ids: list[int]) -> dict[int, dict[str, int]]:
    """The live hour buckets (every series); empty when the store is away."""
    from mvpvalidator.cache import CacheUnavailable

    try:
        return dict(metrics.read_hours(hour_ids, reuse_settled=True))
    except CacheUnavailable:
        return {}


def _live_hours(hour_ids: list[int]) -> dict[int, dict[str, int]]:
    """The live hour buckets' KPI counters; empty when the store is away."""
    return {hour: _counters_of(fields) for hour, fields in _read_hours(hour_ids).items()}


def persist(*, hours: int = 2, now: float | None = None) -> int:
    """Copy the last `hours` hour buckets of every KPI counter into `CounterHour`; rows written.

    Each row is created at 0 if missing (ignoring a conflict: another process may create it at
    the same moment, at a new hour), then raised in the database (`F`), never read, changed and
    written back. Embedded, what this process copied is remembered only once the transaction has
    committed, so a failed pass leaves nothing half-counted: the next one copies it all. Called
    outside any transaction (the flusher, the roll-up), so its own block is the commit."""
    from django.db import transaction
    from django.db.models import F
    from django.db.models.functions import Greatest

    from monitoring.models import CounterHour

    ids = _hour_ids(hours, now)
    live = _live_hours(ids)
    with _persist_lock:
        shared = metrics.shared()
        # {(hour, name): (the bucket's value, what to add or raise the row to)}
        changes: dict[tuple[int, str], tuple[int, int]] = {}
        if shared:
            existing = {
                (int(hour.timestamp() // 3600), name): value
                for hour, name, value in CounterHour.objects.filter(hour__gte=_hour_dt(ids[0])).values_list(
                    "hour", "name", "value"
                )
            }
        for hour, counters in live.items():
            for name, value in counters.items():
                if shared:
                    if value > existing.get((hour, name[:120]), 0):
                        changes[(hour, name)] = (value, value)
                elif (delta := value - _persisted.get((hour, name), 0)) > 0:
                    changes[(hour, name)] = (value, delta)
        if not changes:
            return 0
        with transaction.atomic():
            CounterHour.objects.bulk_create(
                [CounterHour(hour=_hour_dt(hour), name=name[:120], value=0) for hour, name in changes],
                ignore_conflicts=True,
            )
            for (hour, name), (_, amount) in changes.items():
                rows = CounterHour.objects.filter(name=name[:120], hour=_hour_dt(hour))
                # Shared: a bucket holds the whole hour, so the row takes the larger (it never
                # goes down, whoever copied last); embedded: add what this process counted since.
                rows.update(value=Greatest(F("value"), amount) if shared else F("value") + amount)
        # Committed: only now is it copied (a rolled-back pass is copied again next time).
        if not shared:
            for key, (value, _) in changes.items():
                _persisted[key] = value
            oldest = ids[0] - 24 * 9  # beyond the live buckets' life
            for key in [k for k in _persisted if k[0] < oldest]:
                del _persisted[key]
    return len(changes)


def persist_due() -> None:
    """The background flusher's pass: persist every `PERSIST_EVERY_SECONDS`."""
    global _next_persist
    now = time.monotonic()
    if now < _next_persist:
        return
    _next_persist = now + PERSIST_EVERY_SECONDS
    from django.db import connection

    try:
        persist()
    except Exception:
        logger.warning("could not persist the KPI counters", exc_info=True)
    finally:
        connection.close()  # the flusher thread's own connection


def reset() -> None:
    """Forget what this process copied (tests, with the metrics' own reset)."""
    global _next_persist
    with _persist_lock:
        _persisted.clear()
    _next_persist = time.monotonic() + PERSIST_EVERY_SECONDS
    with _failing_lock:
        _local_failing.clear()


background.register("monitoring.kpis", flush=persist_due, every=30.0, reset=reset, at_exit=False)


@dataclass
class _Snapshot:
    """Counters read once for an evaluation: rows and live buckets of the hours it covers."""

    first_hour: int
    rows: dict[tuple[int, str], int]
    live: dict[int, dict[str, int]]
    raw: dict[int, dict[str, int]]


_snapshot: contextvars.ContextVar[_Snapshot | None] = contextvars.ContextVar("kpi_snapshot", default=None)


def _load(hour_ids: list[int]) -> _Snapshot:
    from django.db import DatabaseError

    from monitoring.models import CounterHour

    try:
        rows = {
            (int(hour.timestamp() // 3600), name): value
            for hour, name, value in CounterHour.objects.filter(hour__gte=_hour_dt(hour_ids[0])).values_list(
                "hour", "name", "value"
            )
        }
    except DatabaseError:
        # The database is away (health says so): the live buckets still answer.
        logger.warning("KPI counter history unavailable; reading the live buckets only", exc_info=True)
        rows = {}
    raw = _read_hours(hour_ids)
    return _Snapshot(hour_ids[0], rows, {hour: _counters_of(fields) for hour, fields in raw.items()}, raw)


@contextlib.contextmanager
def _reading(hours: int) -> Iterator[None]:
    """Serve every counter read inside from one query and one read of the live buckets."""
    token = _snapshot.set(_load(_hour_ids(hours)))
    try:
        yield
    finally:
        _snapshot.reset(token)


def _merged(snapshot: _Snapshot, hour: int, name: str) -> int:
    stored = snapshot.rows.get((hour, name), 0)
    live = snapshot.live.get(hour, {}).get(name, 0)
    if metrics.shared():
        return max(stored, live)
    return stored + max(0, live - _persisted.get((hour, name), 0))


def _snapshot_for(hour_ids: list[int]) -> _Snapshot:
    current = _snapshot.get()
    if current is not None and current.first_hour <= hour_ids[0]:
        return current
    return _load(hour_ids)


def hour_fields(hours: int) -> list[dict[str, int]]:
    """The live hour buckets of every series for the last `hours` hours, oldest first (read once
    per evaluation; empty buckets while the store is away)."""
    ids = _hour_ids(hours)
    current = _snapshot.get()
    raw = current.raw if current is not None and current.first_hour <= ids[0] else _read_hours(ids)
    return [raw.get(hour, {}) for hour in ids]


def counter_hourly(name: str, *, hours: int) -> list[int]:
    """One value per hour for the last `hours` hours, oldest first (the current hour last)."""
    ids = _hour_ids(hours)
    snapshot = _snapshot_for(ids)
    return [_merged(snapshot, hour, name) for hour in ids]


def counter_total(name: str, *, hours: int) -> int:
    """The counter over the last `hours` hours, the current one included."""
    return sum(counter_hourly(name, hours=hours))


def counter_names(prefix: str, *, hours: int) -> list[str]:
    """Counters starting with `prefix` seen in the last `hours` hours (per-family counters)."""
    ids = _hour_ids(hours)
    snapshot = _snapshot_for(ids)
    names = {name for (hour, name) in snapshot.rows if hour >= ids[0]}
    for hour in ids:
        names.update(snapshot.live.get(hour, {}))
    return sorted(n for n in names if n.startswith(prefix))


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
    clock = _clock.set(now)
    try:
        with _reading(max(hours, SPARK_DAYS * 24) if spark else hours):
            out = _evaluate(hours, now=now, spark=spark)
    finally:
        _clock.reset(clock)
    return out


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
