"""Counters and latency histograms in per-minute buckets, shared by every process.

Recording costs a request no round trip: each process adds to an in-memory tally, and the
process's background flusher (`mvpvalidator.background`) moves it to Redis every second in one
pipelined round trip (HINCRBY into the minute's hash, the hour's hash and the all-time
totals). Reads sum the buckets of a window. In the embedded (local-memory) mode the same
buckets live in this process's memory and the readers say `scope: process`.

Field names are `<series>|<label>|...|<stat>`; one place (this module) builds them.
"""

import functools
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar, cast

from monitoring import histogram
from mvpvalidator import background

T = TypeVar("T")

FLUSH_EVERY_SECONDS = 1.0
MINUTE_TTL_SECONDS = 26 * 3600
HOUR_TTL_SECONDS = 8 * 24 * 3600
# Buffered while Redis is away, at most this many distinct bucket hashes (then oldest dropped).
MAX_PENDING_BUCKETS = 180
SEP = "|"
# A bucket is final once every process has flushed into it (each flushes every
# FLUSH_EVERY_SECONDS), so a reader may keep it: `reuse_settled=True` keeps the buckets that ended
# more than SETTLE_SECONDS ago, and re-reads them after SETTLED_KEEP_SECONDS all the same, so
# counts a stalled process flushed late still show within minutes.
SETTLE_SECONDS = 120
SETTLED_KEEP_SECONDS = 600
SETTLED_KEPT = 400  # buckets kept at most (the dashboard reads 60 minutes and 24 hours)
BUCKET_SECONDS = {"m": 60, "h": 3600}


def minute_of(ts: float) -> int:
    return int(ts // 60)


def _clean(label: str) -> str:
    return label.replace(SEP, "/")[:300]


def field(*parts: str) -> str:
    return SEP.join(_clean(str(p)) for p in parts)


def split(name: str) -> list[str]:
    return name.split(SEP)


class _Tally:
    """This process's counts not yet flushed: {minute: {field: n}}."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(self, minute: int, counts: dict[str, int]) -> None:
        with self.lock:
            bucket = self.pending[minute]
            for name, n in counts.items():
                bucket[name] += n

    def take(self) -> dict[int, dict[str, int]]:
        with self.lock:
            taken = {m: dict(c) for m, c in self.pending.items()}
            self.pending.clear()
            return taken

    def put_back(self, taken: dict[int, dict[str, int]]) -> None:
        with self.lock:
            for minute, counts in taken.items():
                bucket = self.pending[minute]
                for name, n in counts.items():
                    bucket[name] += n
            while len(self.pending) > MAX_PENDING_BUCKETS:
                del self.pending[min(self.pending)]


class _LocalStore:
    """Buckets in this process's memory (the embedded mode)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.minutes: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.hours: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.totals: dict[str, int] = defaultdict(int)

    def apply(self, taken: dict[int, dict[str, int]]) -> None:
        with self.lock:
            for minute, counts in taken.items():
                for name, n in counts.items():
                    self.minutes[minute][name] += n
                    self.hours[minute // 60][name] += n
                    self.totals[name] += n
            horizon = minute_of(time.time()) - MINUTE_TTL_SECONDS // 60
            for minute in [m for m in self.minutes if m < horizon]:
                del self.minutes[minute]
            for hour in [h for h in self.hours if h < horizon // 60 - HOUR_TTL_SECONDS // 3600]:
                del self.hours[hour]

    def read(self, scope: str, ids: Iterable[int]) -> list[dict[str, int]]:
        source = self.minutes if scope == "m" else self.hours
        with self.lock:
            return [dict(source.get(i, {})) for i in ids]

    def read_totals(self) -> dict[str, int]:
        with self.lock:
            return dict(self.totals)

    def clear(self) -> None:
        with self.lock:
            self.minutes.clear()
            self.hours.clear()
            self.totals.clear()


def _key(name: str) -> str:
    from mvpvalidator.cache import raw_key

    return raw_key(f"mon:{name}")


class _RedisStore:
    def apply(self, taken: dict[int, dict[str, int]]) -> None:
        from mvpvalidator.cache import call, redis_client

        def send() -> None:
            pipe = redis_client().pipeline(transaction=False)
            touched_hours: set[int] = set()
            totals_key = _key("t")
            for minute, counts in taken.items():
                minute_key, hour_key = _key(f"m:{minute}"), _key(f"h:{minute // 60}")
                touched_hours.add(minute // 60)
                for name, n in counts.items():
                    pipe.hincrby(minute_key, name, n)
                    pipe.hincrby(hour_key, name, n)
                    pipe.hincrby(totals_key, name, n)
                pipe.expire(minute_key, MINUTE_TTL_SECONDS)
            for hour in touched_hours:
                pipe.expire(_key(f"h:{hour}"), HOUR_TTL_SECONDS)
            pipe.execute()

        call(send)

    def read(self, scope: str, ids: Iterable[int]) -> list[dict[str, int]]:
        from mvpvalidator.cache import call, redis_client

        ids = list(ids)

        def fetch() -> list[dict[bytes, bytes]]:
            pipe = redis_client().pipeline(transaction=False)
            for i in ids:
                pipe.hgetall(_key(f"{scope}:{i}"))
            return cast(list[dict[bytes, bytes]], pipe.execute())

        return [{k.decode(): int(v) for k, v in raw.items()} for raw in call(fetch)]

    def read_totals(self) -> dict[str, int]:
        from mvpvalidator.cache import call, redis_client

        raw = call(lambda: redis_client().hgetall(_key("t")))
        return {k.decode(): int(v) for k, v in raw.items()}

    def clear(self) -> None:
        from mvpvalidator.cache import call, redis_client

        def wipe() -> None:
            client = redis_client()
            batch = list(client.scan_iter(match=_key("*"), count=500))
            if batch:
                client.unlink(*batch)

        call(wipe)


_tally = _Tally()
_local = _LocalStore()
_redis = _RedisStore()
# Settled buckets already read: {((scope, key), bucket): (read at, fields)}, oldest read first.
_settled: dict[tuple[tuple[str, str], int], tuple[float, dict[str, int]]] = {}
# What was derived from those buckets' fields (`derived`: their groupings per series, the
# overall request stats), made once per bucket: {id(fields): (fields, {name: value})}. Only the
# settled buckets' dicts are here, which nobody changes; the entry holds the dict itself, so its
# id cannot be reused while it is kept. The dashboard's KPIs read each of 168 hour buckets on
# every render, a cost that grew with the routes in them.
_derived: dict[int, tuple[dict[str, int], dict[str, Any]]] = {}
# The same for several settled buckets together (the sum of a day of hours): {(name, their ids):
# (the dicts, value)}, the most recently used last; an entry holds its dicts as `_derived` does.
_derived_together: OrderedDict[tuple[str, tuple[int, ...]], tuple[list[dict[str, int]], Any]] = OrderedDict()
DERIVED_TOGETHER_KEPT = 64  # the dashboard's windows: a week of days and a few more
# Kept buckets and what is derived from them change under this lock: a render and the flusher's
# alert evaluation read them at once.
_derived_lock = threading.RLock()


def _keep_settled(key: tuple[tuple[str, str], int], read_at: float, fields: dict[str, int]) -> None:
    with _derived_lock:
        _drop_settled(key)  # re-read: it moves to the end
        _settled[key] = (read_at, fields)
        _derived[id(fields)] = (fields, {})


def _drop_settled(key: tuple[tuple[str, str], int]) -> None:
    with _derived_lock:
        kept = _settled.pop(key, None)
        if kept is not None:
            _derived.pop(id(kept[1]), None)


def shared() -> bool:
    from mvpvalidator.cache import is_shared

    return is_shared()


def store() -> _LocalStore | _RedisStore:
    return _redis if shared() else _local


def record(counts: dict[str, int], *, at: float | None = None) -> None:
    """Add counts to the current minute's bucket (no I/O; flushed in the background)."""
    _tally.add(minute_of(at if at is not None else time.time()), counts)
    background.ensure_started()


@functools.lru_cache(maxsize=8192)
def _names(prefix: tuple[str, ...]) -> tuple[str, str, str, tuple[str, ...]]:
    # Built once per label set (route patterns are few), not on every request.
    base = field(*prefix)
    return (
        base + SEP + "n",
        base + SEP + "us",
        base + SEP + "err",
        tuple(f"{base}{SEP}b{i}" for i in range(histogram.SIZE)),
    )


def observe(prefix: tuple[str, ...], ms: float, *, errors: int = 0, extra: dict[str, int] | None = None) -> None:
    """Count one timed event under `prefix`: n, errors, total time (µs) and its histogram bucket."""
    record(observed(prefix, ms, errors=errors, extra=extra))


def observed(
    prefix: tuple[str, ...], ms: float, *, errors: int = 0, extra: dict[str, int] | None = None
) -> dict[str, int]:
    """What `observe` records, for a caller that records it with counts of its own in one call."""
    n_name, us_name, err_name, buckets = _names(prefix)
    counts = {n_name: 1, us_name: int(ms * 1000), buckets[histogram.bucket_of(ms)]: 1}
    if errors:
        counts[err_name] = errors
    if extra:
        base = n_name[:-2]
        for stat, n in extra.items():
            counts[base + SEP + stat] = n
    return counts


# Held from taking the tally until the store has it: a reader's flush (`read_window`) waits for
# the background flusher's send in flight, or it would read the store without counts that this
# process recorded before the read (taken by the flusher, not yet applied).
_flush_lock = threading.Lock()


def flush() -> None:
    """Move this process's tally to the store; kept for the next try if Redis is away."""
    from mvpvalidator.cache import CacheUnavailable

    with _flush_lock:
        taken = _tally.take()
        if not taken:
            return
        try:
            store().apply(taken)
        except CacheUnavailable:
            _tally.put_back(taken)
        except Exception:  # noqa: BLE001 - never let monitoring break the process; keep the counts
            _tally.put_back(taken)


def read_window(minutes: int, *, now: float | None = None) -> dict[str, int]:
    """Sum of every field over the last `minutes` minutes (hour buckets beyond two hours)."""
    flush()
    now = now if now is not None else time.time()
    current_minute = minute_of(now)
    if minutes <= 120:
        buckets = store().read("m", range(current_minute - minutes + 1, current_minute + 1))
    else:
        current_hour = current_minute // 60
        hours = -(-minutes // 60)
        buckets = store().read("h", range(current_hour - hours + 1, current_hour + 1))
    return sum_buckets(buckets)


def sum_buckets(buckets: Iterable[dict[str, int]]) -> dict[str, int]:
    """Every field summed over the buckets."""
    summed: dict[str, int] = defaultdict(int)
    for bucket in buckets:
        for name, n in bucket.items():
            summed[name] += n
    return dict(summed)


def read_series(
    minutes: int, *, now: float | None = None, reuse_settled: bool = False
) -> list[tuple[int, dict[str, int]]]:
    """Per-minute buckets of the last `minutes` minutes, oldest first: [(minute, fields)]."""
    now = now if now is not None else time.time()
    current_minute = minute_of(now)
    return _read("m", range(current_minute - minutes + 1, current_minute + 1), reuse_settled=reuse_settled, now=now)


def read_hours(
    hour_ids: Iterable[int], *, reuse_settled: bool = False, now: float | None = None
) -> list[tuple[int, dict[str, int]]]:
    """Hour buckets, in the order asked: [(hour, fields)]."""
    return _read("h", hour_ids, reuse_settled=reuse_settled, now=now if now is not None else time.time())


def settled(kind: str, bucket: int, *, now: float) -> bool:
    """Whether a bucket (`kind` "m" for a minute, "h" for an hour) can no longer change."""
    return (bucket + 1) * BUCKET_SECONDS[kind] + SETTLE_SECONDS <= now


def _read(kind: str, bucket_ids: Iterable[int], *, reuse_settled: bool, now: float) -> list[tuple[int, dict[str, int]]]:
    """With `reuse_settled`, buckets that can no longer change come from this process's memory
    when read recently (the dashboard reads an hour of minutes and a day of hours on every
    refresh); the dicts returned are then shared and must not be changed."""
    flush()
    ids = list(bucket_ids)
    if not reuse_settled:
        return list(zip(ids, store().read(kind, ids), strict=True))
    where = (scope(), _key(kind))  # the store and key prefix in use (tests and benchmarks switch them)
    found: dict[int, dict[str, int]] = {}
    for bucket in ids:
        kept = _settled.get((where, bucket))
        if kept is not None and now - kept[0] < SETTLED_KEEP_SECONDS:
            found[bucket] = kept[1]
    missing = [bucket for bucket in ids if bucket not in found]
    if missing:
        for bucket, fields in zip(missing, store().read(kind, missing), strict=True):
            found[bucket] = fields
            if settled(kind, bucket, now=now):
                _keep_settled((where, bucket), now, fields)
        with _derived_lock:
            while len(_settled) > SETTLED_KEPT:
                _drop_settled(next(iter(_settled)))  # the oldest read
    return [(bucket, found[bucket]) for bucket in ids]


def read_totals() -> dict[str, int]:
    flush()
    return store().read_totals()


def forget_settled() -> None:
    """Drop the settled buckets this process keeps: the next read fetches them again."""
    with _derived_lock:
        _settled.clear()
        _derived.clear()
        _derived_together.clear()


def reset() -> None:
    """Forget every bucket (tests and operators)."""
    _tally.take()
    forget_settled()
    store().clear()


background.register("monitoring.metrics", flush=flush, every=FLUSH_EVERY_SECONDS, reset=reset)


def scope() -> str:
    return "shared" if shared() else "process"


def derived(fields: dict[str, int], name: str, compute: Callable[[], T]) -> T:
    """`compute()` of one bucket's fields, `name` saying what it computes. For a settled bucket
    read with `reuse_settled`, made once and kept beside the bucket (read it, never change it);
    for any other fields, computed at each call."""
    memo = _derived.get(id(fields))
    if memo is None or memo[0] is not fields:
        return compute()
    if name not in memo[1]:
        memo[1][name] = compute()
    found: T = memo[1][name]
    return found


def derived_together(
    buckets: Sequence[dict[str, int]], name: str, compute: Callable[[], T], *, settled_fields: bool = False
) -> T:
    """`derived` for several buckets at once: kept when every one of them is a settled bucket
    read with `reuse_settled` (the same dicts again: the entry is checked by identity), computed
    at each call otherwise. With `settled_fields`, what is kept is a dict of fields (their sum)
    that is settled in turn: `derived` keeps what is derived from it."""
    if not buckets or not all((memo := _derived.get(id(b))) is not None and memo[0] is b for b in buckets):
        return compute()
    key = (name, tuple(map(id, buckets)))
    # Looked up and stored under the lock, computed outside it (a value computed twice at once is
    # the same value).
    with _derived_lock:
        kept = _derived_together.get(key)
        if kept is not None and all(a is b for a, b in zip(kept[0], buckets, strict=True)):
            _derived_together.move_to_end(key)
            found: T = kept[1]
            return found
    value = compute()
    with _derived_lock:
        if settled_fields:
            _derived[id(value)] = (cast(dict[str, int], value), {})
        _derived_together[key] = (list(buckets), value)
        while len(_derived_together) > DERIVED_TOGETHER_KEPT:
            _, (_, dropped) = _derived_together.popitem(last=False)
            if (memo := _derived.get(id(dropped))) is not None and memo[0] is dropped:
                del _derived[id(dropped)]
    return value


def group(fields: dict[str, int], series: str) -> dict[tuple[str, ...], dict[str, int]]:
    """{labels: {stat: n}} for the fields of one series (e.g. "r" for requests). For a settled
    bucket read with `reuse_settled`, made once and shared: read it, never change it."""
    return derived(fields, "group:" + series, lambda: _group(fields, series))


def _group(fields: dict[str, int], series: str) -> dict[tuple[str, ...], dict[str, int]]:
    out: dict[tuple[str, ...], dict[str, int]] = defaultdict(dict)
    for name, n in fields.items():
        parts = split(name)
        if parts[0] != series:
            continue
        out[tuple(parts[1:-1])][parts[-1]] = n
    return dict(out)


def histogram_of(stats: dict[str, int]) -> list[int]:
    counts = histogram.empty()
    for stat, n in stats.items():
        if stat.startswith("b") and stat[1:].isdigit():
            index = int(stat[1:])
            if index < histogram.SIZE:
                counts[index] += n
    return counts


def summarise(stats: dict[str, int], window_seconds: float) -> dict[str, Any]:
    """Count, errors, rates and percentiles of one group's stats."""
    n = stats.get("n", 0)
    errors = stats.get("err", 0)
    pct = histogram.summary(histogram_of(stats))
    return {
        "count": n,
        "errors": errors,
        "error_rate": round(errors / n, 4) if n else 0.0,
        "throughput_per_s": round(n / window_seconds, 3) if window_seconds else 0.0,
        "mean_ms": round(stats.get("us", 0) / n / 1000, 3) if n else None,
        **pct,
    }
