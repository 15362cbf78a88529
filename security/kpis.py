"""The production guide's security KPIs: how each is counted and read.

- **auth_success**: successful logins ÷ attempts with the right password for an active account,
  counted by the authentication backend (`security.backends`), refused attempts included.
- **header_coverage**: per required header (`REQUIRED_RESPONSE_HEADERS`), the share of responses
  carrying it, counted by the outermost middleware on every response (the responses, and those
  lacking each header); the figure is the worst header's share.
- **blocked_attacks**: security events by kind of attack, per hour (`ATTACK_KINDS`, the one
  mapping of event kinds to attack kinds).
- **rate_limit_effectiveness**: of the requests an address sent from its first rate-limit refusal
  until it was blocked for rate-limit violations, the share refused; and how long the block
  took to land after that first refusal (median and max seconds).

  Counting "requests from an address later blocked" needs counting before the block is known,
  so an address is *watched* from its first rate-limit refusal: this process remembers it
  (`watched`, bounded), and from then on each of its requests adds one to a tally in the cache
  (first refusal time, requests, refused requests; expiring after `WATCH_SECONDS`). An address
  never refused costs the request path one lookup in an empty or small dict, nothing else; a
  blocked one is answered before it (its block list lookup stays its only cost). When
  the address is blocked for rate-limit violations, its tally is written into the block's
  evidence (`BlockedIP.evidence["abuse"]`), and the reader sums the blocks of the window. With
  several processes, a process starts counting an address at the first refusal it sees itself,
  so requests another process let through before that are missed (the share then reads high);
  the global quota is shared, so every process refuses an abusive address within about a second.
"""

import contextlib
import statistics
import threading
import time
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.utils import timezone

from monitoring.interface import KpiReading, kpi_ratio, register_kpi_history, register_kpi_reader
from mvpvalidator import cache as app_cache
from security.models import BlockedIP, BlockRule, EventKind
from security.selectors import events_by_hour

# --- Authentication success ---------------------------------------------------------------------

VALID_ATTEMPTS = "auth.valid_attempts"
VALID_SUCCESSES = "auth.valid_successes"

_auth_read, _auth_hourly = kpi_ratio(VALID_SUCCESSES, VALID_ATTEMPTS)
register_kpi_reader("auth_success")(_auth_read)
register_kpi_history("auth_success")(_auth_hourly)

# --- Header coverage ----------------------------------------------------------------------------

# The headers every response of this deployment carries, whoever answers it (a page, a refusal,
# an error, a static file): Django's SecurityMiddleware (nosniff, referrer policy, opener
# policy), the CSP middleware, Django's clickjacking middleware, and `security.middleware` (resource
# and permissions policies). What the header-coverage KPI holds every response to.
REQUIRED_RESPONSE_HEADERS = (
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "X-Frame-Options",
    "Cross-Origin-Opener-Policy",
    "Cross-Origin-Resource-Policy",
    "Permissions-Policy",
)
# Only on a response to an HTTPS request, and only when HSTS is on (`SECURE_HSTS_SECONDS`):
# Django sends it on nothing else, and a browser ignores it over plain HTTP.
HTTPS_RESPONSE_HEADERS = ("Strict-Transport-Security",)
HEADERS_RESPONSES = "headers.responses"
HEADERS_HTTPS_RESPONSES = "headers.https_responses"


def missing_header_counter(name: str) -> str:
    """The KPI counter of the responses lacking the header `name` (a header's coverage is one
    minus their share: counting the few lacking it costs a complete response nothing more)."""
    return f"headers.missing.{name}"


def _header_denominators() -> list[tuple[str, str]]:
    return [(h, HEADERS_RESPONSES) for h in REQUIRED_RESPONSE_HEADERS] + [
        (h, HEADERS_HTTPS_RESPONSES) for h in HTTPS_RESPONSE_HEADERS
    ]


# (header, the reader and history of the share of responses lacking it), each a counter ratio.
_HEADER_RATIOS = [(h, *kpi_ratio(missing_header_counter(h), den)) for h, den in _header_denominators()]


@register_kpi_reader("header_coverage")
def header_coverage(hours: int) -> KpiReading:
    shares: dict[str, float] = {}
    responses = 0
    for header, read, _ in _HEADER_RATIOS:
        reading = read(hours)
        if reading.value is not None:
            # From the counts, not `1 - share`: exactly 1.0 only when no response lacked it, so
            # three lacking in 100,000 fail the 100% bar.
            lacking, den = int(reading.detail["numerator"]), int(reading.detail["denominator"])
            shares[header] = (den - min(lacking, den)) / den
        if header == REQUIRED_RESPONSE_HEADERS[0]:
            responses = int(reading.detail.get("denominator", 0))
    value = min(shares.values()) if shares else None
    detail: dict[str, Any] = {"headers": shares, "responses": responses}
    return KpiReading(value, detail, "" if value is not None else "no responses counted")


@register_kpi_history("header_coverage")
def header_coverage_hourly(hours: int) -> list[float | None]:
    series = [hourly(hours) for _, _, hourly in _HEADER_RATIOS]
    out: list[float | None] = []
    for i in range(hours):
        lacking = [share for values in series if (share := values[i]) is not None]
        out.append(max(0.0, 1.0 - max(lacking)) if lacking else None)
    return out


# --- Blocked attacks ----------------------------------------------------------------------------

# Every event kind, mapped: the attack it is a sign of, or None for what is not an attack.
ATTACK_KINDS: dict[str, str | None] = {
    EventKind.SCANNER_PATH: "scanner",
    EventKind.LOGIN_FAILED: "brute_force",
    EventKind.LOCKOUT: "brute_force",
    EventKind.INVALID_TOKEN: "brute_force",  # a forged, expired or revoked token presented
    EventKind.RATE_LIMITED: "rate_limit_abuse",
    EventKind.BLOCKED_REQUEST: "rate_limit_abuse",  # a blocked address still sending
    EventKind.SUSPICIOUS_INPUT: "hostile_input",
    # The block itself is the answer to events counted above (counting it would count twice).
    EventKind.IP_BLOCKED: None,
    EventKind.IP_UNBLOCKED: None,
    EventKind.LOGIN_SUCCEEDED: None,
    # A signed-in user refused a page: a stale link or a wrong role far more often than an attack.
    EventKind.PERMISSION_DENIED: None,
}
ATTACKS = ("scanner", "brute_force", "rate_limit_abuse", "hostile_input")


def _hour_start(hours: int) -> datetime:
    """The start of the oldest of the last `hours` hours (the current hour included)."""
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    return now - timedelta(hours=hours - 1)


def _attacks_by_hour(hours: int) -> list[dict[str, int]]:
    """{attack: events} for each of the last `hours` hours, oldest first (the hours' counts kept
    once settled: `selectors.events_by_hour`)."""
    start = _hour_start(hours)
    by_hour = events_by_hour(since=start)
    out: list[dict[str, int]] = []
    for index in range(hours):
        attacks: dict[str, int] = {}
        for kind, n in by_hour.get(start + timedelta(hours=index), {}).items():
            attack = ATTACK_KINDS.get(kind)
            if attack is not None:
                attacks[attack] = attacks.get(attack, 0) + n
        out.append(attacks)
    return out


@register_kpi_reader("blocked_attacks")
def blocked_attacks(hours: int) -> KpiReading:
    by_kind = dict.fromkeys(ATTACKS, 0)
    for attacks in _attacks_by_hour(hours):
        for attack, n in attacks.items():
            by_kind[attack] += n
    return KpiReading(float(sum(by_kind.values())), {"by_kind": by_kind})


@register_kpi_history("blocked_attacks")
def blocked_attacks_hourly(hours: int) -> list[float | None]:
    return [float(sum(attacks.values())) for attacks in _attacks_by_hour(hours)]


# --- Rate-limit effectiveness: the tally of watched addresses ----------------------------------

WATCH_SECONDS = 3600  # longer than the rate-limit strike window, so a block finds its tally
WATCHED_MAX = 10_000
watched: dict[str, float] = {}  # client key -> until (monotonic), this process
_watched_lock = threading.Lock()


def _tally_keys(key: str) -> tuple[str, str, str]:
    return f"sec:abuse:first:{key}", f"sec:abuse:n:{key}", f"sec:abuse:r:{key}"


def _incr(name: str) -> None:
    try:
        app_cache.call(cache.incr, name)
    except ValueError:  # absent (expired, or evicted): start it again
        app_cache.call(cache.add, name, 1, WATCH_SECONDS)


def rate_limit_refused(key: str) -> None:
    """A rate limit refused a request of client `key`: watch it (from its first refusal), and
    count the refusal. Called where the refusal is recorded (`services.rate_limit_violation`)."""
    if not key:
        return
    first, requests, refused = _tally_keys(key)
    try:
        # The first refusal's time, unless one is kept already (`add`); every refusal tries, so
        # a process still watching an address whose tally went with its last block starts anew.
        app_cache.call(cache.add, first, time.time(), WATCH_SECONDS)
        if key not in watched:  # its request was not counted on the way in
            _incr(requests)
        _incr(refused)
    except app_cache.CacheUnavailable:
        return
    with _watched_lock:
        if len(watched) >= WATCHED_MAX:
            now = time.monotonic()
            for stale in [k for k, until in watched.items() if until <= now] or list(watched)[: WATCHED_MAX // 10]:
                del watched[stale]
        watched[key] = time.monotonic() + WATCH_SECONDS


def watched_request(key: str) -> None:
    """A request arrived from a watched client (the middleware calls this only when `key in
    watched`): one more request in its tally."""
    if watched.get(key, 0.0) <= time.monotonic():
        watched.pop(key, None)
        return
    with contextlib.suppress(app_cache.CacheUnavailable):
        _incr(_tally_keys(key)[1])


def abuse_evidence(key: str) -> dict[str, Any] | None:
    """The tally of client `key` for its block's evidence (None when it was not watched), and
    the end of its watch: once blocked, its requests are refused by the block list."""
    first, requests, refused = _tally_keys(key)
    try:
        values = app_cache.call(cache.get_many, [first, requests, refused])
        app_cache.call(cache.delete_many, [first, requests, refused])
    except app_cache.CacheUnavailable:
        return None
    finally:
        watched.pop(key, None)
    if first not in values:
        return None
    return {
        "first_refused_at": float(values[first]),
        "requests": int(values.get(requests, 0)),
        "refused": int(values.get(refused, 0)),
    }


def _abuse_blocks(since: datetime) -> list[tuple[datetime, dict[str, Any]]]:
    # Blocks are few (one per abusive address per block duration): no index needed for the window.
    rows = BlockedIP.objects.filter(rule=BlockRule.RATE_LIMIT, created_at__gte=since).values_list(
        "created_at", "evidence"
    )
    return [(at, ev["abuse"]) for at, ev in rows if isinstance(ev, dict) and isinstance(ev.get("abuse"), dict)]


def _effectiveness(blocks: list[tuple[datetime, dict[str, Any]]]) -> tuple[float | None, dict[str, Any]]:
    requests = sum(int(abuse["requests"]) for _, abuse in blocks)
    refused = sum(int(abuse["refused"]) for _, abuse in blocks)
    seconds = [max(0.0, at.timestamp() - float(abuse["first_refused_at"])) for at, abuse in blocks]
    detail = {
        "blocked_addresses": len(blocks),
        "requests": requests,
        "refused": refused,
        "seconds_to_block_median": round(statistics.median(seconds), 1) if seconds else None,
        "seconds_to_block_max": round(max(seconds), 1) if seconds else None,
    }
    return (min(1.0, refused / requests) if requests else None), detail


@register_kpi_reader("rate_limit_effectiveness")
def rate_limit_effectiveness(hours: int) -> KpiReading:
    value, detail = _effectiveness(_abuse_blocks(_hour_start(hours)))
    return KpiReading(value, detail, "" if value is not None else "no address blocked for rate-limit abuse")


@register_kpi_history("rate_limit_effectiveness")
def rate_limit_effectiveness_hourly(hours: int) -> list[float | None]:
    start = _hour_start(hours)
    per_hour: list[list[tuple[datetime, dict[str, Any]]]] = [[] for _ in range(hours)]
    for at, abuse in _abuse_blocks(start):
        index = int((at - start).total_seconds() // 3600)
        if 0 <= index < hours:
            per_hour[index].append((at, abuse))
    return [_effectiveness(blocks)[0] for blocks in per_hour]
