"""Rate-limit counters for the security layer, atomic on Redis and shared by every process.

Two algorithms:
- a fixed window (INCR + EXPIRE NX in one round trip): cheap, for coarse quotas;
- GCRA, the generic cell rate algorithm (one Lua script): a smooth sliding limit with a burst,
  storing a single timestamp per key. https://brandur.org/rate-limiting

When Redis is away (breaker open) the answer says so (`backend="unavailable"`) and the caller's
policy decides: `fail_open=True` lets the request through, `False` refuses it.
"""

import contextlib
import math
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

from django.core.cache import cache

from mvpvalidator.cache.backend import (
    STATE_VERSION,
    CacheUnavailable,
    call,
    is_shared,
    redis_client,
    round_trip,
    state_key,
)

Backend = Literal["redis", "local", "unavailable"]


@dataclass(frozen=True)
class RateLimitResult:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # seconds until a refused caller may try again (0 when allowed)
    reset_after: int  # seconds until the limit is fully restored
    backend: Backend


def _unavailable(limit: int, fail_open: bool) -> RateLimitResult:
    return RateLimitResult(fail_open, limit, limit if fail_open else 0, 0 if fail_open else 1, 0, "unavailable")


def window_count_commands(redis_key: str, *, expire_seconds: int) -> tuple[tuple[Any, ...], ...]:
    """One more on a window's counter (a raw Redis key), as commands for `round_trip`: INCR, then
    EXPIRE NX (the key gets its expiry once, when the INCR created it). The first of the two
    replies is the count after. Not a transaction: each command is atomic on its own, and nothing
    here needs them together."""
    return (("INCR", redis_key), ("EXPIRE", redis_key, expire_seconds, "NX"))


def count_in_window(redis_key: str, *, expire_seconds: int) -> int:
    """One more on a window's counter, its count after (`window_count_commands`), in one round
    trip of its own. Call it through the breaker (`call`)."""
    return int(round_trip(*window_count_commands(redis_key, expire_seconds=expire_seconds))[0])


def fixed_window(key: str, *, limit: int, window_seconds: int, fail_open: bool = True) -> RateLimitResult:
    """Count one hit in the current window of `window_seconds` (`count_in_window` on Redis)."""
    now = time.time()
    window = int(now // window_seconds)
    reset_after = max(1, math.ceil((window + 1) * window_seconds - now))
    name = f"rl:fw:{key}:{window}"
    if is_shared():
        try:
            count = call(count_in_window, state_key(name), expire_seconds=window_seconds + 1)
        except CacheUnavailable:
            return _unavailable(limit, fail_open)
        backend: Backend = "redis"
    else:
        # Counters are security state: kept under the state version, out of the cache's reach.
        cache.add(name, 0, window_seconds + 1, version=STATE_VERSION)
        count = cache.incr(name, version=STATE_VERSION)
        backend = "local"
    allowed = count <= limit
    return RateLimitResult(allowed, limit, max(0, limit - count), 0 if allowed else reset_after, reset_after, backend)


# GCRA: the key holds the "theoretical arrival time" (TAT) in ms. A request is allowed when
# TAT - now stays within the burst tolerance; each allowed request moves TAT one interval on.
_GCRA_LUA = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
if new_tat - now > tolerance then
  return {0, tat - now}
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil(new_tat - now))
return {1, new_tat - now}
"""
_local_tat: dict[str, float] = {}
_local_lock = threading.Lock()


def _gcra_local(name: str, now_ms: float, interval: float, tolerance: float) -> tuple[int, float]:
    with _local_lock:
        tat = max(_local_tat.get(name, now_ms), now_ms)
        new_tat = tat + interval
        if new_tat - now_ms > tolerance:
            return 0, tat - now_ms
        _local_tat[name] = new_tat
        if len(_local_tat) > 100_000:  # bound memory: drop keys whose limit is fully restored
            for stale in [k for k, v in _local_tat.items() if v <= now_ms]:
                del _local_tat[stale]
        return 1, new_tat - now_ms


def gcra(key: str, *, limit: int, period_seconds: float, fail_open: bool = True) -> RateLimitResult:
    """Allow `limit` requests per `period_seconds`, smoothly (a burst of `limit` at most)."""
    now_ms = time.time() * 1000
    interval = period_seconds * 1000 / limit
    tolerance = period_seconds * 1000
    name = f"rl:gcra:{key}"
    if is_shared():
        try:
            script = (_GCRA_LUA, 1, state_key(name), now_ms, interval, tolerance)
            allowed, ahead = call(lambda: redis_client().eval(*script))
        except CacheUnavailable:
            return _unavailable(limit, fail_open)
        backend: Backend = "redis"
    else:
        allowed, ahead = _gcra_local(name, now_ms, interval, tolerance)
        backend = "local"
    ahead = float(ahead)
    if allowed:
        remaining = max(0, int((tolerance - ahead) // interval))
        return RateLimitResult(True, limit, remaining, 0, math.ceil(ahead / 1000), backend)
    retry_after = max(1, math.ceil((ahead + interval - tolerance) / 1000))
    return RateLimitResult(False, limit, 0, retry_after, math.ceil(ahead / 1000), backend)


def reset(key: str) -> None:
    """Forget a key's counters (a successful login resets its failure count)."""
    names = [f"rl:gcra:{key}"]
    with _local_lock:
        _local_tat.pop(names[0], None)
    with contextlib.suppress(CacheUnavailable):
        call(cache.delete_many, names, version=STATE_VERSION)
