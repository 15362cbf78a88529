"""Writes of the security app: users and tokens, security events, blocks."""

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import empty
from rest_framework_simplejwt.exceptions import AuthenticationFailed, ExpiredTokenError, InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken

from monitoring.interface import current_request_id, note_trace, raise_security_alert
from mvpvalidator import cache as app_cache
from mvpvalidator.cache import ratelimit as rate_counters
from mvpvalidator.exceptions import ApplicationError
from security import cache as keys
from security.models import BlockedIP, BlockRule, EventKind, SecurityEvent, Severity, User, normalize_email
from security.sanitize import sanitize_text
from security.tokens import TokenExpired, check_version

logger = logging.getLogger(__name__)

DUPLICATE_EMAIL_MESSAGE = "An account with this email address already exists."


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str,
    name: str = "",
    is_staff: bool = False,
    is_superuser: bool = False,
) -> User:
    """Create an account; the password must pass the configured validators."""
    # The name is shown in the staff's pages and the founders' emails: plain text, like every
    # other user-supplied text the services store.
    name = sanitize_text(name, field="user_name")
    user = User(email=normalize_email(email), name=name, is_staff=is_staff, is_superuser=is_superuser)
    errors: dict[str, list[str]] = {}
    try:
        user.full_clean(exclude=["password"], validate_unique=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    # Only now: whether an address has an account is told only to a request that would have
    # created one, and so costs what a registration costs (the registration rate limit).
    if User.objects.filter(email=user.email).exists():
        raise ValidationError({"email": [DUPLICATE_EMAIL_MESSAGE]})

    user.set_password(password)
    try:
        # A savepoint, so a concurrent duplicate leaves the outer transaction usable.
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise ValidationError({"email": [DUPLICATE_EMAIL_MESSAGE]}) from exc
    return user


@transaction.atomic
def tokens_rotate(*, refresh: str) -> tuple[str, str]:
    """A new access token and a new refresh token for a refresh token, which is used up.

    Exactly one of any number of concurrent calls with the same token wins: the token is
    claimed by inserting its blacklist row (unique per token), and only the caller whose insert
    created it goes on. The account must still exist, be active and be at the token's version.
    """
    try:
        token = RefreshToken(refresh)  # type: ignore[arg-type]  # signature, expiry and blacklist
    except ExpiredTokenError as exc:
        raise TokenExpired("The refresh token has expired; sign in again.") from exc
    except TokenError as exc:
        raise InvalidToken(str(exc)) from exc
    user = User.objects.filter(pk=token.get(jwt_settings.USER_ID_CLAIM)).first()
    if user is None or not user.is_active:
        raise AuthenticationFailed("No active account found for the given token.", code="no_active_account")
    check_version(token, user)
    _, claimed = cast(tuple[Any, bool], token.blacklist())  # get_or_create's pair; its stub says the row
    if not claimed:
        raise InvalidToken("Token is blacklisted")
    token.set_jti()
    token.set_exp()
    token.set_iat()
    token.outstand()
    return str(token.access_token), str(token)


@transaction.atomic
def user_logout(*, user: User, refresh: str) -> None:
    """Log out everywhere: the refresh token (which must be the caller's) is blacklisted and
    every session and token of the account ends, access tokens included (a token cannot be
    recalled one by one without a lookup per request; the version ends them all at once)."""
    try:
        token = RefreshToken(refresh)  # type: ignore[arg-type]  # typed as a Token; the encoded one is what it takes
    except TokenError as exc:
        raise ValidationError({"refresh": [str(exc)]}) from exc
    if str(token.get("user_id")) != str(user.pk):
        raise ApplicationError("This refresh token does not belong to you.", code="token_not_owned")
    token.blacklist()
    account = User.objects.select_for_update().get(pk=user.pk)
    account.end_sessions()
    account.save(update_fields=["token_version"])


@transaction.atomic
def user_reset_password(*, user: User, password: str) -> User:
    """Set a new password (validated) and reactivate the account; every session and token
    issued under the old password ends."""
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({"password": list(exc.messages)}) from exc
    # The stored row, locked: a version moved on by a logout since `user` was loaded must not
    # be written back to what it was, which would revive the tokens issued since.
    account = User.objects.select_for_update().get(pk=user.pk)
    account.set_password(password)  # moves the token version on
    account.is_active = True
    account.save(update_fields=["password", "is_active", "token_version"])
    return account


@transaction.atomic
def user_deactivate(*, user: User) -> User:
    """Deactivate the account and end every session and token of it, so a later reactivation
    does not bring old tokens back."""
    account = User.objects.select_for_update().get(pk=user.pk)  # see user_reset_password
    account.is_active = False
    account.end_sessions()
    account.save(update_fields=["is_active", "token_version"])
    return account


# --- Security events ---------------------------------------------------------------------------

HIGH_SEVERITY_ALERTS = {EventKind.IP_BLOCKED, EventKind.LOCKOUT}


def _request_facts(request: Any) -> dict[str, Any]:
    if request is None:
        return {}
    django_request = getattr(request, "_request", request)
    user = getattr(django_request, "user", None)
    # Never force a lazy session user just for an event: that is a query on the hot path.
    if user is not None and hasattr(user, "_wrapped") and user._wrapped is empty:
        user = None
    return {
        "ip": getattr(django_request, "client_ip", "") or None,
        "user": user if user is not None and getattr(user, "is_authenticated", False) else None,
        # PostgreSQL text cannot hold NUL, and a path may carry one (`%00`): the event would be
        # lost, and inside a transaction the caller's transaction with it.
        "method": (django_request.method or "")[:10],
        "path": django_request.path.replace("\x00", "")[:500],
        "user_agent": django_request.META.get("HTTP_USER_AGENT", "").replace("\x00", "")[:300],
    }


def security_event_record(
    *,
    kind: str,
    severity: str = Severity.LOW,
    request: Any = None,
    ip: str | None = None,
    user: User | None = None,
    identifier: str = "",
    detail: dict[str, Any] | None = None,
) -> SecurityEvent | None:
    """Record one security event (when `ENABLE_SECURITY_LOGGING`), with the request's id, address,
    user, path and user agent; high-severity kinds alert the security webhook. Never raises."""
    # On the request's trace whether or not events are logged: the timeline shows the decision.
    note_trace("security", keep=True, event=kind, severity=severity)
    if not settings.ENABLE_SECURITY_LOGGING:
        return None
    facts = _request_facts(request)
    if ip:
        facts["ip"] = ip
    if user is not None:
        facts["user"] = user
    try:
        event = SecurityEvent.objects.create(
            kind=kind, severity=severity, identifier=identifier[:254], request_id=current_request_id(),
            detail=detail or {}, **facts,
        )  # fmt: skip
    except Exception:
        logger.warning("could not record security event %s", kind, exc_info=True)
        return None
    if severity == Severity.HIGH or kind in HIGH_SEVERITY_ALERTS:
        raise_security_alert(
            f"{kind}:{event.ip or event.identifier}",
            title=f"Security: {kind.replace('_', ' ')} ({event.ip or event.identifier or '-'})",
            details={"kind": kind, "severity": severity, "ip": event.ip, "path": event.path, **(detail or {})},
        )
    return event


def once_per(key: str, seconds: int) -> bool:
    """True for the first caller per key per period (deduplicates noisy events)."""
    try:
        return bool(app_cache.call(cache.add, f"sec:once:{key}", 1, seconds))
    except app_cache.CacheUnavailable:
        return True


# --- Blocking ----------------------------------------------------------------------------------


def is_allowlisted(ip: str) -> bool:
    from security.ip import in_networks

    return bool(ip) and in_networks(ip, settings.SECURITY_ALLOWLIST_NETWORKS)


# The widest networks staff may block by hand: anything wider is a typo or a mistake that would
# lock out a good part of the internet (`0.0.0.0/0`, a whole regional registry's range).
WIDEST_BLOCK_PREFIX = {4: 8, 6: 32}
_NOT_A_TARGET = "Enter a valid IPv4 or IPv6 address, or a network in CIDR notation (203.0.113.0/24)."


def block_target(ip: str) -> str:
    """What a block on `ip` (an address or a network) covers; ValidationError on anything else."""
    from security.ip import block_target as target_of

    try:
        return target_of(ip, ipv6_prefix=settings.IPV6_CLIENT_PREFIX)
    except ValueError:
        raise ValidationError({"ip": [_NOT_A_TARGET]}) from None


def manual_block_check(target: str) -> None:
    """A block by staff must not be absurdly wide nor cover an address the platform must keep
    serving: the allow-list, or a trusted proxy (every client behind it would be refused)."""
    from security.ip import target_network

    network = target_network(target)
    widest = WIDEST_BLOCK_PREFIX[network.version]
    if network.prefixlen < widest:
        raise ValidationError({"ip": [f"{target} is too wide to block: at most a /{widest} for IPv{network.version}."]})
    for name, networks in (
        ("the allow-list (SECURITY_ALLOWLIST)", settings.SECURITY_ALLOWLIST_NETWORKS),
        ("a trusted proxy (TRUSTED_PROXIES)", settings.TRUSTED_PROXY_NETWORKS),
    ):
        covered = [str(n) for n in networks if n.version == network.version and n.overlaps(network)]
        if covered:
            raise ValidationError({"ip": [f"{target} overlaps {name}: {', '.join(covered)}."]})


def ip_block(
    *,
    ip: str,
    rule: str,
    reason: str,
    evidence: dict[str, Any] | None = None,
    minutes: int | None = None,
    by: User | None = None,
    request: Any = None,
) -> BlockedIP | None:
    """Block an address or a network for `minutes` (default `BLOCK_DURATION_MINUTES`): a database
    row (the audit trail), the shared block list, an event and a security alert. An address is
    blocked as its client (`security.ip.client_key`: an IPv6 address blocks its /64). An active
    block is extended rather than duplicated. An automatic block of an allow-listed address does
    nothing (returns None); a block by staff (`rule=manual`) that is too wide or overlaps the
    allow-list or a trusted proxy raises ValidationError, as does anything not an address."""
    from security import blocklist

    target = block_target(ip)
    if rule == BlockRule.MANUAL:
        manual_block_check(target)
    elif is_allowlisted(ip):
        logger.info("not blocking allow-listed %s (%s)", ip, rule)
        return None
    now = timezone.now()
    expires_at = now + timedelta(minutes=minutes or settings.BLOCK_DURATION_MINUTES)
    with transaction.atomic():
        current = BlockedIP.objects.select_for_update().filter(ip=target, unblocked_at__isnull=True).first()
        if current is not None and current.expires_at <= now:
            current.unblocked_at = current.expires_at  # lapsed: close it so a new block can open
            current.save(update_fields=["unblocked_at"])
            current = None
        if current is None:
            block = BlockedIP.objects.create(
                ip=target, rule=rule, reason=reason[:300], evidence=evidence or {}, created_at=now,
                expires_at=expires_at, created_by=by, created_by_system="" if by else f"auto:{rule}",
            )  # fmt: skip
        else:
            block = current
            block.expires_at = max(block.expires_at, expires_at)
            block.evidence = {**block.evidence, "extended": {"rule": rule, "reason": reason, **(evidence or {})}}
            block.save(update_fields=["expires_at", "evidence"])
        transaction.on_commit(lambda: blocklist.add(target, block.expires_at.timestamp()))
    # The event's address is the one that was blocked or misbehaved; a network blocked by staff
    # has none (the staff member's own address must not read as the offender's).
    address = ip.strip() if "/" not in ip else None
    security_event_record(
        kind=EventKind.IP_BLOCKED, severity=Severity.HIGH, ip=address, user=by, request=request if address else None,
        detail={"rule": rule, "reason": reason, "blocked": target, "expires_at": block.expires_at.isoformat()},
    )  # fmt: skip
    return block


def ip_unblock(*, ip: str, by: User | None = None) -> int:
    """Lift every open block on an address (the block on its client: an IPv6 address lifts its
    /64) or on a network; returns how many were lifted."""
    from security import blocklist
    from security.ip import target_network

    target = block_target(ip)
    # A block stored before clients were keyed by network (a single IPv6 address) is found too.
    network = target_network(ip.strip())
    exact = str(network.network_address) if network.num_addresses == 1 else str(network)
    targets = {target, exact}
    with transaction.atomic():
        lifted = BlockedIP.objects.filter(ip__in=targets, unblocked_at__isnull=True).update(
            unblocked_at=timezone.now(), unblocked_by=by
        )
        transaction.on_commit(lambda: [blocklist.remove(t) for t in targets])  # type: ignore[func-returns-value]
    if lifted:
        address = ip.strip() if "/" not in ip else None
        security_event_record(
            kind=EventKind.IP_UNBLOCKED, severity=Severity.MEDIUM, ip=address, user=by, detail={"unblocked": target}
        )
    return lifted


def _count_towards_block(*, ip: str, rule: str, threshold: int, window_seconds: int, reason: str, request: Any) -> None:
    """One more strike for the client of `ip` (an IPv6 client is its /64) under `rule`; at
    `threshold` strikes within the window, block it."""
    from security.ip import client_key

    if not ip or is_allowlisted(ip):
        return
    key = client_key(ip, ipv6_prefix=settings.IPV6_CLIENT_PREFIX)
    result = rate_counters.fixed_window(
        f"strike:{rule}:{key}", limit=max(0, threshold - 1), window_seconds=window_seconds, fail_open=True
    )
    if not result.allowed and result.backend != "unavailable":
        from security import blocklist, kpis

        if blocklist.blocked_until(ip, key=key) is None:
            evidence: dict[str, Any] = {"strikes": threshold, "window_seconds": window_seconds}
            # What the address sent from its first refusal to this block (rate-limit effectiveness).
            abuse = kpis.abuse_evidence(key) if rule == BlockRule.RATE_LIMIT else None
            if abuse is not None:
                evidence["abuse"] = abuse
            ip_block(ip=ip, rule=rule, reason=reason, evidence=evidence, request=request)


def _client_key_of(request: Any) -> str:
    """The client the security middleware counted the request as (an IPv6 client is its /64)."""
    django_request = getattr(request, "_request", request)
    return getattr(django_request, "client_key", "") or getattr(django_request, "client_ip", "")


def rate_limit_violation(*, request: Any, scope: str) -> None:
    from security import kpis

    ip = getattr(getattr(request, "_request", request), "client_ip", "")
    kpis.rate_limit_refused(_client_key_of(request))
    if once_per(f"rl:{scope}:{_client_key_of(request)}", 60):
        security_event_record(kind=EventKind.RATE_LIMITED, severity=Severity.MEDIUM, request=request,
                              detail={"scope": scope})  # fmt: skip
    _count_towards_block(
        ip=ip, rule=BlockRule.RATE_LIMIT, threshold=settings.RATE_LIMIT_VIOLATIONS_TO_BLOCK, window_seconds=600,
        reason=f"repeated rate-limit violations ({scope})", request=request,
    )  # fmt: skip


def scanner_probe(*, request: Any) -> None:
    ip = getattr(request, "client_ip", "")
    security_event_record(kind=EventKind.SCANNER_PATH, severity=Severity.MEDIUM, request=request)
    _count_towards_block(
        ip=ip, rule=BlockRule.SCANNER, threshold=settings.SCANNER_HITS_TO_BLOCK, window_seconds=3600,
        reason=f"probing scanner paths ({request.path[:100]})", request=request,
    )  # fmt: skip


def client_error(*, request: Any) -> None:
    """A 4xx answered to this address: a burst of them blocks it."""
    _count_towards_block(
        ip=getattr(request, "client_ip", ""), rule=BlockRule.ERROR_BURST, threshold=settings.ERROR_BURST_TO_BLOCK,
        window_seconds=60, reason="burst of 4xx responses", request=request,
    )  # fmt: skip


def lockout_recorded(*, request: Any, identifier: str, ip: str) -> None:
    security_event_record(kind=EventKind.LOCKOUT, severity=Severity.MEDIUM, request=request, ip=ip or None,
                          identifier=identifier)  # fmt: skip
    _count_towards_block(
        ip=ip, rule=BlockRule.LOCKOUT, threshold=settings.LOCKOUTS_TO_BLOCK, window_seconds=3600,
        reason="repeated login lockouts", request=request,
    )  # fmt: skip


@dataclass(frozen=True)
class ClearResult:
    events: int
    blocks: int


def security_data_clear(*, older_than: timedelta | None, expired_blocks: bool, dry_run: bool = False) -> ClearResult:
    """Delete events older than `older_than` and (with `expired_blocks`) block rows that are no
    longer active. Active blocks are never deleted: lift them first."""
    now = timezone.now()
    events = (
        SecurityEvent.objects.filter(created_at__lt=now - older_than) if older_than else SecurityEvent.objects.none()
    )
    blocks = (
        BlockedIP.objects.filter(Q(unblocked_at__isnull=False) | Q(expires_at__lte=now))
        if expired_blocks
        else BlockedIP.objects.none()
    )
    if dry_run:
        return ClearResult(events=events.count(), blocks=blocks.count())
    with transaction.atomic():
        if older_than:
            keys.invalidate_events_on_commit()
        return ClearResult(events=events.delete()[0], blocks=blocks.delete()[0])


_blocked_seen: dict[str, float] = {}


def blocked_request(*, request: Any) -> None:
    """A request refused because its client is blocked: one event per client per minute (an
    IPv6 client is its /64, whichever of its addresses it uses). A blocked client hammering the
    site costs a dictionary lookup per request, not a round trip: this process remembers when it
    last recorded it."""
    import time

    ip = _client_key_of(request)
    now = time.monotonic()
    if now - _blocked_seen.get(ip, -1e9) < 60:
        return
    if len(_blocked_seen) > 10_000:
        _blocked_seen.clear()
    _blocked_seen[ip] = now
    if once_per(f"blocked:{ip}", 60):
        security_event_record(kind=EventKind.BLOCKED_REQUEST, severity=Severity.LOW, request=request)
