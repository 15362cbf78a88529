"""KPI counters. `count("auth.valid_attempts")` adds to the metrics tally (`monitoring.metrics`:
no I/O on the caller's path, flushed each second into the minute and hour buckets). The hour buckets are
copied into `CounterHour` rows (`persist`): by each process's background flusher every
`PERSIST_EVERY_SECONDS`, and by the daily roll-up (`services.rollup_hours`). So a counter survives
a restart and another process (`manage.py monitoring_report`) reads it from the database.
How a bucket is copied depends on where the buckets live:

- shared (Redis): a bucket holds the whole hour of every process, so its row takes the larger
  of the two (running twice, or from two hosts, writes the same);
- embedded (this process's memory): each process adds what it counted since its last copy, so
  rows hold every process's counts and nothing is counted twice.

Reading (`counter_total`, `counter_hourly`) merges the rows with the live buckets the same way;
an evaluation (`monitoring.kpis.evaluate`) reads them all at one moment (`reading`).
"""

import contextlib
import contextvars
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from monitoring import metrics
from mvpvalidator import background

logger = logging.getLogger(__name__)

SERIES = "k"
# How often a process copies its counters into `CounterHour` (at most this much of an embedded
# process's counting is lost when it stops).
PERSIST_EVERY_SECONDS = 300.0


@functools.lru_cache(maxsize=4096)
def field_of(name: str) -> str:
    """The metrics field a KPI counter counts in (its names are a fixed, small set: built once)."""
    return metrics.field(SERIES, name, "n")


def count(name: str, n: int = 1) -> None:
    """Add `n` to a KPI counter (in memory; flushed and persisted in the background)."""
    if n:
        metrics.record({field_of(name): n})


def count_many(counts: dict[str, int]) -> None:
    """Several KPI counters at once (one call into the tally)."""
    metrics.record({field_of(name): n for name, n in counts.items() if n})


# The moment an evaluation reads at (set by `reading`); the wall clock outside one.
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


background.register("monitoring.kpi_counters", flush=persist_due, every=30.0, reset=reset, at_exit=False)


@dataclass
class _Snapshot:
    """Counters read once for an evaluation: rows and live buckets of the hours it covers."""

    first_hour: int
    rows: dict[tuple[int, str], int]
    live: dict[int, dict[str, int]]
    raw: dict[int, dict[str, int]]
    shared: bool = False  # the metrics store (`metrics.shared()`), once, not per counter and hour
    # Figures the evaluation's KPIs share (`memo`): several read the same sums of the same hours.
    memo: dict[tuple[str, tuple[int, ...]], tuple[list[dict[str, int]], Any]] = field(default_factory=dict)


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
    live = {hour: _counters_of(fields) for hour, fields in raw.items()}
    return _Snapshot(hour_ids[0], rows, live, raw, shared=metrics.shared())


@contextlib.contextmanager
def reading(hours: int, *, now: float) -> Iterator[None]:
    """Read every counter inside at the moment `now`, the last `hours` hours of them served from
    one query and one read of the live buckets (an evaluation)."""
    clock = _clock.set(now)
    try:
        token = _snapshot.set(_load(_hour_ids(hours)))
        try:
            yield
        finally:
            _snapshot.reset(token)
    finally:
        _clock.reset(clock)


def _merged(snapshot: _Snapshot, hour: int, name: str) -> int:
    stored = snapshot.rows.get((hour, name), 0)
    live = snapshot.live.get(hour, _NO_FIELDS).get(name, 0)
    if snapshot.shared:
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
    return [raw.get(hour, _NO_FIELDS) for hour in ids]


T = TypeVar("T")

# An hour with no bucket: one dict for all (never changed), so `memo` keys stay exact.
_NO_FIELDS: dict[str, int] = {}


def memo(name: str, buckets: Sequence[dict[str, int]], compute: Callable[[], T]) -> T:
    """`compute()` of these very bucket dicts (`name` says what it computes), made once per
    evaluation (`reading`); outside one, every time. The entry keeps the dicts it was made from,
    so an id found again is the same dict."""
    current = _snapshot.get()
    if current is None:
        return compute()
    key = (name, tuple(map(id, buckets)))
    kept = current.memo.get(key)
    if kept is None or not all(a is b for a, b in zip(kept[0], buckets, strict=True)):
        kept = current.memo[key] = (list(buckets), compute())
    found: T = kept[1]
    return found


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
