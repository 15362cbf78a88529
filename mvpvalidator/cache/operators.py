"""Operator-only cache operations: pattern counts and deletes (SCAN, never KEYS), clearing a
family or the whole app prefix (never FLUSHALL), and backend facts. Not for request paths."""

import fnmatch
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache

from mvpvalidator.cache import FAMILIES, bump, family_ns, local_tier
from mvpvalidator.cache.backend import CacheUnavailable, breaker, call, is_shared, redis_client


def _local_keys() -> list[str]:
    # LocMemCache keeps "<prefix>:<version>:<key>" in an OrderedDict; strip the prefix.
    prefix = cache.make_key("")
    return [k[len(prefix) :] for k in list(getattr(cache, "_cache", {})) if k.startswith(prefix)]


def count_pattern(pattern: str) -> int:
    if is_shared():
        return call(lambda: sum(1 for _ in cast(Any, cache).iter_keys(pattern, itersize=1000)))
    return sum(1 for k in _local_keys() if fnmatch.fnmatchcase(k, pattern))


def delete_pattern(pattern: str) -> int:
    local_tier.clear()
    if is_shared():
        return int(call(lambda: cast(Any, cache).delete_pattern(pattern, itersize=1000)) or 0)
    keys = [k for k in _local_keys() if fnmatch.fnmatchcase(k, pattern)]
    cache.delete_many(keys)
    return len(keys)


def clear_family(name: str) -> None:
    """Invalidate every key of one family: one generation bump."""
    if name not in FAMILIES:
        raise KeyError(name)
    bump(family_ns(FAMILIES[name]))
    local_tier.clear()


def clear_all() -> int:
    """Delete every key under this deployment's prefix (other apps on the same Redis are untouched)."""
    return delete_pattern("*")


def backend_info() -> dict[str, Any]:
    snapshot = breaker.snapshot()
    info: dict[str, Any] = {
        "backend": "redis" if is_shared() else "local-memory",
        "key_prefix": settings.CACHE_KEY_PREFIX,
        "breaker": {
            "state": snapshot.state,
            "consecutive_failures": snapshot.consecutive_failures,
            "trips": snapshot.trips,
            "last_error": snapshot.last_error,
        },
        "local_tier_entries": len(local_tier),
    }
    if not is_shared():
        info["keys"] = len(_local_keys())
        return info
    try:
        client = redis_client()
        memory = call(lambda: client.info("memory"))
        info.update(
            used_memory_bytes=memory.get("used_memory"),
            used_memory_human=memory.get("used_memory_human"),
            maxmemory_policy=memory.get("maxmemory_policy"),
            db_keys=call(client.dbsize),
        )
    except CacheUnavailable as exc:
        info["error"] = str(exc)
    return info
