"""Request traces: for one request id, what the platform recorded about that request (route,
status, timing, queries and the slow ones, cache lookups, external calls, security events,
the error) so staff can follow it on the dashboard's request timeline.

Kept for every request that failed, was slow, ran a slow query, raised a security event or
logged an error, and for a `TRACE_SAMPLE_RATE` share of the rest. Like the counters, a trace
costs the request no round trip: it is buffered in memory and written by the process's
background flusher (`mvpvalidator.background`), to Redis with a TTL of `TRACE_RETENTION_HOURS`
(plus a capped list of the most recent), or to a bounded in-process store in the embedded mode.
"""

import contextlib
import json
import random
import threading
import time
from collections import OrderedDict
from typing import Any, NamedTuple

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from monitoring import context, metrics
from mvpvalidator import background

RECENT_LIMIT = 500  # ids in the "recent traces" list (and traces kept in the local store)
MAX_NOTES = 100  # timeline entries per request: a loop of external calls cannot grow a trace unbounded
MAX_SLOW_QUERIES = 20
MAX_PATH = 300

_pending: list[dict[str, Any]] = []
_pending_lock = threading.Lock()
_local: OrderedDict[str, dict[str, Any]] = OrderedDict()
_local_lock = threading.Lock()


def note(kind: str, *, keep: bool = False, **data: Any) -> None:
    """Add an entry to the current request's timeline (no-op outside a request)."""
    ctx = context.current()
    if ctx is None or not ctx.started:
        return
    if ctx.notes is None:
        ctx.notes = []
    if len(ctx.notes) < MAX_NOTES:
        ctx.notes.append({"kind": kind, "at_ms": round((time.perf_counter() - ctx.started) * 1000, 2), **data})
    if keep and not ctx.keep:
        ctx.keep = kind


def note_cache(family: str, event: str, n: int = 1) -> None:
    """Count a cache lookup against the current request (an observer of the cache stats)."""
    ctx = context.current()
    if ctx is None or not ctx.started:
        return
    if ctx.cache_counts is None:
        ctx.cache_counts = {}
    name = f"{family}:{event}"
    ctx.cache_counts[name] = ctx.cache_counts.get(name, 0) + n


class _Rules(NamedTuple):
    slow_ms: float
    sample_rate: float


# The two settings every request's verdict reads, read once (and again after a change: tests).
_rules: _Rules | None = None
_RULE_SETTINGS = frozenset({"SLOW_OPERATION_THRESHOLD_MS", "TRACE_SAMPLE_RATE"})


def _current_rules() -> _Rules:
    global _rules
    if _rules is None:
        _rules = _Rules(slow_ms=settings.SLOW_OPERATION_THRESHOLD_MS, sample_rate=settings.TRACE_SAMPLE_RATE)
    return _rules


@receiver(setting_changed)
def _forget_rules(*, setting: str, **kwargs: Any) -> None:
    global _rules
    if setting in _RULE_SETTINGS:
        _rules = None


def reason_to_keep(ctx: context.RequestContext, *, status: int, ms: float) -> str:
    """Why this request's trace is kept ("" when it is not)."""
    if ctx.keep:
        return ctx.keep
    if status >= 500:
        return "server_error"
    slow_ms, rate = _rules or _current_rules()
    if ms >= slow_ms:
        return "slow"
    if ctx.slow_queries:
        return "slow_query"
    if rate > 0 and random.random() < rate:  # noqa: S311 - sampling, not a secret
        return "sampled"
    return ""


def finish(ctx: context.RequestContext, *, path: str, status: int, ms: float) -> None:
    """Called by the monitoring middleware once the response is known."""
    reason = reason_to_keep(ctx, status=status, ms=ms)
    if not reason:
        return
    cache: dict[str, dict[str, int]] = {}
    for name, n in (ctx.cache_counts or {}).items():
        family, _, event = name.rpartition(":")
        cache.setdefault(family, {})[event] = n
    trace = {
        "id": ctx.request_id,
        "at": time.time() - ms / 1000,
        "method": ctx.method,
        # The path only: a query string may carry an email address or a token.
        "path": path[:MAX_PATH],
        "route": ctx.route,
        "status": status,
        "ms": round(ms, 2),
        "user_id": ctx.user_id,
        "project_id": ctx.project_id,
        "ip": ctx.client_ip,
        "queries": ctx.query_count,
        "query_ms": round(ctx.query_ms, 2),
        # SQL without its parameters: they may be personal data.
        "slow_queries": [
            {"sql": q["sql"], "ms": round(q["ms"], 2), "call_site": q.get("call_site", "")}
            for q in ctx.slow_queries[:MAX_SLOW_QUERIES]
        ],
        "cache": cache,
        "notes": ctx.notes or [],
        "reason": reason,
    }
    with _pending_lock:
        _pending.append(trace)
    background.ensure_started()


def _key(name: str) -> str:
    from mvpvalidator.cache import raw_key

    return raw_key(f"mon:trace:{name}")


def flush() -> None:
    """Write the buffered traces (on the flusher thread; kept for the next try if Redis is away)."""
    global _pending
    from mvpvalidator.cache import CacheUnavailable, call, is_shared, redis_client

    with _pending_lock:
        taken, _pending = _pending, []
    if not taken:
        return
    if not is_shared():
        with _local_lock:
            for trace in taken:
                _local[trace["id"]] = trace
                _local.move_to_end(trace["id"])
            while len(_local) > RECENT_LIMIT:
                _local.popitem(last=False)
        return
    ttl = max(1, settings.TRACE_RETENTION_HOURS) * 3600

    def send() -> None:
        pipe = redis_client().pipeline(transaction=False)
        for trace in taken:
            pipe.set(_key(f"id:{trace['id']}"), json.dumps(trace, default=str), ex=ttl)
            pipe.lpush(_key("recent"), trace["id"])
        pipe.ltrim(_key("recent"), 0, RECENT_LIMIT - 1)
        pipe.expire(_key("recent"), ttl)
        pipe.execute()

    try:
        call(send)
    except CacheUnavailable:
        with _pending_lock:
            _pending[:0] = taken[-RECENT_LIMIT:]


def get(request_id: str) -> dict[str, Any] | None:
    """The trace of one request, or None when it was not kept or has expired."""
    from mvpvalidator.cache import CacheUnavailable, call, is_shared, redis_client

    flush()
    if not is_shared():
        with _local_lock:
            return _local.get(request_id)
    try:
        raw = call(lambda: redis_client().get(_key(f"id:{request_id}")))
    except CacheUnavailable:
        return None
    return json.loads(raw) if raw else None


def recent(limit: int = 20) -> list[dict[str, Any]]:
    """The most recently kept traces, newest first (one round trip for the ids, one for them)."""
    from mvpvalidator.cache import CacheUnavailable, call, is_shared, redis_client

    flush()
    if not is_shared():
        with _local_lock:
            return list(reversed(list(_local.values())[-limit:]))

    def read() -> list[Any]:
        client = redis_client()
        ids = [i.decode() for i in client.lrange(_key("recent"), 0, limit * 2)]
        seen = list(dict.fromkeys(ids))[:limit]
        return client.mget([_key(f"id:{i}") for i in seen]) if seen else []

    try:
        raws = call(read)
    except CacheUnavailable:
        return []
    return [json.loads(r) for r in raws if r]


def reset() -> None:
    """Forget every trace (tests)."""
    global _pending
    from mvpvalidator.cache import CacheUnavailable, call, is_shared, redis_client

    with _pending_lock:
        _pending = []
    with _local_lock:
        _local.clear()
    if is_shared():
        with contextlib.suppress(CacheUnavailable):
            call(lambda: redis_client().delete(_key("recent")))


background.register("monitoring.traces", flush=flush, every=metrics.FLUSH_EVERY_SECONDS, reset=reset)
