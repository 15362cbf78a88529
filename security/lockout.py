"""Login lockout, for the session login and the JWT token endpoint alike (both authenticate
through `security.backends.LockoutBackend`).

An attempt is counted *before* the password is checked, with an atomic increment per account
and per client address; once either count passes `MAX_LOGIN_ATTEMPTS` within
`LOGIN_LOCKOUT_MINUTES`, further attempts are refused with 429 without checking anything. So a
burst of parallel wrong guesses gets at most `MAX_LOGIN_ATTEMPTS` of them checked. A successful
login resets both counts; otherwise they lapse with the window. When Redis is away the counts
are kept in this process, so guessing stays bounded during an outage.
"""

import contextlib
import hashlib
import math
import threading
import time
from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework.exceptions import Throttled

if TYPE_CHECKING:
    from security.limits import Refusal

from mvpvalidator import cache as app_cache

_local: dict[str, tuple[float, int]] = {}  # key -> (window end, count) while Redis is away
_local_lock = threading.Lock()
_LOCAL_MAX = 10_000


class LockedOut(Throttled):
    """Too many login attempts: 429 with Retry-After (DRF answers it; the login page too)."""

    default_detail = "Too many login attempts. Try again later."
    default_code = "login_locked"

    def __init__(self, wait: int) -> None:
        super().__init__(wait=wait, detail=f"Too many login attempts. Try again in {wait} seconds.")
        self.retry_after = wait

    def refusal(self) -> "Refusal":
        """The same refusal the rate limits give, for the 429's headers."""
        from security.limits import Refusal

        wait = self.retry_after
        return Refusal(
            limit=settings.MAX_LOGIN_ATTEMPTS, remaining=0, retry_after=wait, reset_after=wait, scope="login"
        )


def _keys(identifier: str, ip: str) -> list[str]:
    account = hashlib.sha256(identifier.strip().lower().encode()).hexdigest()[:32]
    keys = [f"login:acct:{account}"]
    if ip:
        keys.append(f"login:ip:{ip}")
    return keys


def _window() -> int:
    return max(1, settings.LOGIN_LOCKOUT_MINUTES * 60)


def _hit_shared(key: str) -> tuple[int, int]:
    """(count after this attempt, seconds left in its window), atomically, in Redis."""
    seconds = _window()

    def hit() -> tuple[int, int]:
        pipe = app_cache.redis_client().pipeline(transaction=True)
        pipe.incr(app_cache.state_key(key))
        pipe.expire(app_cache.state_key(key), seconds, nx=True)
        pipe.ttl(app_cache.state_key(key))
        count, _, ttl = pipe.execute()
        return int(count), int(ttl) if ttl and ttl > 0 else seconds

    return app_cache.call(hit)


def _hit_local(key: str) -> tuple[int, int]:
    now = time.monotonic()
    with _local_lock:
        ends, count = _local.get(key, (now + _window(), 0))
        if ends <= now:
            ends, count = now + _window(), 0
            if len(_local) > _LOCAL_MAX:  # lapsed windows of other keys go with this one's
                for stale in [k for k, (end, _) in _local.items() if end <= now]:
                    del _local[stale]
        count += 1
        _local[key] = (ends, count)
    return count, max(1, math.ceil(ends - now))


def attempt(*, identifier: str, ip: str) -> int | None:
    """Count one login attempt; the seconds to wait when it must be refused, else None."""
    refuse_for = 0
    for key in _keys(identifier, ip):
        # The counters are security state, not cache: kept outside the cache's key space (in
        # Redis) or in this process (embedded mode), so clearing the cache cannot reset them.
        try:
            count, left = _hit_shared(key) if app_cache.is_shared() else _hit_local(key)
        except app_cache.CacheUnavailable:
            count, left = _hit_local(key)
        if count > settings.MAX_LOGIN_ATTEMPTS:
            refuse_for = max(refuse_for, left)
    return refuse_for or None


def first_refusal(*, identifier: str, ip: str) -> bool:
    """Whether this refusal starts a lockout (one event and strike per lockout, not per try)."""
    marker = f"login:locked:{_keys(identifier, ip)[0]}"
    if not app_cache.is_shared():
        with _local_lock:
            now = time.monotonic()
            if _local.get(marker, (0.0, 0))[0] > now:
                return False
            _local[marker] = (now + _window(), 1)
            return True
    try:
        client = app_cache.redis_client()
        return bool(app_cache.call(client.set, app_cache.state_key(marker), 1, ex=_window(), nx=True))
    except app_cache.CacheUnavailable:
        return True


def succeeded(*, identifier: str, ip: str) -> None:
    keys = _keys(identifier, ip)
    if app_cache.is_shared():
        with contextlib.suppress(app_cache.CacheUnavailable):
            app_cache.call(app_cache.redis_client().delete, *(app_cache.state_key(k) for k in keys))
    with _local_lock:
        for key in keys:
            _local.pop(key, None)


def reset() -> None:
    with _local_lock:
        _local.clear()
