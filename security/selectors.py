"""Reads of the security domain: the authenticated identity, blocks and security figures."""

from datetime import datetime, timedelta
from typing import Any, cast

from django.db.models import Count, Max, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone

from mvpvalidator import cache as app_cache
from security import cache as keys
from security.models import BlockedIP, EventKind, SecurityEvent, User

# Loaded for an authenticated request and cached. The password hash is left out on purpose:
# it never goes to the shared cache, and the instance built from the cached values treats it
# as a deferred field (read from the database only if something asks for it, and left alone
# by `save()`).
# `Model.from_db` takes the values in the model's field order, so the list follows it.
AUTH_FIELDS = tuple(f.attname for f in User._meta.concrete_fields if f.attname != "password")


def user_get_for_auth(*, user_id: int) -> User:
    """The user behind a token, cached under `user:<id>`; raises `User.DoesNotExist`.

    The cache holds plain field values and every call builds a fresh instance, so requests
    never share a mutable model object.
    """

    def compute() -> tuple[Any, ...]:
        return cast(tuple[Any, ...], User.objects.filter(pk=user_id).values_list(*AUTH_FIELDS).get())

    values = app_cache.get_or_set(keys.ACCOUNT, ("auth", user_id), compute, namespaces=[keys.user_ns(user_id)])
    if len(values) != len(AUTH_FIELDS):
        # Cached before a deploy that added a field to the user: never read it into the wrong
        # fields. The entry lapses with its TTL or the next change to the account.
        values = compute()
    return User.from_db(User.objects.db, list(AUTH_FIELDS), list(values))


# --- Security figures ---------------------------------------------------------------------------

STATS_WINDOWS: dict[str, int] = {"1h": 60, "24h": 24 * 60, "7d": 7 * 24 * 60}


BLOCKS_LISTED = 100  # active blocks listed by the stats (newest first); the admin lists them all
BLOCK_FIELDS = ("ip", "rule", "reason", "evidence", "created_at", "expires_at")


def active_blocks() -> QuerySet[BlockedIP]:
    return BlockedIP.objects.filter(unblocked_at__isnull=True, expires_at__gt=timezone.now()).order_by("-created_at")


def security_stats(window: str = "24h") -> dict[str, Any]:
    """Blocked addresses, events by kind and severity, top offenders and recent lockouts, for
    `GET /api/monitoring/security-stats` and the dashboard."""
    since = timezone.now() - timedelta(minutes=STATS_WINDOWS[window])
    events = SecurityEvent.objects.filter(created_at__gte=since)
    # One pass over the window's events for both breakdowns (a handful of kind x severity rows).
    by_kind: dict[str, int] = {}
    by_severity: dict[str, int] = {}
    for kind, severity, n in events.values_list("kind", "severity").annotate(n=Count("id")).order_by():
        by_kind[kind] = by_kind.get(kind, 0) + n
        by_severity[severity] = by_severity.get(severity, 0) + n
    offenders = list(
        events.exclude(ip__isnull=True)
        .values("ip")
        .annotate(events=Count("id"), last_seen=Max("created_at"))
        .order_by("-events", "ip")[:10]
    )
    # Plain rows, not model instances: the dashboard renders this on every refresh.
    blocks = []
    for row in active_blocks().values(*BLOCK_FIELDS, "created_by__email", "created_by_system")[:BLOCKS_LISTED]:
        by_user, by_system = row.pop("created_by__email"), row.pop("created_by_system")
        blocks.append({**row, "created_by": by_user or by_system})
    lockouts = list(
        events.filter(kind=EventKind.LOCKOUT).values("ip", "identifier", "created_at").order_by("-created_at")[:20]
    )
    return {
        "window": window,
        "blocked_ips": blocks,
        "blocked_count": len(blocks),
        "events_total": sum(by_kind.values()),
        "events_by_kind": by_kind,
        "events_by_severity": by_severity,
        "top_offenders": offenders,
        "recent_lockouts": lockouts,
    }


def events_per_hour(*, since: datetime) -> dict[datetime, int]:
    """Security events per hour (the hour's start) since `since`; hours without events are
    left out. One grouped query over the indexed `created_at`, for the dashboard's chart."""
    return dict(
        SecurityEvent.objects.filter(created_at__gte=since)
        .annotate(hour=TruncHour("created_at"))
        .values_list("hour")
        .annotate(n=Count("id"))
        .order_by()
    )


def request_events(request_id: str, *, limit: int = 50) -> list[SecurityEvent]:
    """The security events one request recorded, oldest first, with their user (a request's
    timeline on the dashboard)."""
    return list(
        SecurityEvent.objects.filter(request_id=request_id).select_related("user").order_by("created_at")[:limit]
    )
