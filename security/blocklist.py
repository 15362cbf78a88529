"""The active block list, as the request path reads it: a dict in this process's memory.

A block is written to the database (the audit trail, `BlockedIP`), to a Redis hash shared by
every process, and to this process's mirror at once. Every process re-reads the hash every
`SYNC_EVERY_SECONDS` on its background flusher (`mvpvalidator.background`), so a block made by
one worker holds in all of them within a second. When Redis is away the mirror is reloaded from
the database instead.

Blocks are keyed by `security.ip.block_target`: a client (an IPv4 address, an IPv6 client's
/64) or a network blocked by staff. Checking a request costs one dictionary lookup of its
client key, plus, only while staff have blocked wider networks, a scan of that short list.
"""

import logging
import threading
import time
from functools import lru_cache
from typing import cast

from mvpvalidator import background
from security.ip import client_key, target_network

logger = logging.getLogger(__name__)

_HASH = "sec:blocked"
SYNC_EVERY_SECONDS = 1.0
_lock = threading.Lock()
_blocked: dict[str, float] = {}  # block target -> expiry (epoch seconds)
# The targets a client key cannot hit (networks wider than one client, or an IPv6 address blocked
# before clients were keyed by network), grouped by (version, netmask as int): network as int ->
# target. A check masks the address once per prefix length in use, whatever the number of blocks.
_networks: tuple[tuple[int, int, dict[int, str]], ...] = ()
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


def _ipv6_prefix() -> int:
    from django.conf import settings

    return cast(int, settings.IPV6_CLIENT_PREFIX)


@lru_cache(maxsize=4096)
def _as_int(ip: str) -> tuple[int, int] | None:
    try:
        address = target_network(ip).network_address
    except ValueError:
        return None
    return address.version, int(address)


def _rebuild_networks() -> None:
    """Recompute `_networks` from `_blocked` (under `_lock`, after every change)."""
    global _networks
    # Targets are stored in `block_target`'s spelling, so telling a client key from a network
    # is string work: this runs on every reload, over every block.
    client_suffix = f"/{_ipv6_prefix()}"
    networks: dict[tuple[int, int], dict[int, str]] = {}
    for target in _blocked:
        if ":" in target:
            is_client = target.endswith(client_suffix) or (client_suffix == "/128" and "/" not in target)
        else:
            is_client = "/" not in target
        if not is_client:
            try:
                network = target_network(target)
            except ValueError:  # not written by this code: never worth a failed reload
                logger.warning("ignoring a malformed block target %r", target)
                continue
            networks.setdefault((network.version, int(network.netmask)), {})[int(network.network_address)] = target
    # Widest first: a check stops at the first (widest) network that covers the address.
    _networks = tuple((v, mask, table) for (v, mask), table in sorted(networks.items(), key=lambda e: e[0][1]))


def _in_network(ip: str) -> str | None:
    address = _as_int(ip)
    if address is None:
        return None
    version, value = address
    for net_version, mask, table in _networks:
        if net_version == version:
            target = table.get(value & mask)
            if target is not None:
                return target
    return None


def blocked_until(ip: str, *, key: str | None = None) -> float | None:
    """The expiry of an active block covering `ip` (its client `key`, or a blocked network), or None."""
    if not _loaded and time.monotonic() >= _retry_at:
        sync()
    target = key if key is not None else client_key(ip, ipv6_prefix=_ipv6_prefix())
    expires = _blocked.get(target)
    if expires is None and _networks:
        target = _in_network(ip) or ""
        expires = _blocked.get(target)
    if expires is None:
        return None
    if expires <= time.time():
        with _lock:
            _blocked.pop(target, None)
            _rebuild_networks()
        return None
    return expires


def add(target: str, expires_at: float) -> None:
    """Block `target` (a `block_target`) until `expires_at`, here and in every process."""
    from mvpvalidator.cache import CacheUnavailable, call, is_shared, redis_client

    with _lock:
        _blocked[target] = expires_at
        _recent[target] = (time.monotonic(), expires_at)
        _rebuild_networks()
    if is_shared():  # embedded mode: one process, the mirror is all there is
        try:
            call(lambda: redis_client().hset(_hash_key(), target, repr(expires_at)))
        except CacheUnavailable:
            logger.warning("block of %s not shared yet: Redis unavailable (the database holds it)", target)


def remove(target: str) -> None:
    from mvpvalidator.cache import CacheUnavailable, call, is_shared, redis_client

    with _lock:
        _blocked.pop(target, None)
        _recent[target] = (time.monotonic(), None)
        _rebuild_networks()
    if is_shared():
        try:
            call(lambda: redis_client().hdel(_hash_key(), target))
        except CacheUnavailable:
            logger.warning("unblock of %s not shared yet: Redis unavailable", target)


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
        _rebuild_networks()
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
        _rebuild_networks()
    _loaded = True


def snapshot() -> dict[str, float]:
    with _lock:
        return dict(_blocked)


def periodic_sync() -> None:
    sync(periodic=True)


# A pull, not a send: nothing to do at exit.
background.register("security.blocklist", flush=periodic_sync, every=SYNC_EVERY_SECONDS, reset=reset, at_exit=False)
