"""The events table by day on PostgreSQL (projects.events.partitions): made ahead, an event lands in
its day's partition (or DEFAULT, and moves in once its day has one), retention drops whole days
that are rolled up, de-duplication still holds; the embedded SQLite keeps a plain table and prunes
it the same way, a batch at a time."""

import random
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jobs import schedule
from projects import tasks as projects_tasks
from projects.events import buffer, partitions, rollup, worker
from projects.models import DailyRollup, Event, EventWorkerState

postgres = pytest.mark.postgres


def tracked(page, at: datetime, *, key: str | None = None) -> buffer.TrackedEvent:
    return buffer.TrackedEvent(
        id=key or uuid.uuid4().hex, page_id=page.pk, kind="view", visitor_hash="a" * 64, at=at.timestamp()
    )


def store(page, at: datetime, *, rolled_up: bool = False, key: str | None = None) -> str:
    """One event through the worker's write path (`insert_events`); returns its key."""
    event = tracked(page, at, key=key)
    row = Event(key=event.id, **event.model_fields())
    assert buffer.insert_events([row]) == 1
    if rolled_up:  # its shard's mark moved up to it: every row stored before it is rolled up too
        roll_up_to(row)
    # Its deferred foreign-key checks now, as its commit would: PostgreSQL drops no table with
    # checks pending in the transaction (the test's), and the worker's rows are long committed.
    connection.check_constraints()
    return event.id


def roll_up_to(row: Event) -> None:
    EventWorkerState.objects.filter(shard=row.shard).update(rolled_up_to=row.seq)


def partition_of(key: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM projects_event WHERE key = %s", [key])
        return cursor.fetchone()[0]


def unique_keys(table: str) -> set[tuple[str, ...]]:
    """The column lists of the table's unique indexes."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT array_agg(a.attname ORDER BY k.n) FROM pg_index x "
            "CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY k(attnum, n) "
            "JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum "
            "WHERE x.indrelid = %s::regclass AND x.indisunique GROUP BY x.indexrelid",
            [table],
        )
        return {tuple(row[0]) for row in cursor.fetchall()}


def names() -> set[str]:
    return {p.name for p in partitions.partitions()}


def day(days: int) -> datetime:
    """Noon UTC `days` from today."""
    return datetime.combine(timezone.now().astimezone(UTC).date(), datetime.min.time(), tzinfo=UTC) + timedelta(
        days=days, hours=12
    )


# --- Both databases ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_prune_deletes_expired_rolled_up_events_and_keeps_the_others(live_page, settings):
    """The same retention on both databases: on the embedded SQLite a plain table pruned by batch,
    on PostgreSQL a partitioned one whose expired events outside any partition (in DEFAULT) go
    by batch too."""
    assert partitions.is_partitioned() is (connection.vendor == "postgresql")
    old = timezone.now() - timedelta(days=settings.EVENT_RETENTION_DAYS + 5)
    gone = [store(live_page, old + timedelta(minutes=i)) for i in range(3)]
    recent = store(live_page, timezone.now() - timedelta(days=1), rolled_up=True)
    pending = store(live_page, old, rolled_up=False)  # not counted yet: kept until it is
    assert worker.prune(batch=2) == 3  # two batches
    assert set(Event.objects.values_list("key", flat=True)) == {pending, recent}
    assert not Event.objects.filter(key__in=gone).exists()


@pytest.mark.django_db
def test_the_embedded_table_stays_plain_and_partitioning_does_nothing():
    if connection.vendor == "postgresql":
        pytest.skip("the embedded database's behaviour (the suite runs on SQLite without DATABASE_URL)")
    assert partitions.partitions() == [] and partitions.ensure() == []
    assert partitions.default_rows() == 0
    with pytest.raises(CommandError, match="not partitioned"):
        call_command("event_partitions")


@pytest.mark.django_db
def test_the_daily_task_makes_the_partitions_ahead_and_keeps_its_outcome():
    entry = next(e for e in django_settings.CELERY_BEAT_SCHEDULE.values() if e["task"].endswith("partitions_ensure"))
    assert schedule.period_of(entry["task"]) == schedule.DAILY
    partitions.ensure()  # as the migration did (it may have run yesterday, for a long test run)
    assert projects_tasks.events_partitions_ensure.apply().get() == {"made": []}  # nothing left to make
    assert projects_tasks.events_partitions_ensure.apply().get() is None  # once a day


def test_a_duplicate_carries_the_same_instant_by_either_path():
    """A duplicate of an event is the same `TrackedEvent` written straight to the database or read
    back from its buffer entry: both give one `occurred_at` (to the microsecond), so both copies
    land in one day's partition and conflict on (key, occurred_at)."""
    rng = random.Random(25)
    now = datetime(2026, 12, 6, tzinfo=UTC).timestamp()
    instants = [now + rng.uniform(0, 86_400 * 60) for _ in range(20_000)]
    # Ties: exactly half a microsecond past a whole one, the case where two roundings could part.
    instants += [now + n + 0.5e-6 for n in range(0, 86_400 * 60, 86_399)]
    for at in instants:
        event = buffer.TrackedEvent(id="e" * 32, page_id=1, kind="view", visitor_hash="v", at=at)
        direct = event.model_fields()
        buffered = buffer.TrackedEvent.from_fields({k.encode(): v.encode() for k, v in event.fields().items()})
        assert buffered.model_fields()["occurred_at"] == direct["occurred_at"], at


# --- PostgreSQL ----------------------------------------------------------------------------------


@postgres
@pytest.mark.django_db
def test_after_migrate_the_table_is_partitioned_by_day_with_today_and_the_days_ahead():
    assert partitions.is_partitioned()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.partstrat, a.attname FROM pg_partitioned_table p "
            "JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] "
            "WHERE p.partrelid = 'projects_event'::regclass"
        )
        assert cursor.fetchall() == [("r", "occurred_at")]
        cursor.execute(
            "SELECT contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'projects_event'::regclass AND contype IN ('p', 'u') ORDER BY contype"
        )
        assert cursor.fetchall() == [("p", "PRIMARY KEY (id, occurred_at)")]
    today = timezone.now().astimezone(UTC).date()
    listed = partitions.partitions()
    assert listed[-1].default and not any(p.default for p in listed[:-1])
    for p in listed:  # the event's own key, unique in each partition
        assert unique_keys(p.name) == {("id", "occurred_at"), ("key",)}, p.name
    # Today and the days ahead of the day the suite's database was migrated (today, or yesterday
    # for a run that crossed midnight).
    for n in range(django_settings.EVENT_PARTITION_DAYS_AHEAD):
        start, end = partitions.day_bounds(today + timedelta(days=n))
        assert partitions.Partition(partitions.partition_name(today + timedelta(days=n)), start, end) in listed


@postgres
@pytest.mark.django_db
def test_an_event_lands_in_its_days_partition(live_page):
    key = store(live_page, timezone.now())
    assert partition_of(key) == partitions.partition_name(timezone.now().astimezone(UTC).date())


@postgres
@pytest.mark.django_db
def test_ensure_makes_the_days_ahead_once():
    later = day(40)
    made = partitions.ensure(now=later, days_ahead=2)
    assert made == [partitions.partition_name((later + timedelta(days=n)).date()) for n in range(3)]
    assert partitions.ensure(now=later, days_ahead=2) == []
    assert partitions.ensure(now=later + timedelta(days=1), days_ahead=2) == [
        partitions.partition_name((later + timedelta(days=3)).date())
    ]
    listed = {p.name: p for p in partitions.partitions()}
    first = listed[made[0]]
    assert (first.start, first.end) == partitions.day_bounds(later.date())
    assert unique_keys(first.name) == {("id", "occurred_at"), ("key",)}


@postgres
@pytest.mark.django_db
def test_an_event_whose_day_has_no_partition_waits_in_default_and_moves_in(live_page):
    behind = store(live_page, day(-3), rolled_up=True)  # the task fell behind: days with no partition
    ahead = store(live_page, day(30))
    default = partitions.partitions()[-1].name
    assert partition_of(behind) == partition_of(ahead) == default and partitions.default_rows() == 2
    before = {e.key: e for e in Event.objects.all()}

    made = partitions.ensure()

    assert {partitions.partition_name(day(-3).date()), partitions.partition_name(day(30).date())} <= set(made)
    assert partition_of(behind) == partitions.partition_name(day(-3).date())
    assert partition_of(ahead) == partitions.partition_name(day(30).date())
    assert partitions.default_rows() == 0
    after = {e.key: e for e in Event.objects.all()}
    fields = [f.attname for f in Event._meta.concrete_fields]
    assert {k: [getattr(e, f) for f in fields] for k, e in after.items()} == {
        k: [getattr(e, f) for f in fields] for k, e in before.items()
    }  # the same rows, ids and flags included


@postgres
@pytest.mark.django_db
def test_prune_drops_an_expired_rolled_up_day_and_keeps_one_with_pending_rows(live_page, settings):
    retention = settings.EVENT_RETENTION_DAYS
    done_day, pending_day = day(-retention - 3), day(-retention - 2)
    for at in (done_day, pending_day):
        assert partitions.ensure(now=at, days_ahead=0) == [partitions.partition_name(at.date())]
    done = [store(live_page, done_day + timedelta(minutes=i)) for i in range(3)]
    in_default = store(live_page, day(-retention - 10))  # no partition: deleted by batch
    recent = store(live_page, timezone.now())
    waiting = [store(live_page, pending_day, rolled_up=True), store(live_page, pending_day + timedelta(minutes=1))]

    assert worker.prune() == 4

    assert partitions.partition_name(done_day.date()) not in names()
    assert partitions.partition_name(pending_day.date()) in names()
    kept = set(Event.objects.values_list("key", flat=True))
    assert kept == {*waiting, recent} and not kept & {*done, in_default}

    roll_up_to(Event.objects.get(key=waiting[-1]))  # the rollup caught up
    connection.check_constraints()
    assert worker.prune() == 2
    assert partitions.partition_name(pending_day.date()) not in names()
    assert set(Event.objects.values_list("key", flat=True)) == {recent}


@postgres
@pytest.mark.django_db
def test_drop_expired_dry_run_only_says(live_page, settings):
    old = day(-settings.EVENT_RETENTION_DAYS - 3)
    partitions.ensure(now=old, days_ahead=0)
    store(live_page, old, rolled_up=True)
    cutoff = timezone.now() - timedelta(days=settings.EVENT_RETENTION_DAYS)
    said = partitions.drop_expired(cutoff=cutoff, dry_run=True)
    assert (said.partitions, said.rows) == ([partitions.partition_name(old.date())], 1)
    assert partitions.partition_name(old.date()) in names() and Event.objects.count() == 1


@postgres
@pytest.mark.django_db
def test_a_duplicate_event_is_stored_once_before_and_after_it_moves_out_of_default(live_page):
    event = tracked(live_page, day(20))
    again = buffer.TrackedEvent.from_fields({k.encode(): v.encode() for k, v in event.fields().items()})
    assert buffer.write_direct([event])
    buffer.insert_events([Event(key=again.id, **again.model_fields())])  # the worker delivers it too
    assert Event.objects.filter(key=event.id).count() == 1 and partitions.default_rows() == 1
    partitions.ensure()
    buffer.insert_events([Event(key=again.id, **again.model_fields())])  # delivered once more
    assert Event.objects.filter(key=event.id).count() == 1
    assert partition_of(event.id) == partitions.partition_name(day(20).date())


@postgres
@pytest.mark.django_db
def test_a_key_made_from_a_form_token_is_stored_once_a_day(live_page):
    """A pre-order's key comes from its form token, and each copy sent carries its own instant:
    the key is unique in each day's partition, so the copies of a day are one row; the token
    lives 24 hours, so after a midnight a copy counts once more at most."""
    key = f"preorder-{uuid.uuid4().hex}"
    morning = day(0) - timedelta(hours=2)
    for minutes in (0, 1, 7, 180):
        store_copy = tracked(live_page, morning + timedelta(minutes=minutes), key=key)
        buffer.insert_events([Event(key=key, **store_copy.model_fields())])
    assert Event.objects.filter(key=key).count() == 1
    next_day = tracked(live_page, morning + timedelta(days=1), key=key)
    partitions.ensure(now=next_day.model_fields()["occurred_at"], days_ahead=0)
    buffer.insert_events([Event(key=key, **next_day.model_fields())])
    assert Event.objects.filter(key=key).count() == 2


@postgres
@pytest.mark.django_db
def test_the_rollup_reads_only_the_partitions_of_its_batch_and_writes_no_event(live_page):
    """The look-up of the visitors' earlier events names the batch's days as instants too, so
    PostgreSQL reads one day's partition, not every day kept; and an event is written once: the
    rollup moves its shard's mark, it updates no event row."""
    for n in range(1, 4):
        partitions.ensure(now=day(-n), days_ahead=0)
        store(live_page, day(-n), rolled_up=True)
    store(live_page, timezone.now())
    with CaptureQueriesContext(connection) as queries:
        assert rollup.rollup() == 1
    statements = [q["sql"] for q in queries.captured_queries if "projects_event" in q["sql"].split(" WHERE ")[0]]
    looked_up = [sql for sql in statements if sql.startswith('SELECT "projects_event"."page_id"')]
    assert len(looked_up) == 1
    writes = ('UPDATE "projects_event"', 'DELETE FROM "projects_event"')
    assert not [sql for sql in statements if sql.startswith(writes)]
    today = partitions.partition_name(timezone.now().astimezone(UTC).date())
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {looked_up[0]}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert set(re.findall(r"projects_event_(?:p\d{8}|default)\b", plan)) == {today}, plan


@postgres
@pytest.mark.django_db
def test_events_moved_out_of_default_are_rolled_up_once_whether_before_or_after_the_move(live_page):
    """A row moved keeps its shard and number, so the mark that says it is rolled up moves with
    it: one rolled up in DEFAULT is not counted again in its day, one waiting is counted there."""
    later = day(50)
    counted = store(live_page, later)
    assert rollup.rollup() == 1
    waiting = store(live_page, later + timedelta(minutes=1))
    assert partitions.default_rows() == 2
    assert partitions.ensure(now=later, days_ahead=0) == [partitions.partition_name(later.date())]
    assert {partition_of(counted), partition_of(waiting)} == {partitions.partition_name(later.date())}
    assert rollup.rollup() == 1  # only the waiting one
    assert rollup.rollup() == 0
    views = DailyRollup.objects.filter(page=live_page, day=later.date()).aggregate(n=Sum("views"))["n"]
    assert views == 2


# Committed: another connection holds a shard's rollup lock (the suite's flush empties the tables after).
@postgres
@pytest.mark.django_db(transaction=True)
def test_rows_wait_in_default_while_a_rollup_batch_runs_and_move_at_the_next_run(live_page):
    """Moving rows out of DEFAULT waits for every shard's rollup lock: a batch whose read was
    planned before the attach would miss the moved rows and move its mark past them. A wait past
    LOCK_TIMEOUT leaves it to the next run."""
    later = day(50)
    key = store(live_page, later)
    shard = Event.objects.get(key=key).shard
    rollup_worker = connection.copy()  # another worker, in the middle of a rollup batch
    try:
        rollup_worker.set_autocommit(False)
        with rollup_worker.cursor() as cursor:
            cursor.execute("SELECT shard FROM projects_eventworkerstate WHERE shard = %s FOR UPDATE", [shard])
        assert partitions.ensure(now=later, days_ahead=0) == []  # waited LOCK_TIMEOUT, then gave up
        assert partitions.partition_name(later.date()) not in names()
        assert partition_of(key) == partitions.partitions()[-1].name
        rollup_worker.rollback()  # the batch committed
        assert partitions.ensure(now=later, days_ahead=0) == [partitions.partition_name(later.date())]
        assert partition_of(key) == partitions.partition_name(later.date())
    finally:
        rollup_worker.rollback()
        rollup_worker.close()
        with connection.cursor() as cursor:  # the suite's database as migrate made it
            cursor.execute(f"DROP TABLE IF EXISTS {partitions.partition_name(later.date())}")


@postgres
@pytest.mark.django_db
def test_the_command_lists_makes_and_drops(live_page, settings, capsys):
    old = day(-settings.EVENT_RETENTION_DAYS - 3)
    partitions.ensure(now=old, days_ahead=0)
    store(live_page, old, rolled_up=True)
    store(live_page, day(60))  # in DEFAULT
    call_command("event_partitions")
    listing = capsys.readouterr().out
    assert f"{partitions.partition_name(old.date())}  {old:%Y-%m-%d} 00:00 .. " in listing
    assert "projects_event_default  DEFAULT  1 event(s)" in listing

    call_command("event_partitions", "--drop-expired", "--dry-run")
    assert "would drop 1 partition(s)" in capsys.readouterr().out and partitions.partition_name(old.date()) in names()
    call_command("event_partitions", "--drop-expired")
    assert "dropped 1 partition(s)" in capsys.readouterr().out and partitions.partition_name(old.date()) not in names()

    call_command("event_partitions", "--ensure", "--days-ahead", "0")
    out = capsys.readouterr().out
    assert f"made 1 partition(s): {partitions.partition_name(day(60).date())}" in out
    assert "projects_event_default  DEFAULT  0 event(s)" in out

    for bad, message in (
        (["--days-ahead", "3"], "goes with --ensure"),
        (["--ensure", "--days-ahead", "-1"], "from 0 to 366"),
        (["--dry-run"], "goes with --drop-expired"),
    ):
        with pytest.raises(CommandError, match=message):
            call_command("event_partitions", *bad)
