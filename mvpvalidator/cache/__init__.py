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
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from django.conf import settings
from django.core.cache import cache

from mvpvalidator import background
from mvpvalidator.cache import stats
from mvpvalidator.cache.backend import (
    CacheUnavailable,
    breaker,
    call,
    is_shared,
    on_recovery,
    raw_key,
    redis_client,
    round_trip,
    state_key,
)
from mvpvalidator.cache.local import MISSING, LocalTier

__all__ = [
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
    "round_trip",
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
# Generations are seeded from the clock (microseconds), so a generation lost with its key
# (eviction, a Redis restart) comes back larger than any before it: old keys stay unreachable.
GENERATION_PREFIX = "gen:"

local_tier = LocalTier(max_entries=1024)
_pending_bumps: set[str] = set()
_pending_lock = threading.Lock()


# --- Namespaces and generations ---------------------------------------------------------------


def _seed() -> int:
    return time.time_ns() // 1000


# Generations this process read lately: {key: (monotonic time read, generation)}, for readers
# that accept a value up to `max_age` seconds behind another process's write (the public pages).
_recent_generations: dict[str, tuple[float, int]] = {}
RECENT_GENERATIONS_KEPT = 10_000


def generations(names: Iterable[str], *, max_age: float = 0.0) -> list[int]:
    """Current generation of each namespace, in one round trip (plus one per namespace never seen).

    With `max_age`, generations this process read less than that many seconds ago are used
    without asking Redis: a write by another process shows up to `max_age` late (a write by
    this one at once, since `bump` forgets what it bumps).

    Inside `read_together`, each generation is read once for the block, together with the
    names announced there (and fresh: `max_age` is not used)."""
    keys = [GENERATION_PREFIX + n for n in names]
    batch = _read_together.get()
    if batch is not None:
        if any(k not in batch.read for k in keys):
            unread = [k for k in dict.fromkeys([*keys, *batch.announced]) if k not in batch.read]
            batch.read.update(zip(unread, _read_generations(unread), strict=True))
        return [batch.read[k] for k in keys]
    if max_age > 0:
        now = time.monotonic()
        recent = [_recent_generations.get(k) for k in keys]
        if all(r is not None and now - r[0] < max_age for r in recent):
            return [r[1] for r in recent if r is not None]
    found = _read_generations(keys)
    if max_age > 0:
        if len(_recent_generations) > RECENT_GENERATIONS_KEPT:
            _recent_generations.clear()
        read_at = time.monotonic()
        for key, generation in zip(keys, found, strict=True):
            _recent_generations[key] = (read_at, generation)
    return found


def _read_generations(keys: list[str]) -> list[int]:
    # A namespace with a bump of this process not sent yet reads as its provisional generation:
    # this process sees its own write at once, under a number no other process reads. Taken
    # before the read too: a tick that sends the bump meanwhile must not leave this read with
    # the number from before it.
    queued = _queued_entries(keys)
    found = call(cache.get_many, keys)
    for key in keys:
        if key not in found:
            seed = _seed()
            found[key] = seed if call(cache.add, key, seed, None) else (call(cache.get, key) or seed)
    if not queued and not _soon:
        return [int(found[k]) for k in keys]
    queued.update(_queued_entries(keys))
    return [queued.get(k, int(found[k])) for k in keys]


@dataclass
class _Batch:
    announced: list[str]
    read: dict[str, int]


_read_together: ContextVar[_Batch | None] = ContextVar("read_together", default=None)


@contextlib.contextmanager
def read_together(names: Iterable[str]) -> Iterator[None]:
    """Within the block (one request), the first generations read also reads the namespaces
    `names`, and no generation is read twice: a request whose lookups need several namespaces,
    known before the first lookup, pays one round trip for all of them (the API's project detail:
    its owner's identity and the project's detail). A bump inside the block is seen at once:
    `bump` drops what it bumps from the block's reads. A block inside another joins it (one set
    of reads, so a bump is dropped from the only one)."""
    announced = [GENERATION_PREFIX + n for n in names]
    outer = _read_together.get()
    if outer is not None:
        outer.announced.extend(k for k in announced if k not in outer.announced)
        yield
        return
    batch = _Batch(announced=announced, read={})
    token = _read_together.set(batch)
    try:
        yield
    finally:
        _read_together.reset(token)


def family_ns(family: Family) -> str:
    """The namespace every key of `family` derives from (`operators.clear_family` bumps it)."""
    return f"family:{family.name}"


def forget_recent_generations() -> None:
    _recent_generations.clear()


def bump(*names: str) -> None:
    """Invalidate everything derived from these namespaces: one increment each, O(1), all of them
    in one round trip.

    If the shared cache is away the bump is remembered and replayed as soon as it answers, so
    a write during an outage does not leave stale reads behind once it is back.
    """
    keys = [GENERATION_PREFIX + name for name in names]
    batch = _read_together.get()
    for key in keys:
        _recent_generations.pop(key, None)
        if batch is not None:
            batch.read.pop(key, None)
    try:
        if is_shared():
            # This increment comes after every write whose `bump_soon` is queued now: once it is
            # done it stands for them (a bump queued meanwhile stays queued).
            queued = _queued_entries(keys)
            call(_bump_shared, keys)
            _drop_sent(queued)
        else:
            for key in keys:
                try:
                    cache.incr(key)
                except ValueError:  # never seen: start a fresh generation
                    cache.set(key, _seed(), None)
    except CacheUnavailable:
        with _pending_lock:
            _pending_bumps.update(names)


# Bumps queued by `bump_soon`, not yet sent: {generation key: its provisional generation}. Each
# bump draws a new one, so an unchanged number means no bump was queued since it was read.
_soon: dict[str, int] = {}
_soon_lock = threading.Lock()
# Provisional generations are drawn above every real one (those are microseconds since 1970,
# below 2**52), at random: no two processes, and no two writes, read the same provisional number.
_PROVISIONAL_FLOOR = 1 << 62


def bump_soon(*names: str) -> None:
    """`bump`, sent by this process's flusher within a tick (50 ms) instead of by the caller, the
    bumps of a tick coalesced into one round trip: for writes on the visitors' path (a signup),
    where a round trip of its own per write was a large share of the request.

    Until it is sent, this process reads each of these namespaces under a provisional generation
    of its own, drawn anew by every bump: it sees its writes at once, and what it caches then is
    read by no other process (nor after its next write). The others see the write a tick later at
    most, as the public pages see one `max_age` late. At exit the queue is sent; with Redis away
    it stays queued (and provisional here) until a tick finds Redis answering. Without Redis (one
    process) it is `bump`."""
    if not is_shared():
        bump(*names)
        return
    keys = [GENERATION_PREFIX + name for name in names]
    batch = _read_together.get()
    # One number per call, shared by the namespaces of that call (a draw is a system call on the
    # signup's path): each key's number is still new at each of its bumps, which is what counts.
    provisional = _PROVISIONAL_FLOOR + secrets.randbits(61)
    with _soon_lock:
        for key in keys:
            _soon[key] = provisional
            _recent_generations.pop(key, None)
            if batch is not None:
                batch.read.pop(key, None)
    background.ensure_started()


def _queued_entries(keys: Iterable[str] | None = None) -> dict[str, int]:
    """The queued bumps (of `keys`, or all): {generation key: provisional generation}."""
    if not _soon:
        return {}
    with _soon_lock:
        return dict(_soon) if keys is None else {k: _soon[k] for k in keys if k in _soon}


def _drop_sent(sent: dict[str, int]) -> None:
    """Forget the queued bumps an increment stood for: each entry only if it is still the one
    taken before the increment (a bump queued since redraws it, and is sent on the next tick)."""
    if not sent:
        return
    with _soon_lock:
        for key, entry in sent.items():
            if _soon.get(key) == entry:
                del _soon[key]


def _send_soon() -> None:
    queued = _queued_entries()
    if not queued:
        return
    with contextlib.suppress(CacheUnavailable):  # kept: the next tick sends them
        call(_bump_shared, list(queued))
        _drop_sent(queued)


def _forget_soon() -> None:
    with _soon_lock:
        _soon.clear()


# A worker forked from a preloaded parent starts with nothing queued: the parent sends its own,
# and a provisional generation is never shared by two processes.
background.register("cache.bump_soon", flush=_send_soon, reset=_forget_soon, forked=_forget_soon)


def _bump_shared(keys: list[str]) -> None:
    # A generation never seen (or lost with its key) starts from the clock, then goes up by
    # one: SET NX and INCR in one pipeline, plain commands (django-redis's incr is a Lua script
    # that asks first whether the key exists). Generations are stored as plain integers, which
    # is how the cache reads them back.
    pipe = redis_client().pipeline(transaction=False)
    for key in keys:
        made = raw_key(key)
        pipe.set(made, _seed(), nx=True)
        pipe.incr(made)
    pipe.execute()


@on_recovery
def _replay_pending_bumps() -> None:
    with _pending_lock:
        pending = list(_pending_bumps)
        _pending_bumps.clear()
    if pending:
        bump(*pending)


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


def _store(family: Family, key: str, value: Any, ttl: int) -> None:
    fresh_until = time.time() + ttl
    try:
        call(cache.set, key, (value, fresh_until), ttl + max(STALE_GRACE_SECONDS, ttl))
    except CacheUnavailable:
        return
    stats.record(family.name, "set")
    if is_shared():
        local_tier.set(key, value, ttl=ttl)


def _refresh(family: Family, key: str, compute: Callable[[], T], ttl: int) -> T:
    try:
        value = compute()
        _store(family, key, value, ttl)
        return value
    finally:
        with contextlib.suppress(CacheUnavailable):
            call(cache.delete, key + ":lock")


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
