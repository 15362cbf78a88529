"""The cache django-ratelimit counts in: the default cache, reached through the circuit
breaker. While Redis is away a call fails at once instead of waiting on the socket, and
django-ratelimit applies `RATELIMIT_FAIL_OPEN`. The counters are security state, so they are kept
under the state key version, where clearing the cache does not reach."""

import contextlib
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache

from mvpvalidator import cache as app_cache
from mvpvalidator.cache.backend import STATE_VERSION


class BreakerCache(BaseCache):
    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        self.target = location or "default"

    @property
    def _cache(self) -> BaseCache:
        return caches[self.target]

    def add(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        try:
            return bool(app_cache.call(self._cache.add, key, value, timeout, version or STATE_VERSION))
        except app_cache.CacheUnavailable:
            return False

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
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
