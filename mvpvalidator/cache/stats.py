"""Hit / miss / set / error counters per key family.

Counting must cost a request nothing: each process adds to an in-memory tally, and the
process's background flusher (`mvpvalidator.background`) moves it to Redis every few seconds
(and whenever stats are read, and at exit) in one pipelined round trip: totals in one hash and
per-minute buckets (kept two days) for charts.
So the figures are shared by every process, at most a few seconds behind. In the local-memory
mode the tally stays in the process, and `snapshot()` says so.
"""

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, cast

from mvpvalidator import background

EVENTS = ("hit", "local_hit", "stale", "miss", "set", "error")
FLUSH_EVERY_SECONDS = 2.0
MINUTE_BUCKET_TTL_SECONDS = 2 * 24 * 3600

_tally: Counter[tuple[str, str]] = Counter()
_lock = threading.Lock()
# Everything this process counted since start (the local-memory mode reports these), and per
# minute for the last LOCAL_MINUTES minutes (its charts).
_process_totals: Counter[tuple[str, str]] = Counter()
LOCAL_MINUTES = 120
_process_minutes: dict[int, Counter[tuple[str, str]]] = {}


# Called with (family, event, n) for every count: the monitoring app adds each lookup to the
# current request's trace this way, without the cache layer depending on it.
observers: list[Callable[[str, str, int], None]] = []


def record(family: str, event: str, n: int = 1) -> None:
    for observer in observers:
        observer(family, event, n)
    with _lock:
        _tally[(family, event)] += n
        _process_totals[(family, event)] += n
        minute = int(time.time() // 60)
        bucket = _process_minutes.get(minute)
        if bucket is None:
            bucket = _process_minutes[minute] = Counter()
            for old in [m for m in _process_minutes if m <= minute - LOCAL_MINUTES]:
                del _process_minutes[old]
        bucket[(family, event)] += n
    background.ensure_started()


def _totals_key() -> str:
    from mvpvalidator.cache.backend import raw_key

    return raw_key("cachestats:total")


def _minute_key(minute: int) -> str:
    from mvpvalidator.cache.backend import raw_key

    return raw_key(f"cachestats:m:{minute}")


def flush() -> None:
    """Move this process's tally to Redis (no-op in the local-memory mode)."""
    from mvpvalidator.cache.backend import CacheUnavailable, call, is_shared, redis_client

    with _lock:
        if not is_shared() or not _tally:
            _tally.clear()
            return
        pending = dict(_tally)
        _tally.clear()

    def send() -> None:
        pipe = redis_client().pipeline(transaction=False)
        minute_key = _minute_key(int(time.time() // 60))
        for (family, event), n in pending.items():
            field = f"{family}:{event}"
            pipe.hincrby(_totals_key(), field, n)
            pipe.hincrby(minute_key, field, n)
        pipe.expire(minute_key, MINUTE_BUCKET_TTL_SECONDS)
        pipe.execute()

    try:
        call(send)
    except CacheUnavailable:
        with _lock:  # keep the counts for the next flush rather than lose them
            _tally.update(pending)


def _parse(fields: dict[Any, Any]) -> dict[str, dict[str, int]]:
    families: dict[str, dict[str, int]] = {}
    for raw_field, raw_value in fields.items():
        field = raw_field.decode() if isinstance(raw_field, bytes) else str(raw_field)
        family, _, event = field.rpartition(":")
        families.setdefault(family, dict.fromkeys(EVENTS, 0))[event] = int(raw_value)
    return families


def _with_rates(families: dict[str, dict[str, int]]) -> dict[str, Any]:
    overall = dict.fromkeys(EVENTS, 0)
    out: dict[str, Any] = {}
    for name, counts in sorted(families.items()):
        if name.startswith("_"):
            continue
        for event in EVENTS:
            overall[event] += counts.get(event, 0)
        out[name] = {**counts, "hit_rate": hit_rate(counts)}
    return {"families": out, "overall": {**overall, "hit_rate": hit_rate(overall)}}


def hit_rate(counts: dict[str, int]) -> float | None:
    hits = counts.get("hit", 0) + counts.get("local_hit", 0) + counts.get("stale", 0)
    lookups = hits + counts.get("miss", 0)
    return round(hits / lookups, 4) if lookups else None


def snapshot() -> dict[str, Any]:
    """Counters and hit rates per family and overall, with their scope."""
    from mvpvalidator.cache.backend import CacheUnavailable, call, is_shared, redis_client

    if not is_shared():
        with _lock:
            families = _parse({f"{f}:{e}": n for (f, e), n in _process_totals.items()})
        return {
            "scope": "process",
            "note": "local-memory cache: counts cover this process only",
            "backend_errors": _process_totals[("_backend", "error")],
            **_with_rates(families),
        }
    flush()
    try:
        fields = call(lambda: redis_client().hgetall(_totals_key()))
    except CacheUnavailable:
        with _lock:
            fields = {f"{f}:{e}": n for (f, e), n in _process_totals.items()}
        result = _with_rates(_parse(fields))
        return {"scope": "process", "note": "Redis unavailable: counts cover this process only", **result}
    families = _parse(fields)
    return {
        "scope": "shared",
        "backend_errors": families.get("_backend", {}).get("error", 0),
        **_with_rates(families),
    }


def series(*, minutes: int = 60) -> list[dict[str, Any]]:
    """Per-minute hit rates (overall and per family) for the last `minutes` minutes, oldest first."""
    from mvpvalidator.cache.backend import CacheUnavailable, call, is_shared, redis_client

    now_minute = int(time.time() // 60)
    wanted = list(range(now_minute - minutes + 1, now_minute + 1))
    if not is_shared():
        with _lock:
            local = [_process_minutes.get(minute, Counter()) for minute in wanted]
            return [
                {"minute": minute * 60, **_with_rates(_parse({f"{f}:{e}": n for (f, e), n in counts.items()}))}
                for minute, counts in zip(wanted, local, strict=True)
            ]
    flush()

    def read() -> list[Any]:
        pipe = redis_client().pipeline(transaction=False)
        for minute in wanted:
            pipe.hgetall(_minute_key(minute))
        return cast(list[Any], pipe.execute())

    try:
        buckets = call(read)
    except CacheUnavailable:
        return []
    return [{"minute": minute * 60, **_with_rates(_parse(raw))} for minute, raw in zip(wanted, buckets, strict=True)]


def reset() -> None:
    """Forget all counters (tests, and operators starting a fresh measurement)."""
    from mvpvalidator.cache.backend import CacheUnavailable, call, is_shared, redis_client

    with _lock:
        _tally.clear()
        _process_totals.clear()
        _process_minutes.clear()
    if is_shared():
        with contextlib.suppress(CacheUnavailable):
            call(lambda: redis_client().delete(_totals_key()))


background.register("cache.stats", flush=flush, every=FLUSH_EVERY_SECONDS, reset=reset)
