"""Access to the shared cache backend through the circuit breaker."""

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache

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
    if not breaker.allow():
        raise CacheUnavailable("circuit open")
    try:
        result = fn(*args, **kwargs)
    except _backend_errors() as exc:
        breaker.record_failure(exc)
        stats.record("_backend", "error")
        logger.warning("cache backend call failed: %s", exc)
        raise CacheUnavailable(str(exc)) from exc
    except Exception:
        # Redis answered (e.g. INCR of a missing key raises ValueError): the backend is
        # healthy, so a probe must not stay pending and keep the breaker open for good.
        breaker.record_success()
        raise
    recovered = breaker.consecutive_failures > 0
    breaker.record_success()
    if recovered:
        for hook in _recovery_hooks:
            hook()
    return result


def redis_client() -> Any:
    """The raw Redis client (pipelines, hashes, scripts); only when the cache is shared."""
    from django_redis import get_redis_connection

    return get_redis_connection("default")


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
