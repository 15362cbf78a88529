"""The active block list, as the request path reads it: a dict in this process's memory.

A block is written to the database (the audit trail, `BlockedIP`), to a Redis hash shared by
every process, and to this process's mirror at once. Every process re-reads the hash about once
a second on the monitoring flusher thread, so a block made by one worker holds in all of them
within a second, and checking an address costs a request one dictionary lookup. When Redis is
away the mirror is reloaded from the database instead.
"""

import logging
import threading
import time

logger = logging.getLogger(__name__)

_HASH = "sec:blocked"
_lock = threading.Lock()
_blocked: dict[str, float] = {}  # ip -> expiry (epoch seconds)
_loaded = False
# This process's own writes of the last few seconds, re-applied over every reload: a reload that
# read the hash just before a block's HSET landed would otherwise drop the block from the
# mirror until the next reload (a blocked address let through for up to a second).
_LOCAL_WRITE_GRACE_SECONDS = 5.0
_recent: dict[str, tuple[float, float | None]] = {}  # ip -> (monotonic time, expiry or None: removed)
_retry_at = 0.0  # after a failed first load, the request path retries at most every few seconds


def _hash_key() -> str:
    from mvpvalidator.cache import state_key

    return state_key(_HASH)


def blocked_until(ip: str) -> float | None:
    """The expiry of an active block on `ip`, or None."""
    if not _loaded and time.monotonic() >= _retry_at:
        sync()
    expires = _blocked.get(ip)
    if expires is None:
        return None
    if expires <= time.time():
        with _lock:
            _blocked.pop(ip, None)
        return None
    return expires


def add(ip: str, expires_at: float) -> None:
    from mvpvalidator.cache import CacheUnavailable, call, is_shared, redis_client

    with _lock:
        _blocked[ip] = expires_at
        _recent[ip] = (time.monotonic(), expires_at)
    if is_shared():  # embedded mode: one process, the mirror is all there is
        try:
            call(lambda: redis_client().hset(_hash_key(), ip, repr(expires_at)))
        except CacheUnavailable:
            logger.warning("block of %s not shared yet: Redis unavailable (the database holds it)", ip)


def remove(ip: str) -> None:
    from mvpvalidator.cache import CacheUnavailable, call, is_shared, redis_client

    with _lock:
        _blocked.pop(ip, None)
        _recent[ip] = (time.monotonic(), None)
    if is_shared():
        try:
            call(lambda: redis_client().hdel(_hash_key(), ip))
        except CacheUnavailable:
            logger.warning("unblock of %s not shared yet: Redis unavailable", ip)


def sync(*, periodic: bool = False) -> None:
    """Reload the mirror from Redis (or from the database when Redis is away). In the embedded
    mode there is one process and the mirror is the truth: it is loaded from the database once."""
    global _loaded
    from mvpvalidator.cache import CacheUnavailable, call, is_shared, redis_client

    now = time.time()
    fresh: dict[str, float] | None = None
    if is_shared():
        try:
            raw = call(lambda: redis_client().hgetall(_hash_key()))
            fresh = {k.decode(): float(v) for k, v in raw.items()}
            expired = [ip for ip, exp in fresh.items() if exp <= now]
            if expired:
                call(lambda: redis_client().hdel(_hash_key(), *expired))
        except CacheUnavailable:
            fresh = None
    elif periodic:
        return
    if fresh is None:
        fresh = _from_database(close=periodic)
        if fresh is None:
            global _retry_at
            _retry_at = time.monotonic() + 5.0
            return  # keep what we have
    with _lock:
        _blocked.clear()
        _blocked.update({ip: exp for ip, exp in fresh.items() if exp > now})
        cutoff = time.monotonic() - _LOCAL_WRITE_GRACE_SECONDS
        for ip, (written, expires) in list(_recent.items()):
            if written < cutoff:
                del _recent[ip]
            elif expires is None:
                _blocked.pop(ip, None)
            elif expires > now:
                _blocked[ip] = expires
    _loaded = True


def _from_database(*, close: bool) -> dict[str, float] | None:
    from django.db import connection
    from django.utils import timezone

    from security.models import BlockedIP

    try:
        rows = BlockedIP.objects.filter(unblocked_at__isnull=True, expires_at__gt=timezone.now())
        return {ip: expires.timestamp() for ip, expires in rows.values_list("ip", "expires_at")}
    except Exception:
        logger.warning("could not load the block list from the database", exc_info=True)
        return None
    finally:
        if close:  # the flusher thread's own connection
            connection.close()


def reset() -> None:
    """Forget the mirror (tests)."""
    global _loaded
    with _lock:
        _blocked.clear()
        _recent.clear()
    _loaded = True


def snapshot() -> dict[str, float]:
    with _lock:
        return dict(_blocked)


def periodic_sync() -> None:
    sync(periodic=True)
