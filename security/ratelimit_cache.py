"""The cache django-ratelimit counts in: the default cache, reached through the circuit
breaker. While Redis is away a call fails at once instead of waiting on the socket, and
django-ratelimit applies `RATELIMIT_FAIL_OPEN`. The counters are security state, so they are kept
under the state key version, where clearing the cache does not reach.

On Redis a counted request costs one round trip. django-ratelimit counts with `add(key, 1)` and,
when the window's key was there already, `incr(key)`: two round trips for every request but a
window's first. Here such an `add` is the count itself, the fixed window's one round trip
(`ratelimit.count_in_window`): it answers True when the count is 1 (the key was new, as `add`
would), else False, and keeps the count for this thread so that the `incr` of that key
django-ratelimit sends next answers it without a second round trip. Each request is counted
once either way."""

import contextlib
import threading
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache

from mvpvalidator import cache as app_cache
from mvpvalidator.cache.backend import STATE_VERSION, is_shared
from mvpvalidator.cache.ratelimit import count_in_window

# The count the last `add` made on this thread and did not answer: (its Redis key, the count).
_counted = threading.local()


class BreakerCache(BaseCache):
    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        self.target = location or "default"

    @property
    def _cache(self) -> BaseCache:
        return caches[self.target]

    def redis_key(self, key: str, version: int | None = None) -> str:
        """The key a django-ratelimit counter is kept under in Redis."""
        return self._cache.make_key(key, version=version or STATE_VERSION)

    def add(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        _counted.last = None
        if value == 1 and isinstance(timeout, int) and timeout > 0 and is_shared():
            return self._count(self.redis_key(key, version), timeout)
        try:
            return bool(app_cache.call(self._cache.add, key, value, timeout, version or STATE_VERSION))
        except app_cache.CacheUnavailable:
            return False

    def _count(self, made: str, timeout: int) -> bool:
        try:
            n = app_cache.call(count_in_window, made, expire_seconds=timeout)
        except app_cache.CacheUnavailable:
            return False  # then `incr` fails too, and django-ratelimit applies its policy
        if n == 1:
            return True
        _counted.last = (made, n)
        return False

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        last = getattr(_counted, "last", None)
        if last is not None:
            _counted.last = None
            if delta == 1 and last[0] == self.redis_key(key, version):
                return int(last[1])  # counted by the `add` just before
        try:
            return app_cache.call(self._cache.incr, key, delta, version or STATE_VERSION)
        except app_cache.CacheUnavailable as exc:
            raise ValueError("rate-limit counter unavailable") from exc  # django-ratelimit: no count

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        try:
            return app_cache.call(self._cache.get, key, default, version or STATE_VERSION)
        except app_cache.CacheUnavailable:
            return None

    def set(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        with contextlib.suppress(app_cache.CacheUnavailable):
            app_cache.call(self._cache.set, key, value, timeout, version or STATE_VERSION)

    def delete(self, key: str, version: int | None = None) -> bool:
        try:
            return bool(app_cache.call(self._cache.delete, key, version or STATE_VERSION))
        except app_cache.CacheUnavailable:
            return False

    def touch(self, key: str, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return False

    def has_key(self, key: str, version: int | None = None) -> bool:
        return self.get(key, version=version) is not None

    def clear(self) -> None:
        pass
