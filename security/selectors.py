"""Reads of the security domain: the authenticated identity, blocks and security figures."""

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from django.db.models import Count, Max, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone

from mvpvalidator import background
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


# --- Events per hour ---------------------------------------------------------------------------

# An hour's counts are final once no event can still land in it: events are recorded as they
# happen (`created_at` now), so this long past the hour's end also covers a transaction that
# recorded one just before and committed just after.
HOUR_SETTLES_AFTER = timedelta(minutes=5)
# Settled hours are kept this far back (the longest chart, the week's sparklines, and a day).
SETTLED_HOURS_KEPT = timedelta(days=8)
# A deletion of events elsewhere (`security_data_clear`, in another process) shows this late.
EVENTS_GENERATION_MAX_AGE = 5.0
# Kept hours are read again after this long all the same, so what nothing announces (events
# deleted in the admin, a transaction that stayed open past HOUR_SETTLES_AFTER) is seen by then.
SETTLED_HOURS_REREAD_SECONDS = 600.0


class _SettledHours:
    """The event counts of settled hours this process has read: {hour start: (read at, {kind:
    events})}, an hour without events with {} (read, none). Valid under one generation of
    `events_ns` (a deletion bumps it and every hour is read again) and for
    SETTLED_HOURS_REREAD_SECONDS."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.generation: int | None = None
        self.hours: dict[datetime, tuple[float, dict[str, int]]] = {}

    def reset(self) -> None:
        with self.lock:
            self.generation, self.hours = None, {}


_settled_hours = _SettledHours()
background.register("security.settled_hours", reset=_settled_hours.reset)


def _hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def events_by_hour(*, since: datetime, now: datetime | None = None) -> dict[datetime, dict[str, int]]:
    """{hour start: {kind: events}} for every hour from `since`'s to now's (an hour without events
    is {}), for the dashboard's charts and KPIs. An hour settled (`HOUR_SETTLES_AFTER`) is read
    once per process and kept: a render reads only the hours still open, one grouped query over
    the indexed `created_at` (minutes of events rather than the week's)."""
    now = now if now is not None else timezone.now()
    first, current = _hour_of(since), _hour_of(now)
    settled_before = _hour_of(now - HOUR_SETTLES_AFTER)  # hours starting before it are settled
    try:
        generation: int | None = app_cache.generations([keys.events_ns()], max_age=EVENTS_GENERATION_MAX_AGE)[0]
    except app_cache.CacheUnavailable:
        generation = None  # nobody could tell this process of a deletion: keep nothing
    kept = _settled_hours
    read_at = time.monotonic()
    with kept.lock:
        if generation is None or generation != kept.generation:
            kept.generation, kept.hours = generation, {}
        known = {
            h: counts
            for h, (at, counts) in kept.hours.items()
            if first <= h and read_at - at < SETTLED_HOURS_REREAD_SECONDS
        }
        hour, read_from = first, None
        while hour < settled_before and read_from is None:
            if hour not in known:
                read_from = hour
            hour += timedelta(hours=1)
    read_from = read_from or max(first, settled_before)
    rows = counts_by_hour(since=read_from)
    fresh: dict[datetime, dict[str, int]] = {}
    hour = read_from
    while hour <= current:
        fresh[hour] = {}
        hour += timedelta(hours=1)
    for hour, kind, n in rows:
        if hour in fresh:
            fresh[hour][kind] = n
    if generation is not None:
        with kept.lock:
            if kept.generation == generation:
                kept.hours.update((h, (read_at, counts)) for h, counts in fresh.items() if h < settled_before)
                oldest = current - SETTLED_HOURS_KEPT
                for h in [h for h in kept.hours if h < oldest]:
                    del kept.hours[h]
    return {**known, **fresh}


def counts_by_hour(*, since: datetime) -> QuerySet[SecurityEvent, tuple[datetime, str, int]]:
    """(hour start, kind, events) of the events since `since`: one grouped query over the
    indexed `created_at`."""
    return (
        SecurityEvent.objects.filter(created_at__gte=since)
        .annotate(hour=TruncHour("created_at", tzinfo=UTC))
        .values_list("hour", "kind")
        .annotate(n=Count("id"))
        .order_by()
    )


def events_per_hour(*, since: datetime) -> dict[datetime, int]:
    """Security events per hour (the hour's start) from `since`'s hour on; hours without events
    are left out. From `events_by_hour`."""
    return {hour: total for hour, kinds in events_by_hour(since=since).items() if (total := sum(kinds.values()))}


def request_events(request_id: str, *, limit: int = 50) -> list[SecurityEvent]:
    """The security events one request recorded, oldest first, with their user (a request's
    timeline on the dashboard)."""
    return list(
        SecurityEvent.objects.filter(request_id=request_id).select_related("user").order_by("created_at")[:limit]
    )
