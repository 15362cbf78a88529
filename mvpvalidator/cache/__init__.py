"""The project's one cache module: key families and timeouts, namespaced invalidation,
stampede protection, hit-rate counters and a local fallback when Redis is away.

Every key lives in a *family* (its TTL, its counters) and embeds the generation numbers of the
*namespaces* it derives from (a user, a project, the family itself). Invalidating a namespace
increments one counter: O(1), no `KEYS`/`SCAN` on a request path, and every key built from the
old generation is never read again (it expires by TTL).

With Redis (`REDIS_URL`) the counters and values are shared by every process; a circuit breaker
stops calls from waiting on a dead socket, reads fall back to the in-process tier or to the
database, and writes are skipped until Redis answers again. With the embedded default
(local memory) everything works within one process and the stats say so.

    from mvpvalidator import cache as app_cache
    detail = app_cache.get_or_set(app_cache.PROJECT, ("detail", pk), compute,
                                  namespaces=[f"user:{uid}", f"project:{pk}"])
    app_cache.bump(f"project:{pk}")      # after the write commits
"""

import contextlib
import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from django.conf import settings
from django.core.cache import cache

from mvpvalidator.cache import stats
from mvpvalidator.cache.backend import (
    CacheUnavailable,
    breaker,
    call,
    is_shared,
    raw_key,
    redis_client,
    state_key,
)
from mvpvalidator.cache.local import MISSING, LocalTier
from mvpvalidator.cache.namespaces import (
    GENERATION_PREFIX,
    bump,
    bump_soon,
    forget_recent_generations,
    generations,
    read_together,
)

__all__ = [
    "GENERATION_PREFIX",
    "ANALYTICS",
    "FAMILIES",
    "PAGE",
    "PROJECT",
    "PROJECT_LIST",
    "QUERY",
    "CacheUnavailable",
    "Family",
    "breaker",
    "bump",
    "bump_soon",
    "cached_selector",
    "forget_recent_generations",
    "call",
    "family_ns",
    "generations",
    "get_or_set",
    "is_shared",
    "local_tier",
    "raw_key",
    "read_together",
    "redis_client",
    "register_family",
    "state_key",
    "stats",
    "versioned_key",
]

T = TypeVar("T")


# --- Families --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    """A group of keys with one TTL (read from settings) and its own hit/miss counters."""

    name: str
    ttl_setting: str = "DEFAULT_CACHE_TTL_SECONDS"

    def ttl(self) -> int:
        return int(getattr(settings, self.ttl_setting))


PROJECT = Family("project", "PROJECT_CACHE_TTL_SECONDS")
PROJECT_LIST = Family("project_list", "PROJECT_CACHE_TTL_SECONDS")
PAGE = Family("page", "DEFAULT_CACHE_TTL_SECONDS")
QUERY = Family("query", "DEFAULT_CACHE_TTL_SECONDS")
ANALYTICS = Family("analytics", "ANALYTICS_CACHE_TTL_SECONDS")
FAMILIES: dict[str, Family] = {f.name: f for f in (PROJECT, PROJECT_LIST, PAGE, QUERY, ANALYTICS)}


def register_family(family: Family) -> Family:
    """Apps with key families of their own register them here, so stats and `clear_cache` know them."""
    FAMILIES[family.name] = family
    return family


# --- Tuning ------------------------------------------------------------------------------------

# A stale value may be served this long past its TTL while one process refreshes it.
STALE_GRACE_SECONDS = 30
# How long others wait for the process recomputing a missing key before computing themselves.
STAMPEDE_WAIT_SECONDS = 1.0
STAMPEDE_POLL_SECONDS = 0.02
LOCK_SECONDS = 10
local_tier = LocalTier(max_entries=1024)


def family_ns(family: Family) -> str:
    """The namespace every key of `family` derives from (`operators.clear_family` bumps it)."""
    return f"family:{family.name}"


def _digest(parts: Iterable[Any]) -> str:
    text = ":".join(str(p) for p in parts)
    # Keep keys short and free of spaces whatever the arguments are.
    return text if len(text) <= 120 and " " not in text else hashlib.sha256(text.encode()).hexdigest()


def versioned_key(family: Family, parts: Iterable[Any], namespaces: Iterable[str] = (), *, max_age: float = 0.0) -> str:
    names = [family_ns(family), *namespaces]
    gens = generations(names, max_age=max_age)
    stamp = ".".join(f"{g:x}" for g in gens)
    return f"{family.name}:{stamp}:{_digest(parts)}"


# --- Reads and writes -------------------------------------------------------------------------


def _store(family: Family, key: str, value: Any, ttl: int, *, unlock: bool = False) -> None:
    """Store a fresh value (served stale for a grace period past its TTL); with `unlock`, release
    the recompute lock in the same round trip."""
    fresh_until = time.time() + ttl
    timeout = ttl + max(STALE_GRACE_SECONDS, ttl)
    try:
        if is_shared() and unlock:
            call(_store_and_unlock, key, (value, fresh_until), timeout)
        else:
            call(cache.set, key, (value, fresh_until), timeout)
    except CacheUnavailable:
        return
    stats.record(family.name, "set")
    if is_shared():
        local_tier.set(key, value, ttl=ttl)


def _store_and_unlock(key: str, entry: Any, timeout: int) -> None:
    # django-redis writes into the pipeline given as its client (its own encoding of the value).
    pipe = redis_client().pipeline(transaction=False)
    cache.client.set(key, entry, timeout, client=pipe)  # type: ignore[attr-defined]
    cache.client.delete(key + ":lock", client=pipe)  # type: ignore[attr-defined]
    pipe.execute()


def _refresh(family: Family, key: str, compute: Callable[[], T], ttl: int) -> T:
    try:
        value = compute()
    except BaseException:
        with contextlib.suppress(CacheUnavailable):
            call(cache.delete, key + ":lock")
        raise
    _store(family, key, value, ttl, unlock=True)
    if not is_shared():
        cache.delete(key + ":lock")
    return value


def _try_lock(key: str) -> bool:
    try:
        return bool(call(cache.add, key + ":lock", 1, LOCK_SECONDS))
    except CacheUnavailable:
        return True  # nobody can coordinate: compute without waiting


def get_or_set(
    family: Family,
    parts: Iterable[Any],
    compute: Callable[[], T],
    *,
    namespaces: Iterable[str] = (),
    ttl: int | None = None,
    max_age: float = 0.0,
) -> T:
    """The cached value of `compute()`, recomputed by one caller at a time.

    `max_age` > 0 lets the namespaces' generations come from this process's memory when read
    that recently (see `generations`): no round trip at all on a hit of the local tier.

    A stale value (past its TTL, within the grace period) is served while one caller refreshes
    it; a missing value is computed by one caller while the others wait briefly for it. If the
    shared cache is away, `compute()` answers (the database) and nothing is stored.
    """
    ttl = ttl or family.ttl()
    if not settings.ENABLE_QUERY_CACHE:
        stats.record(family.name, "miss")
        return compute()
    try:
        key = versioned_key(family, parts, namespaces, max_age=max_age)
    except CacheUnavailable:
        stats.record(family.name, "miss")
        return compute()

    if is_shared():
        value = local_tier.get(key)
        if value is not MISSING:
            stats.record(family.name, "local_hit")
            return cast(T, value)

    try:
        entry = call(cache.get, key)
    except CacheUnavailable:
        stats.record(family.name, "miss")
        return compute()

    if entry is not None:
        value, fresh_until = entry
        remaining = fresh_until - time.time()
        if remaining > 0:
            stats.record(family.name, "hit")
            if is_shared():
                local_tier.set(key, value, ttl=remaining)
            return cast(T, value)
        if _try_lock(key):
            stats.record(family.name, "miss")
            return _refresh(family, key, compute, ttl)
        stats.record(family.name, "stale")
        return cast(T, value)

    if _try_lock(key):
        stats.record(family.name, "miss")
        return _refresh(family, key, compute, ttl)
    deadline = time.monotonic() + STAMPEDE_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(STAMPEDE_POLL_SECONDS)
        try:
            entry = call(cache.get, key)
        except CacheUnavailable:
            break
        if entry is not None:
            stats.record(family.name, "hit")
            return cast(T, entry[0])
    stats.record(family.name, "miss")
    return compute()


def cached_selector(
    family: Family = QUERY, *, namespaces: Callable[..., Iterable[str]] | None = None, ttl: int | None = None
) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Query caching with TTL for a selector: keyed on the selector and its keyword arguments,
    under the namespaces the selector's result depends on (so a write bumps it away)."""

    def decorate(fn: Callable[..., T]) -> Callable[..., T]:
        qualname = f"{fn.__module__}.{fn.__qualname__}"

        def wrapper(**kwargs: Any) -> T:
            parts = (qualname, *(f"{k}={_arg_key(v)}" for k, v in sorted(kwargs.items())))
            spaces = list(namespaces(**kwargs)) if namespaces else []
            return get_or_set(family, parts, lambda: fn(**kwargs), namespaces=spaces, ttl=ttl)

        wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
        wrapper.__name__ = fn.__name__
        wrapper.__doc__ = fn.__doc__
        return wrapper

    return decorate


def _arg_key(value: Any) -> str:
    pk = getattr(value, "pk", None)
    return f"{type(value).__name__}#{pk}" if pk is not None else repr(value)
