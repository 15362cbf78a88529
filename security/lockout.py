"""Login lockout, for the session login, the admin login and the JWT token endpoint alike (all
authenticate through `security.backends.LockoutBackend`).

The policy, within a window of `LOGIN_LOCKOUT_MINUTES`:

- **Account and address pair.** More than `MAX_LOGIN_ATTEMPTS` attempts at one account from one
  client (an IPv4 address, or the IPv6 network of `IPV6_CLIENT_PREFIX` bits) lock that pair out:
  429 with Retry-After, nothing checked. There is no account-wide lockout: whoever guesses from
  elsewhere does not lock the owner out, so nobody can keep someone else's account (a staff
  account, say) locked.
- **Address.** More than `MAX_LOGIN_ATTEMPTS` failed attempts from one client, whatever the
  accounts, lock that client out of every account (password spraying). A successful login takes
  back only its own attempt from this count, so logging in to one's own account between misses
  on other accounts does not reset it. (With the same limit as the pair, this is usually the one
  that engages first when one client guesses one account.)
- **Account ceiling (distributed guessing).** Attempts at one account from clients it has not
  logged in from recently are also counted per account. Past `LOGIN_ACCOUNT_MAX_ATTEMPTS` (higher
  than the pair limit), such clients are slowed down rather than locked out: one attempt is let
  through every 2**n seconds, n being the attempts past the ceiling so far (refused ones
  included), capped at the window; the others are answered 429 with Retry-After. The owner's
  known clients are not slowed.
- **Known clients.** After a successful login, the client is remembered for the account for
  `LOGIN_KNOWN_CLIENT_DAYS` (the most recent `KNOWN_CLIENTS_KEPT` of them). An address rather
  than a signed cookie, because API clients and scripts that log in with `POST /api/auth/token`
  keep no cookies, and an address is what the other counters count by; the cost is that an owner
  on a new network is slowed like anyone else while the account is under attack.
- **Success** resets the pair counter of that account and client (the password was right) and
  takes its own attempt back from the address counter and from the account ceiling. It does not
  reset the ceiling: an owner whose script logs in every minute would otherwise reopen it for
  whoever is guessing; it lapses with its window.

Attempts are counted *before* the password is checked, with atomic increments, so a burst of
parallel guesses gets at most the limit of them checked. (A refused attempt's password is checked after
the refusal, for the authentication-success KPI only and at most `MAX_LOGIN_ATTEMPTS` times per
client and account a window: `kpi_check_allowed`, `security.backends`.) The counters and the known clients are
security state, not cache: in Redis they live outside the cache's key space (`state_key`), so
clearing the cache cannot reset them; in the embedded mode, and when Redis is away, they are kept
in this process, so guessing stays bounded during an outage.
"""

import contextlib
import hashlib
import math
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from django.conf import settings
from rest_framework.exceptions import Throttled

from mvpvalidator import cache as app_cache
from security.ip import client_key

if TYPE_CHECKING:
    from security.limits import Refusal

# Known clients remembered per account: the owner's devices and networks, not an attacker's list.
KNOWN_CLIENTS_KEPT = 20
# The first wait past the account ceiling, in seconds; it doubles with each attempt after it.
SLOWDOWN_FIRST_SECONDS = 2

_local: dict[str, tuple[float, int]] = {}  # key -> (window end, count) while Redis is away
_known_local: dict[str, dict[str, float]] = {}  # account -> {client: last login}, embedded mode
_local_lock = threading.Lock()
_LOCAL_MAX = 10_000


class LockedOut(Throttled):
    """Too many login attempts: 429 with Retry-After (DRF answers it; the login pages too)."""

    default_detail = "Too many login attempts. Try again later."
    default_code = "login_locked"

    def __init__(self, wait: int, *, limit: int | None = None) -> None:
        super().__init__(wait=wait, detail=f"Too many login attempts. Try again in {wait} seconds.")
        self.retry_after = wait
        self.limit = limit

    def refusal(self) -> "Refusal":
        """The same refusal the rate limits give, for the 429's headers."""
        from security.limits import Refusal

        wait = self.retry_after
        limit = self.limit or settings.MAX_LOGIN_ATTEMPTS
        return Refusal(limit=limit, remaining=0, retry_after=wait, reset_after=wait, scope="login")


@dataclass(frozen=True)
class Refused:
    """Why an attempt is refused, and for how long."""

    wait: int
    limit: int
    marker: str  # one lockout event per account and client per window


@dataclass(frozen=True)
class _Keys:
    account: str
    client: str  # empty when the caller has no address (a shell, a test)

    @property
    def pair(self) -> str:
        return f"login:pair:{self.account}:{self.client}"

    @property
    def address(self) -> str:
        return f"login:ip:{self.client}"

    @property
    def ceiling(self) -> str:
        return f"login:acct:{self.account}"

    @property
    def slowdown(self) -> str:
        return f"login:slow:{self.account}"

    @property
    def known(self) -> str:
        return f"login:known:{self.account}"

    @property
    def locked(self) -> str:
        return f"login:locked:{self.account}:{self.client}"

    @property
    def kpi_check_client(self) -> str:
        return f"login:kpicheck:ip:{self.client}"

    @property
    def kpi_check_account(self) -> str:
        return f"login:kpicheck:{self.account}"


def _keys(identifier: str, ip: str) -> _Keys:
    account = hashlib.sha256(identifier.strip().lower().encode()).hexdigest()[:32]
    return _Keys(account=account, client=client_key(ip, ipv6_prefix=settings.IPV6_CLIENT_PREFIX) if ip else "")


def _window() -> int:
    return cast(int, max(1, settings.LOGIN_LOCKOUT_MINUTES * 60))


def _known_seconds() -> int:
    return cast(int, max(1, settings.LOGIN_KNOWN_CLIENT_DAYS * 86400))


# --- Counters: Redis outside the cache's key space, or this process -----------------------------


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


def _hit(key: str) -> tuple[int, int]:
    if app_cache.is_shared():
        try:
            return _hit_shared(key)
        except app_cache.CacheUnavailable:
            pass
    return _hit_local(key)


def _take_back(key: str) -> None:
    """Undo one attempt of `key` (a successful login is not a failure of its address)."""
    if app_cache.is_shared():
        try:
            client = app_cache.redis_client()
            if app_cache.call(client.decr, app_cache.state_key(key)) <= 0:
                # Gone to zero (or lapsed and recreated by DECR without an expiry): drop it.
                app_cache.call(client.delete, app_cache.state_key(key))
        except app_cache.CacheUnavailable:
            pass
    with _local_lock:
        ends, count = _local.get(key, (0.0, 0))
        if count > 1:
            _local[key] = (ends, count - 1)
        else:
            _local.pop(key, None)


def _forget(*keys: str) -> None:
    if app_cache.is_shared():
        with contextlib.suppress(app_cache.CacheUnavailable):
            app_cache.call(app_cache.redis_client().delete, *(app_cache.state_key(k) for k in keys))
    with _local_lock:
        for key in keys:
            _local.pop(key, None)


def _claim(key: str, seconds: int) -> int | None:
    """Take `key` for `seconds` if free (None); else the seconds until it frees."""
    if app_cache.is_shared():
        try:
            client = app_cache.redis_client()
            if app_cache.call(client.set, app_cache.state_key(key), 1, ex=seconds, nx=True):
                return None
            return max(1, int(app_cache.call(client.ttl, app_cache.state_key(key)) or 1))
        except app_cache.CacheUnavailable:
            pass
    now = time.monotonic()
    with _local_lock:
        ends = _local.get(key, (0.0, 0))[0]
        if ends > now:
            return max(1, math.ceil(ends - now))
        _local[key] = (now + seconds, 1)
        return None


# --- Known clients ----------------------------------------------------------------------------


def _is_known(keys: _Keys) -> bool:
    if not keys.client:
        return False
    since = time.time() - _known_seconds()
    if app_cache.is_shared():
        try:
            seen = app_cache.call(app_cache.redis_client().zscore, app_cache.state_key(keys.known), keys.client)
            return seen is not None and float(seen) > since
        except app_cache.CacheUnavailable:
            pass
    with _local_lock:
        return _known_local.get(keys.account, {}).get(keys.client, 0.0) > since


def _remember(keys: _Keys) -> None:
    if not keys.client:
        return
    now = time.time()
    if app_cache.is_shared():
        try:
            key = app_cache.state_key(keys.known)
            pipe = app_cache.redis_client().pipeline(transaction=True)
            pipe.zadd(key, {keys.client: now})
            pipe.zremrangebyrank(key, 0, -KNOWN_CLIENTS_KEPT - 1)  # keep the most recent
            pipe.expire(key, _known_seconds())
            app_cache.call(pipe.execute)
        except app_cache.CacheUnavailable:
            pass
    with _local_lock:
        known = _known_local.setdefault(keys.account, {})
        known[keys.client] = now
        for stale in sorted(known, key=known.__getitem__)[:-KNOWN_CLIENTS_KEPT]:
            del known[stale]


# --- The policy ---------------------------------------------------------------------------------


def _slowdown_seconds(past_ceiling: int) -> int:
    return cast(int, min(_window(), SLOWDOWN_FIRST_SECONDS ** min(past_ceiling, 30)))


def attempt(*, identifier: str, ip: str) -> Refused | None:
    """Count one login attempt; why and how long it must wait when it is refused, else None."""
    keys = _keys(identifier, ip)
    limit = settings.MAX_LOGIN_ATTEMPTS
    refuse_for = 0
    count, left = _hit(keys.pair)
    if count > limit:
        refuse_for = left
    if keys.client:
        count, left = _hit(keys.address)
        if count > limit:
            refuse_for = max(refuse_for, left)
    if refuse_for:
        return Refused(wait=refuse_for, limit=limit, marker=keys.locked)
    if _is_known(keys):
        return None
    ceiling = settings.LOGIN_ACCOUNT_MAX_ATTEMPTS
    count, _ = _hit(keys.ceiling)
    if count <= ceiling:
        return None
    # Past the ceiling: one attempt per growing interval from the clients the owner has not used.
    wait = _claim(keys.slowdown, _slowdown_seconds(count - ceiling))
    return None if wait is None else Refused(wait=wait, limit=ceiling, marker=keys.locked)


def first_refusal(refused: Refused) -> bool:
    """Whether this refusal starts a lockout of its account and client (one event and strike
    per lockout, not per try)."""
    return _claim(refused.marker, _window()) is None


def succeeded(*, identifier: str, ip: str) -> None:
    keys = _keys(identifier, ip)
    _forget(keys.pair)
    if keys.client:
        _take_back(keys.address)
    if not _is_known(keys):
        _take_back(keys.ceiling)  # it was counted there: from a client not yet known
    _remember(keys)


def kpi_check_allowed(*, identifier: str, ip: str) -> bool:
    """Whether a refused attempt may still have its password checked for the authentication KPI
    (see `security.backends`), so a flood of refused guesses never becomes a flood of hashing:
    each client gets `MAX_LOGIN_ATTEMPTS` checks a window, whatever accounts it tries; a client
    the account knows (it signed in from there before: most likely the owner) needs no more;
    others share `MAX_LOGIN_ATTEMPTS` checks per account a window, so thousands of addresses
    guessing one account cost that many hashes, not thousands."""
    keys = _keys(identifier, ip)
    client_count, _ = _hit(keys.kpi_check_client)
    if client_count > settings.MAX_LOGIN_ATTEMPTS:
        return False
    if _is_known(keys):
        return True
    account_count, _ = _hit(keys.kpi_check_account)
    return bool(account_count <= settings.MAX_LOGIN_ATTEMPTS)


def reset() -> None:
    with _local_lock:
        _local.clear()
        _known_local.clear()
