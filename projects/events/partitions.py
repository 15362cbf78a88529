"""The events table's partitions on PostgreSQL: one per UTC day of `occurred_at`, and a DEFAULT
partition that takes any event whose day has none (the migration `event_partitions` made them).

- `ensure` makes the partitions of today and the next EVENT_PARTITION_DAYS_AHEAD days (the daily
  `projects.tasks.events_partitions_ensure`, or `manage.py event_partitions --ensure`), and one for
  each day not past the retention that has rows in DEFAULT, moving those rows into it. DEFAULT is
  thus left with rows past the retention at most (the prune deletes them), and a new partition
  never overlaps rows DEFAULT holds (PostgreSQL refuses to make one then).
- `drop_expired` drops the partitions wholly older than the retention cutoff whose rows are all
  rolled up (`projects.events.worker.prune`): a day goes in one statement, not a DELETE per batch.
- `partitions` lists them with their bounds.

Each partition carries the unique index on the event's own `key` (a partitioned table can have no
unique key without `occurred_at`; the migration says why it is kept per partition): a new one is
made like DEFAULT, its indexes included.

On any other database (the embedded SQLite) the table is a plain one: `is_partitioned()` is False,
`ensure` and `drop_expired` do nothing and the prune deletes rows by batch.

Each change runs in a transaction of its own, under one advisory lock (two workers' runs take
turns) and a short lock timeout: the DDL needs a brief exclusive lock, and waiting long for it
would queue the events' inserts behind a long read. A change that times out is left to the next run.
"""

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Q
from django.utils import timezone

from projects.events import shards
from projects.models import Event

logger = logging.getLogger(__name__)

# How long a change waits for a table lock before it gives up until the next run.
LOCK_TIMEOUT = "5s"
# The advisory lock every change of the partitions takes (a constant of this table: "evnt").
ADVISORY_LOCK = 0x65766E74
_BOUNDS = re.compile(r"FOR VALUES FROM \((.+)\) TO \((.+)\)")
_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Partition:
    """A partition of the events: `occurred_at` in [start, end). MINVALUE and MAXVALUE read as the
    earliest and latest instants; the DEFAULT partition has no bounds of its own."""

    name: str
    start: datetime = _EARLIEST
    end: datetime = _LATEST
    default: bool = False

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return not self.default and self.start < end and start < self.end


@dataclass
class Dropped:
    """What `drop_expired` dropped (with dry_run: would drop), and which expired ones it kept."""

    partitions: list[str] = field(default_factory=list)
    rows: int = 0
    pending: list[str] = field(default_factory=list)  # rows not rolled up yet: dropped once they are
    busy: list[str] = field(default_factory=list)  # the lock timed out: the next prune drops them


def _table() -> str:
    return Event._meta.db_table


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _literal(at: datetime) -> str:
    """An instant as an SQL literal: DDL takes no bound parameters."""
    return f"'{at.isoformat()}'"


def _count(cursor: CursorWrapper, sql: str) -> int:
    cursor.execute(sql)
    row = cursor.fetchone()
    return int(row[0]) if row else 0


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The instants a day's partition covers: [00:00 UTC, the next 00:00 UTC)."""
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start, start + timedelta(days=1)


def partition_name(day: date) -> str:
    return f"{_table()}_p{day:%Y%m%d}"


def is_partitioned() -> bool:
    """Whether the events table is partitioned (on PostgreSQL, after the migration)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [_table()])
        row = cursor.fetchone()
    return row is not None and row[0] == "p"


def _bound(text: str, unbounded: datetime) -> datetime:
    return unbounded if text in ("MINVALUE", "MAXVALUE") else datetime.fromisoformat(text.strip("'"))


def partitions() -> list[Partition]:
    """The partitions, by their bounds, the DEFAULT one last (none on a plain table)."""
    if not is_partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
            [_table()],
        )
        rows = cursor.fetchall()
    found = []
    for name, bound in rows:
        if bound == "DEFAULT":
            found.append(Partition(name, default=True))
            continue
        match = _BOUNDS.fullmatch(bound)
        if match is None:  # a list or hash partition: not one this module made
            raise ValueError(f"partition {name} has bounds this module does not read: {bound}")
        found.append(Partition(name, _bound(match[1], _EARLIEST), _bound(match[2], _LATEST)))
    return sorted(found, key=lambda p: (p.default, p.start, p.end))


def _default(existing: list[Partition]) -> Partition | None:
    return next((p for p in existing if p.default), None)


def _lock(cursor: CursorWrapper) -> None:
    """In a transaction: wait for any other change of the partitions to end, and bound every wait
    for a table lock that follows."""
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK])
    cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")


def _timed_out(exc: OperationalError) -> bool:
    return getattr(exc.__cause__, "sqlstate", None) == "55P03"  # lock_not_available


# --- Making them ahead -----------------------------------------------------------------------


def ensure(*, now: datetime | None = None, days_ahead: int | None = None) -> list[str]:
    """Make the partitions of today and the next `days_ahead` days (EVENT_PARTITION_DAYS_AHEAD),
    and of each day not past the retention that has rows in DEFAULT (moved into it). Idempotent.
    Returns the names made; a day whose lock timed out is left to the next run (logged)."""
    if not is_partitioned():
        return []
    now = now or timezone.now()
    ahead = settings.EVENT_PARTITION_DAYS_AHEAD if days_ahead is None else days_ahead
    today = now.astimezone(UTC).date()
    cutoff = now - timedelta(days=settings.EVENT_RETENTION_DAYS)
    wanted = {today + timedelta(days=n) for n in range(ahead + 1)}
    default = _default(partitions())
    if default is not None:
        wanted |= {day for day in _days_in(default.name) if day_bounds(day)[1] > cutoff}
    made = []
    for day in sorted(wanted):
        try:
            if _make(day):
                made.append(partition_name(day))
        except OperationalError as exc:
            if not _timed_out(exc):
                raise
            logger.warning("the partition of %s was not made: its lock timed out (the next run makes it)", day)
    if made:
        logger.info("event partitions made: %s", ", ".join(made))
    return made


def _days_in(name: str) -> list[date]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT (occurred_at AT TIME ZONE 'UTC')::date FROM {_quote(name)}")  # noqa: S608
        return [row[0] for row in cursor.fetchall()]


def _make(day: date) -> bool:
    """Make the partition of `day`, unless one overlaps it (False); the rows DEFAULT holds for that
    day move into it."""
    start, end = day_bounds(day)
    name, table, check = partition_name(day), _table(), _quote(f"{partition_name(day)}_bounds")
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor)
        existing = partitions()  # read again under the lock
        if any(p.overlaps(start, end) for p in existing):
            return False
        # Made apart, then attached (not CREATE ... PARTITION OF): attaching locks the events table
        # only against other DDL (SHARE UPDATE EXCLUSIVE), so the inserts of events go on. Made like
        # DEFAULT (or the latest day), indexes included: the unique key on the event's own `key`
        # is one of each partition's (the migration says why); the others the attach adopts. The
        # CHECK of the bounds spares the attach a scan of the new table.
        dated = [p for p in existing if not p.default]
        template = (_default(existing) or (dated[-1] if dated else Partition(table))).name
        cursor.execute(
            f"CREATE TABLE {_quote(name)} (LIKE {_quote(template)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
            "INCLUDING INDEXES INCLUDING COMMENTS)"
        )
        cursor.execute(
            f"ALTER TABLE {_quote(name)} ADD CONSTRAINT {check} CHECK (occurred_at IS NOT NULL "
            f"AND occurred_at >= {_literal(start)} AND occurred_at < {_literal(end)})"
        )
        default = _default(existing)
        if default is not None:
            # A moved row keeps its shard and number, but a rollup's read planned before the
            # attach does not see the new partition and, run after the move, no longer finds the
            # rows in DEFAULT: its batch would move the shard's mark past rows it never counted.
            shards.wait_for_all()
            # DEFAULT locked before the move, so no event of the day lands there between the move
            # and the attach (which refuses when DEFAULT holds one); the events table first, in the
            # order an insert locks them.
            cursor.execute(f"LOCK TABLE ONLY {_quote(table)} IN SHARE UPDATE EXCLUSIVE MODE")
            cursor.execute(f"LOCK TABLE {_quote(default.name)} IN ACCESS EXCLUSIVE MODE")
            cursor.execute(
                f"WITH moved AS (DELETE FROM {_quote(default.name)} WHERE occurred_at >= %s AND occurred_at < %s "  # noqa: S608
                f"RETURNING *) INSERT INTO {_quote(name)} SELECT * FROM moved",
                [start, end],
            )
            if cursor.rowcount:
                logger.warning("moved %d events of %s out of the DEFAULT partition", cursor.rowcount, day)
        cursor.execute(
            f"ALTER TABLE {_quote(table)} ATTACH PARTITION {_quote(name)} "
            f"FOR VALUES FROM ({_literal(start)}) TO ({_literal(end)})"
        )
        cursor.execute(f"ALTER TABLE {_quote(name)} DROP CONSTRAINT {check}")
    return True


# --- Dropping them past the retention ----------------------------------------------------------


def _partition_has_pending(partition: Partition) -> bool:
    """Whether the partition holds an event the rollup has not counted yet (above its shard's
    mark): the one place that says when a whole partition is rolled up (then it may go). Named by
    its bounds, so PostgreSQL reads that partition alone."""
    mine = Event.objects.filter(occurred_at__gte=partition.start, occurred_at__lt=partition.end)
    return mine.exclude(shards.rolled_up()).exists()


def expired(cutoff: datetime) -> list[Partition]:
    """The dated partitions whose every instant is before `cutoff`."""
    return [p for p in partitions() if not p.default and p.end <= cutoff]


def drop_expired(*, cutoff: datetime, dry_run: bool = False) -> Dropped:
    """Drop each partition wholly older than `cutoff` whose rows are all rolled up, one transaction
    each (its rows counted, then the table dropped). With `dry_run`, only say which."""
    result = Dropped()
    for partition in expired(cutoff):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                _lock(cursor)
                if _partition_has_pending(partition):
                    result.pending.append(partition.name)
                    continue
                rows = _count(cursor, f"SELECT count(*) FROM {_quote(partition.name)}")  # noqa: S608
                if not dry_run:
                    cursor.execute(f"DROP TABLE {_quote(partition.name)}")
        except OperationalError as exc:
            if not _timed_out(exc):
                raise
            result.busy.append(partition.name)
            logger.warning("partition %s was not dropped: its lock timed out (the next prune drops it)", partition.name)
            continue
        result.partitions.append(partition.name)
        result.rows += rows
    if result.partitions and not dry_run:
        logger.info("event partitions dropped: %s (%d events)", ", ".join(result.partitions), result.rows)
    if result.pending:
        logger.info("expired event partitions kept, events not rolled up yet: %s", ", ".join(result.pending))
    return result


def outside_partitions(before: datetime) -> Q | None:
    """The events older than `before` that no dated partition can hold, so only DEFAULT can:
    `occurred_at` in a gap between the dated partitions. A filter the planner prunes the scan to
    DEFAULT with; None when there is no gap (no such event can exist)."""
    gaps: list[Q] = []
    edge = _EARLIEST  # every instant before it is covered or in a gap already
    for p in partitions():
        if p.default or edge >= before:
            continue
        if p.start > edge:
            gaps.append(_between(edge, min(p.start, before)))
        edge = max(edge, p.end)
    if edge < before:
        gaps.append(_between(edge, before))
    if not gaps:
        return None
    combined = gaps[0]
    for gap in gaps[1:]:
        combined |= gap
    return combined


def _between(start: datetime, end: datetime) -> Q:
    return Q(occurred_at__lt=end) if start == _EARLIEST else Q(occurred_at__gte=start, occurred_at__lt=end)


def default_rows() -> int:
    """The events in the DEFAULT partition (0 without one, or on a plain table)."""
    default = _default(partitions())
    if default is None:
        return 0
    with connection.cursor() as cursor:
        return _count(cursor, f"SELECT count(*) FROM {_quote(default.name)}")  # noqa: S608
