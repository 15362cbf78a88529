"""Rate limiting: a per-client global quota, tighter limits per endpoint, and the 429 answer.

Every limit counts a client by `security.ip.client_key`: the address for IPv4, the network of
`IPV6_CLIENT_PREFIX` bits (a /64) for IPv6, where one subscriber holds a whole network.

Three kinds of limit, each with an explicit policy when Redis is away:
- the global quota (`MAX_REQUESTS_PER_HOUR` per `RATE_LIMIT_WINDOW_MINUTES`) on every request:
  counted in this process's memory and synced with Redis once a second (HINCRBY of the deltas,
  which returns the shared totals), so it costs a request no round trip; exact within a process,
  within about a second of the other processes' traffic. Redis away: per-process counting.
- forms (`limit_view`, django-ratelimit's counters in the `ratelimit` cache, which goes through
  the circuit breaker): fail open — a visitor must not lose a signup because Redis restarted;
- landing page views (`limit_view(..., hot=True)`): counted like the global quota, in process
  memory synced once a second (no round trip on the busiest path), so they hold during an outage.
- API endpoints (`EndpointThrottle`, DRF): atomic shared counters; per scope `open`, `closed` or
  `local` (in-process counting) when Redis is away. The token endpoint counts locally, so brute
  force stays bounded during an outage; registration fails closed.

None of them counts a client of `SECURITY_ALLOWLIST`.

Every refusal is a 429 with `Retry-After` and `RateLimit-Limit/Remaining/Reset`, JSON under
`/api/` and a small page elsewhere; it is a security event, and repeated refusals block the client.
"""

import functools
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django_ratelimit.core import EXPIRATION_FUDGE, _get_window, _make_cache_key, _split_rate, get_usage
from rest_framework.throttling import BaseThrottle

from mvpvalidator import background
from mvpvalidator.cache import CacheUnavailable, call, is_shared
from mvpvalidator.cache import ratelimit as counters
from security.ip import client_key

if TYPE_CHECKING:
    from rest_framework.request import Request

    from security.ratelimit_cache import BreakerCache

_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


@functools.lru_cache(maxsize=64)
def parse_rate(rate: str) -> tuple[int, int]:
    """`10/min` → (10, 60). Raises ValueError on anything else."""
    count, _, unit = rate.partition("/")
    seconds = _UNITS.get(unit.strip().lower())
    if not count.strip().isdigit() or seconds is None:
        raise ValueError(f"{rate!r} is not a rate like 10/min")
    return int(count), seconds


# --- The 429 answer ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    limit: int
    remaining: int
    retry_after: int
    reset_after: int
    scope: str


def headers_for(refusal: Refusal) -> dict[str, str]:
    return {
        "Retry-After": str(max(1, refusal.retry_after)),
        "RateLimit-Limit": str(refusal.limit),
        "RateLimit-Remaining": str(max(0, refusal.remaining)),
        "RateLimit-Reset": str(max(1, refusal.reset_after)),
    }


def too_many_requests(request: HttpRequest, refusal: Refusal) -> HttpResponse:
    # Imported here: the error shape lives next to DRF's views, which import this module's
    # throttle through DEFAULT_THROTTLE_CLASSES.
    from mvpvalidator.exception_handlers import error_body

    message = f"Too many requests. Try again in {max(1, refusal.retry_after)} seconds."
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            error_body(code="rate_limited", message=message, retry_after=max(1, refusal.retry_after)), status=429
        )
    else:
        html = render_to_string("429.html", {"retry_after": max(1, refusal.retry_after)}, request=request)
        response = HttpResponse(html, status=429)
    for name, value in headers_for(refusal).items():
        response[name] = value
    return response


def refused(request: HttpRequest, refusal: Refusal) -> None:
    """Record a refusal: a security event, and a step towards blocking the address."""
    from security import services

    services.rate_limit_violation(request=request, scope=refusal.scope)


# --- The global quota -------------------------------------------------------------------------


class _WindowCounter:
    """Requests per address in the current window: this process's unsynced hits plus the last
    shared total Redis returned for the address (synced about once a second, off the request)."""

    MAX_ADDRESSES = 200_000  # beyond this the oldest window's tallies are simply dropped

    def __init__(self, name: str = "sec:rl", seconds: Callable[[], int] | None = None) -> None:
        self.name = name
        self.seconds = seconds or (lambda: window_seconds())  # the settings may change (tests)
        self.lock = threading.Lock()
        self.window = -1
        self.unsynced: dict[str, int] = {}
        # Hits on their way to Redis: still counted while a sync is in progress, or a request
        # arriving between the send and the answer would see neither tally and get through.
        self.in_flight: dict[str, int] = {}
        self.shared: dict[str, int] = {}

    def _roll(self, window: int) -> None:
        if window != self.window:
            self.window = window
            self.unsynced = {}
            self.in_flight = {}
            self.shared = {}

    def hit(self, ip: str, window: int) -> int:
        with self.lock:
            self._roll(window)
            if len(self.unsynced) > self.MAX_ADDRESSES:
                self.unsynced.clear()
            self.unsynced[ip] = self.unsynced.get(ip, 0) + 1
            seen = self.shared.get(ip, 0) + self.in_flight.get(ip, 0) + self.unsynced[ip]
        background.ensure_started()
        return seen

    def sync(self) -> None:
        from mvpvalidator.cache import CacheUnavailable, call, is_shared, redis_client, state_key

        with self.lock:
            window, pending = self.window, self.unsynced
            self.unsynced = {}
            self.in_flight = pending
        if not pending:
            return
        if not is_shared():
            with self.lock:  # one process: the local tally is the truth
                if self.window == window:
                    for ip, n in pending.items():
                        self.shared[ip] = self.shared.get(ip, 0) + n
                    self.in_flight = {}
            return
        key = state_key(f"{self.name}:{window}")
        seconds = self.seconds()

        def send() -> list[int]:
            pipe = redis_client().pipeline(transaction=False)
            for ip, n in pending.items():
                pipe.hincrby(key, ip, n)
            pipe.expire(key, seconds + 60)
            return cast(list[int], pipe.execute()[:-1])

        try:
            totals = call(send)
        except CacheUnavailable:
            with self.lock:  # count locally until Redis is back
                if self.window == window:
                    for ip, n in pending.items():
                        self.shared[ip] = self.shared.get(ip, 0) + n
                    self.in_flight = {}
            return
        with self.lock:
            if self.window == window:
                for ip, total in zip(pending, totals, strict=True):
                    self.shared[ip] = int(total)
                self.in_flight = {}

    def reset(self) -> None:
        with self.lock:
            self.window = -1
            self.unsynced = {}
            self.in_flight = {}
            self.shared = {}


SYNC_EVERY_SECONDS = 1.0
global_counter = _WindowCounter()
# Per-address counters of the `hot` views (the landing page), one per (group, window length).
_hot_counters: dict[tuple[str, int], _WindowCounter] = {}
_hot_lock = threading.Lock()


def _hot_counter(group: str, seconds: int) -> _WindowCounter:
    counter = _hot_counters.get((group, seconds))
    if counter is None:
        with _hot_lock:
            counter = _hot_counters.setdefault((group, seconds), _WindowCounter(f"sec:rl:{group}", lambda: seconds))
    return counter


def sync_counters() -> None:
    """Send every in-process tally to Redis (the background flusher calls it every
    SYNC_EVERY_SECONDS)."""
    global_counter.sync()
    for counter in list(_hot_counters.values()):
        counter.sync()


def window_seconds() -> int:
    return cast(int, max(1, settings.RATE_LIMIT_WINDOW_MINUTES * 60))


def check_global(key: str, *, now: float | None = None) -> Refusal | None:
    """Count one request from the client `key` against the global quota; a Refusal once it is spent."""
    now = now if now is not None else time.time()
    seconds = window_seconds()
    window = int(now // seconds)
    count = global_counter.hit(key, window)
    limit = settings.MAX_REQUESTS_PER_HOUR
    if count <= limit:
        return None
    reset_after = max(1, math.ceil((window + 1) * seconds - now))
    return Refusal(limit=limit, remaining=0, retry_after=reset_after, reset_after=reset_after, scope="global")


# --- Page views and forms (django-ratelimit) --------------------------------------------------


def client_key_of(request: HttpRequest) -> str:
    """The client a request is counted as (see `security.ip.client_key`), as the security
    middleware found it; a request that did not pass it is counted by its peer address."""
    key = getattr(request, "client_key", None)
    if key is None:
        key = client_key(request.META.get("REMOTE_ADDR", ""), ipv6_prefix=settings.IPV6_CLIENT_PREFIX)
    return key


def allowlisted(request: HttpRequest) -> bool:
    """Whether the request comes from `SECURITY_ALLOWLIST` (never limited: monitoring probes,
    an office, a load test), as the security middleware found it."""
    return bool(getattr(request, "allowlisted", False))


def _client_ip_key(group: str, request: HttpRequest) -> str:
    return client_key_of(request)


def _hot_refusal(request: HttpRequest, group: str, rate: str) -> Refusal | None:
    limit, seconds = parse_rate(rate)
    now = time.time()
    window = int(now // seconds)
    if _hot_counter(group, seconds).hit(_client_ip_key(group, request), window) <= limit:
        return None
    reset_after = max(1, math.ceil((window + 1) * seconds - now))
    return Refusal(limit=limit, remaining=0, retry_after=reset_after, reset_after=reset_after, scope=group)


def _ratelimit_refusal(request: HttpRequest, group: str, rate: str, methods: tuple[str, ...]) -> Refusal | None:
    usage = get_usage(request, group=group, key=_client_ip_key, rate=rate, method=list(methods), increment=True)
    if usage is None or not usage["should_limit"]:
        return None
    left = max(1, int(usage["time_left"]))
    return Refusal(limit=usage["limit"], remaining=0, retry_after=left, reset_after=left, scope=group)


class LimitReached(Exception):
    """A form's deferred count (`FormCount`) went past its limit: the view's wrapper answers 429."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.scope)
        self.refusal = refusal


@dataclass
class FormCount:
    """A form's rate-limit count, left for a Redis round trip the view makes anyway (`limit_view(...,
    deferred=True)`): the signup form binds its token on Redis, and the count rides in that
    round trip (`commands`, then `answer`) instead of costing a round trip of its own.

    The count is django-ratelimit's own counter (its key, its window, its expiry; the key is built
    with django-ratelimit's helpers, private but pinned in the lock file, and a test holds the two
    to one limit), so a form counted here and one counted by `get_usage` share one limit. The view
    sends it before it writes anything: with the token's binding, or on its own (`settle`) before
    a write or a rendering that has none; the wrapper settles it after a view that sent nothing.
    Past the limit `answer` and `settle` raise `LimitReached`. Redis away: not counted (the forms'
    limits fail open, `RATELIMIT_FAIL_OPEN`)."""

    redis_key: str
    expire_seconds: int
    limit: int
    window_end: int  # django-ratelimit's window: when this count's window closes (epoch seconds)
    scope: str
    sent: bool = False

    @classmethod
    def of(cls, request: HttpRequest, group: str, rate: str, methods: tuple[str, ...]) -> "FormCount":
        limit, period = _split_rate(rate)
        value = _client_ip_key(group, request)
        window = _get_window(value, period)
        key = _make_cache_key(group, window, rate, value, list(methods))
        ratelimit_cache = cast("BreakerCache", caches[settings.RATELIMIT_USE_CACHE])
        return cls(ratelimit_cache.redis_key(key), period + EXPIRATION_FUDGE, limit, window, group)

    def commands(self) -> tuple[tuple[Any, ...], ...]:
        """The count, as commands for the round trip it rides in: the first reply is the count
        (`answer` takes it)."""
        return counters.window_count_commands(self.redis_key, expire_seconds=self.expire_seconds)

    def answer(self, count: int | None) -> None:
        """The count its round trip answered (None: it could not be sent)."""
        self.sent = True
        if count is not None and count > self.limit:
            left = max(1, self.window_end - int(time.time()))
            refusal = Refusal(limit=self.limit, remaining=0, retry_after=left, reset_after=left, scope=self.scope)
            raise LimitReached(refusal)

    def settle(self) -> None:
        """Send the count on its own, unless it went with an earlier round trip."""
        if self.sent:
            return
        try:
            count: int | None = call(counters.count_in_window, self.redis_key, expire_seconds=self.expire_seconds)
        except CacheUnavailable:
            count = None
        self.answer(count)


def form_count(request: HttpRequest) -> FormCount | None:
    """The request's deferred form count, when its view left it to be sent (see `FormCount`)."""
    return getattr(request, "form_count", None)


def _deferred(
    view: Callable[..., HttpResponse], count: FormCount, request: HttpRequest, *args: Any, **kwargs: Any
) -> HttpResponse:
    cast(Any, request).form_count = count
    try:
        try:
            response = view(request, *args, **kwargs)
        finally:
            count.settle()  # a view that sent nothing to Redis (a form error, a 404) is counted too
    except LimitReached as exc:
        refused(request, exc.refusal)
        return too_many_requests(request, exc.refusal)
    return response


def limit_view(
    group: str,
    *,
    rate_setting: str,
    methods: tuple[str, ...] = ("GET", "POST"),
    hot: bool = False,
    deferred: bool = False,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Limit a Django view per client address (fail open). Forms count with django-ratelimit
    (one round trip to Redis, see `ratelimit_cache`; exact across processes); `hot` views (the
    landing page) as the global quota does, in process memory synced with Redis about once a
    second: no round trip, exact within a process and about a second behind the others' traffic.

    `deferred` (forms, on Redis): the same count, sent with a round trip the view makes anyway
    (`FormCount`); the view sends it before it writes anything."""
    if deferred and hot:
        raise ValueError("a hot view counts in process memory: it has no count to defer")

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if settings.ENABLE_RATE_LIMITING and request.method in methods and not allowlisted(request):
                rate = settings.RATE_LIMITS[rate_setting]
                if deferred and is_shared():
                    return _deferred(view, FormCount.of(request, group, rate, methods), request, *args, **kwargs)
                refusal = (
                    _hot_refusal(request, group, rate) if hot else _ratelimit_refusal(request, group, rate, methods)
                )
                if refusal is not None:
                    refused(request, refusal)
                    return too_many_requests(request, refusal)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


# --- API endpoints (DRF) ----------------------------------------------------------------------

_local_fallback: dict[str, tuple[int, int]] = {}  # key -> (window, count), while Redis is away
_local_lock = threading.Lock()


def _count_locally(key: str, limit: int, seconds: int) -> counters.RateLimitResult:
    now = time.time()
    window = int(now // seconds)
    with _local_lock:
        seen_window, count = _local_fallback.get(key, (window, 0))
        count = (count if seen_window == window else 0) + 1
        _local_fallback[key] = (window, count)
    reset_after = max(1, math.ceil((window + 1) * seconds - now))
    allowed = count <= limit
    return counters.RateLimitResult(
        allowed, limit, max(0, limit - count), 0 if allowed else reset_after, reset_after, "local"
    )


class EndpointThrottle(BaseThrottle):
    """A DRF throttle over the shared atomic counters. Views set `throttle_scope`; the scope's
    rate, key (client address or user) and Redis-away policy are in `settings.API_THROTTLES`."""

    def allow_request(self, request: "Request", view: Any) -> bool:
        scope = getattr(view, "throttle_scope", None)
        if not scope or not settings.ENABLE_RATE_LIMITING or allowlisted(request._request):
            return True
        config = settings.API_THROTTLES[scope]
        limit, seconds = parse_rate(config["rate"])
        by_user = config.get("key") == "user" and request.user and request.user.is_authenticated
        who = f"u{request.user.pk}" if by_user else client_key_of(request._request) or "?"
        key = f"api:{scope}:{who}"
        policy = config.get("when_unavailable", "open")
        result = counters.fixed_window(key, limit=limit, window_seconds=seconds, fail_open=policy != "closed")
        if result.backend == "unavailable" and policy == "local":
            result = _count_locally(key, limit, seconds)
        self.refusal = None
        if result.allowed:
            return True
        self.refusal = Refusal(
            limit=limit,
            remaining=0,
            retry_after=max(1, result.retry_after),
            reset_after=result.reset_after,
            scope=scope,
        )
        cast(Any, request._request).ratelimit_refusal = self.refusal
        refused(request._request, self.refusal)
        return False

    def wait(self) -> float | None:
        refusal = getattr(self, "refusal", None)
        return float(refusal.retry_after) if refusal else None


def reset() -> None:
    """Forget every in-process counter (tests)."""
    global_counter.reset()
    _hot_counters.clear()
    with _local_lock:
        _local_fallback.clear()


background.register("security.limits", flush=sync_counters, every=SYNC_EVERY_SECONDS, reset=reset)
