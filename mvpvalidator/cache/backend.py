"""Access to the shared cache backend through the circuit breaker."""

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import hiredis
from django.conf import settings
from django.core.cache import cache

from mvpvalidator import background
from mvpvalidator.cache import stats
from mvpvalidator.cache.breaker import CircuitBreaker

logger = logging.getLogger(__name__)
T = TypeVar("T")

breaker = CircuitBreaker(failure_threshold=3, reset_after_seconds=5.0)
_recovery_hooks: list[Callable[[], None]] = []


class CacheUnavailable(Exception):
    """The shared cache cannot be used right now (Redis down, breaker open)."""


def is_shared() -> bool:
    """Redis (shared by every process) rather than the per-process local memory."""
    return bool(settings.ENABLE_REDIS_CACHE)


def on_recovery(fn: Callable[[], None]) -> Callable[[], None]:
    """Run `fn` after the first successful call once the breaker had failures."""
    _recovery_hooks.append(fn)
    return fn


def _backend_errors() -> tuple[type[BaseException], ...]:
    from django_redis.exceptions import ConnectionInterrupted
    from redis.exceptions import RedisError

    return (ConnectionInterrupted, RedisError, OSError)


def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one backend call through the breaker; raises CacheUnavailable instead of waiting."""
    if not is_shared():
        return fn(*args, **kwargs)
    return _through(breaker, "cache", _recovery_hooks, fn, *args, **kwargs)


def _through(
    guard: CircuitBreaker, what: str, hooks: list[Callable[[], None]], fn: Callable[..., T], *args: Any, **kwargs: Any
) -> T:
    if not guard.allow():
        raise CacheUnavailable("circuit open")
    try:
        result = fn(*args, **kwargs)
    except _backend_errors() as exc:
        guard.record_failure(exc)
        if what == "cache":  # the cache's error count (the events server's show in its breaker)
            stats.record("_backend", "error")
        logger.warning("%s backend call failed: %s", what, exc)
        raise CacheUnavailable(str(exc)) from exc
    except Exception:
        # Redis answered (e.g. INCR of a missing key raises ValueError): the backend is
        # healthy, so a probe must not stay pending and keep the breaker open for good.
        guard.record_success()
        raise
    recovered = guard.consecutive_failures > 0
    guard.record_success()
    if recovered:
        for hook in hooks:
            hook()
    return result


def redis_client() -> Any:
    """The raw Redis client (pipelines, hashes, scripts); only when the cache is shared."""
    from django_redis import get_redis_connection

    return get_redis_connection("default")


# --- One round trip on a kept connection ------------------------------------------------------


class _Kept(threading.local):
    def __init__(self) -> None:
        # id of a client's connection pool -> (that pool, its connection). The pool is held: while
        # kept, its id cannot be another pool's.
        self.connections: dict[int, tuple[Any, Any]] = {}


_kept = _Kept()


def round_trip(*commands: tuple[Any, ...], client: Any = None) -> list[Any]:
    """`commands` sent to Redis in one round trip (to the cache's server, or to `client`'s); their
    replies, in order (an error reply raises). Commands that leave the connection as they found it
    and answer once each (no SELECT, MULTI, WATCH, SUBSCRIBE). Call it through the breaker of that
    server (`call`, `events_call`).

    For the requests' and the flusher's own round trips (the forms' count and binding, the event
    outbox), where redis-py's pipeline object and its pool's checkout (a check for unread data, a
    pid check, locks, its packer's pass over every argument) cost about as much CPU as the round
    trip itself on a small machine (docs/BENCHMARKS.md): the commands are packed by hiredis and
    sent on a connection this thread keeps for that server, outside the client's pool, through
    redis-py's own connection. Any failure drops the connection (its unread replies with it), and
    the next call opens another. Nothing is sent twice: a connection the server closed while it
    was kept (a restart) fails its next call, which the breaker answers as Redis away, rather than
    resend commands that may have run (an INCR sent twice counts twice)."""
    if not commands:
        return []
    pool = (client if client is not None else redis_client()).connection_pool
    entry = _kept.connections.get(id(pool))
    if entry is None:
        entry = _kept.connections[id(pool)] = (pool, pool.connection_class(**pool.connection_kwargs))
    connection = entry[1]
    try:
        connection.send_packed_command(_pack(commands), check_health=False)
        return [connection.read_response() for _ in commands]
    except BaseException:
        _kept.connections.pop(id(pool), None)
        connection.disconnect()
        raise


def _pack(commands: tuple[tuple[Any, ...], ...]) -> list[bytes]:
    # One buffer, one send (hiredis packs str, bytes, int and float arguments).
    return [b"".join([hiredis.pack_command(command) for command in commands])]


def _forget_kept() -> None:
    # A forked child must not share its parent's sockets: it opens its own at first use.
    _kept.connections = {}


background.register("cache.kept_connection", forked=_forget_kept)


def raw_key(name: str) -> str:
    """A key under this deployment's prefix, for raw Redis commands."""
    return cache.make_key(name)


# The key version that state which is not a cache is kept under: the block list, lockout and
# rate-limit counters, the event buffer. Its keys (`<prefix>:state:...`) sit beside the cache's
# (`<prefix>:1:...`), so clearing the cache, which deletes `<prefix>:1:*` in Redis and the same
# keys in local memory, can never reach them.
# (Typed Any: Django's stubs say a version is an int, but any value is formatted into the key.)
STATE_VERSION: Any = "state"


def state_key(name: str) -> str:
    """The Redis key of one piece of state (see STATE_VERSION)."""
    return cache.make_key(name, version=STATE_VERSION)


# --- The event buffer's server ---------------------------------------------------------------
# `EVENTS_REDIS_URL` (by default the cache's `REDIS_URL`). On the cache's server the buffer uses
# the cache's connection and breaker; on a server of its own, a client and a breaker of its own,
# so an outage of one server never sends the other's calls around it.

events_breaker = CircuitBreaker(failure_threshold=3, reset_after_seconds=5.0)
_events_clients: dict[str, Any] = {}


def events_separate() -> bool:
    """Whether the event buffer has a Redis server (or database) other than the cache's."""
    url = settings.EVENTS_REDIS_URL
    return bool(url) and url != settings.REDIS_URL


def events_shared() -> bool:
    """Whether events go through the Redis buffer (else straight to the database)."""
    return events_separate() or is_shared()


def events_guard() -> CircuitBreaker:
    """The breaker the buffer's calls go through."""
    return events_breaker if events_separate() else breaker


def events_redis_client() -> Any:
    """The raw Redis client of the event buffer's server."""
    if not events_separate():
        return redis_client()
    url = settings.EVENTS_REDIS_URL
    client = _events_clients.get(url)
    if client is None:
        import redis

        # The cache's short timeouts: a dead events server costs the flusher milliseconds, and
        # the breaker then sends the events to the database. (The pool reconnects after a fork.)
        client = _events_clients[url] = redis.Redis.from_url(
            url,
            socket_timeout=settings.REDIS_SOCKET_TIMEOUT_SECONDS,
            socket_connect_timeout=settings.REDIS_SOCKET_TIMEOUT_SECONDS,
            max_connections=settings.REDIS_MAX_CONNECTIONS,
        )
    return client


def events_call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`call` for the event buffer's server: through its own breaker when it has a server of
    its own (the cache's recovery hooks are the cache's business)."""
    if not events_separate():
        return call(fn, *args, **kwargs)
    return _through(events_breaker, "events", [], fn, *args, **kwargs)
