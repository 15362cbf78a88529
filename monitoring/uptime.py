"""Uptime from the health endpoint's own history.

Every answer of the health endpoint records its minute (`HealthMinute`, one row per minute with
the worst status answered in it). Uptime is the share of minutes that answered `ok` or
`degraded`; a minute in which nobody could ask, or in which the answer was `down`, or whose row
could not be written (the database may be what is down) counts against it. The rows live in the
database, so the figure survives restarts and every process sees the same history.

Minutes are counted from the later of the window's start and the first minute ever recorded, so
a new install is not "down" for the days before it existed. The current minute counts once it
has an answer (a probe every minute may not have asked yet); every earlier minute counts.

Cost: at most one write per minute per process (a process-local guard remembers the minute and
status last written), plus one when a worse status comes in the same minute. Rows older than
RETENTION_DAYS are pruned with the other monitoring data.
"""

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import DatabaseError, transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncHour
from django.utils import timezone

from monitoring import context, kpis
from monitoring.models import HealthMinute

logger = logging.getLogger(__name__)

RETENTION_DAYS = 31
UP_STATUSES = ("ok", "degraded")
_RANK = {"ok": 0, "degraded": 1, "down": 2}
WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}

# The clock the recorder and readers use when given no `now` (tests move it).
clock: Callable[[], datetime] = timezone.now


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


class _Guard:
    """The minute and status this process last wrote (or tried to): a repeat is skipped."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last: tuple[datetime, int] | None = None

    def claim(self, minute: datetime, rank: int) -> bool:
        """Whether this answer needs a write: a new minute, or a worse status in the same one."""
        with self.lock:
            if self.last is not None and self.last[0] == minute and self.last[1] >= rank:
                return False
            if self.last is not None and self.last[0] > minute:
                return False  # a late caller for a minute already passed: its row is written
            self.last = (minute, rank)
            return True

    def forget(self) -> None:
        with self.lock:
            self.last = None


_guard = _Guard()


def forget() -> None:
    """Drop the process's guard (a restart; tests)."""
    _guard.forget()


def record(status: str, *, now: datetime | None = None) -> bool:
    """Record that health answered `status` this minute; True when a row was written.

    Never raises: a failed write (the database away) leaves the minute unrecorded, which counts
    as down, and the guard keeps this process from retrying within the minute."""
    rank = _RANK.get(status, _RANK["down"])
    status = status if status in _RANK else "down"
    minute = _minute(now if now is not None else clock())
    if not _guard.claim(minute, rank):
        return False
    try:
        with context.own_writes(), transaction.atomic():
            _upsert(minute, status, rank)
    except DatabaseError as exc:
        logger.warning("uptime: minute %s not recorded (%s)", minute.isoformat(), type(exc).__name__)
        return False
    return True


def _upsert(minute: datetime, status: str, rank: int) -> None:
    """Insert the minute, or raise its status when another process wrote a better one: two
    statements, each safe against a concurrent writer (the insert ignores the unique conflict;
    the update only ever moves a status to a worse one)."""
    HealthMinute.objects.bulk_create([HealthMinute(minute=minute, status=status)], ignore_conflicts=True)
    better = [name for name, r in _RANK.items() if r < rank]
    if better:
        HealthMinute.objects.filter(minute=minute, status__in=better).update(status=status)


def prune(*, now: datetime | None = None) -> int:
    """Delete minutes older than RETENTION_DAYS (the longest window is 30 days)."""
    cutoff = (now if now is not None else clock()) - timedelta(days=RETENTION_DAYS)
    deleted, _ = HealthMinute.objects.filter(minute__lt=cutoff).delete()
    return deleted


def _first_minute() -> datetime | None:
    return HealthMinute.objects.order_by("minute").values_list("minute", flat=True).first()


def _minutes_between(begin: datetime, end: datetime) -> int:
    """Whole minutes from `begin` up to, not including, `end`."""
    return max(0, int((end - begin).total_seconds() // 60))


def shares(*, now: datetime | None = None, hours: int = 24) -> dict[str, Any] | None:
    """Uptime over `hours` hours and over 24 h / 7 d / 30 d: {"value", "24h", "7d", "30d",
    "minutes_up", "minutes_total", "since"}, or None before the first recorded minute."""
    now = now if now is not None else clock()
    first = _first_minute()
    if first is None:
        return None
    current = _minute(now)
    windows = {"window": timedelta(hours=hours), **WINDOWS}
    begins = {name: max(_minute(now - span), first) for name, span in windows.items()}
    aggregates = {
        f"up_{name}": Count("id", filter=Q(minute__gte=begin, minute__lte=current, status__in=UP_STATUSES))
        for name, begin in begins.items()
    }
    counts = HealthMinute.objects.filter(minute__gte=min(begins.values()), minute__lte=current).aggregate(
        current=Count("id", filter=Q(minute=current)), **aggregates
    )
    answered_now = bool(counts["current"])
    result: dict[str, Any] = {"since": first.isoformat()}
    for name, begin in begins.items():
        total = _minutes_between(begin, current) + int(answered_now and current >= begin)
        up = counts[f"up_{name}"]
        result[name] = up / total if total else None
        if name == "window":
            result["minutes_up"], result["minutes_total"] = up, total
    result["value"] = result.pop("window")
    return result


def hourly(hours: int, *, now: datetime | None = None) -> list[float | None]:
    """Uptime per hour over the last `hours` hours, oldest first; None for hours before the
    first recorded minute. Counted per hour in the database (a week is 168 rows, not 10,080)."""
    now = (now if now is not None else clock()).astimezone(UTC)
    first = _first_minute()
    if first is None:
        return [None] * hours
    current = _minute(now)
    current_hour = current.replace(minute=0)
    starts = [current_hour - timedelta(hours=h) for h in range(hours - 1, -1, -1)]
    per_hour = (
        HealthMinute.objects.filter(minute__gte=starts[0], minute__lte=current)
        .annotate(hour=TruncHour("minute", tzinfo=UTC))
        .values("hour")
        .annotate(up=Count("id", filter=Q(status__in=UP_STATUSES)), now=Count("id", filter=Q(minute=current)))
    )
    up_in = {row["hour"]: row["up"] for row in per_hour}
    answered_now = any(row["now"] for row in per_hour)
    values: list[float | None] = []
    for start in starts:
        begin = max(start, first)
        end = min(start + timedelta(hours=1), current)
        total = _minutes_between(begin, end) + int(answered_now and start == current_hour and current >= begin)
        values.append(up_in.get(start, 0) / total if total else None)
    return values


@kpis.reader("uptime")
def read(hours: int) -> kpis.Reading:
    figures = shares(hours=hours)
    if figures is None:
        return kpis.Reading(None, note="no health answer recorded yet")
    value = figures.pop("value")
    return kpis.Reading(
        value,
        figures,
        note="minutes in which /api/monitoring/health answered ok or degraded; an unanswered minute counts as down",
    )


@kpis.history("uptime")
def read_hourly(hours: int) -> list[float | None]:
    return hourly(hours)
