"""The migration that partitions the events table by day: on PostgreSQL the rows, their ids, the
sequence, the indexes and the foreign keys survive the move there and back; on the embedded SQLite
it leaves the plain table as it is."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from projects.events import partitions
from tests.factories import ProjectFactory
from tests.projects.events.test_partitions import unique_keys

SUFFIX = "_event_partitions"


def the_migration(executor: MigrationExecutor) -> tuple[tuple[str, str], list[tuple[str, str]]]:
    """(this migration, what it depends on), found by name whatever its number."""
    key = next(k for k in executor.loader.disk_migrations if k[0] == "projects" and k[1].endswith(SUFFIX))
    return key, list(executor.loader.get_migration(*key).dependencies)


def migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def schema() -> dict[str, object]:
    """What the migration must keep or change: keys, indexes, foreign keys, the id's sequence."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'projects_event'::regclass"
        )
        constraints = {name: (kind, definition) for name, kind, definition in cursor.fetchall()}
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'projects_event' ORDER BY indexname")
        indexes = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT pg_get_serial_sequence('projects_event', 'id')")
        sequence = cursor.fetchone()[0]
    return {"constraints": constraints, "indexes": indexes, "sequence": sequence}


@pytest.mark.django_db(transaction=True)
def test_the_events_move_into_day_partitions_and_back_with_their_ids():
    executor = MigrationExecutor(connection)
    this, before = the_migration(executor)
    page = ProjectFactory().landing_pages.create(slug="moved", headline="h")
    now = timezone.now()
    at = [now, now - timedelta(days=10), now - timedelta(days=10, minutes=1)]

    executor.migrate(before)
    vendor_plain = schema() if connection.vendor == "postgresql" else None
    old = executor.loader.project_state(before).apps.get_model("projects", "Event")
    for i, when in enumerate(at):
        old.objects.create(
            key=f"k{i}" * 8, page_id=page.pk, kind="view", visitor_hash="v", occurred_at=when, day=when.date()
        )
    rows = sorted(old.objects.values_list("id", "key", "occurred_at"))

    executor = migrate([this])
    partitioned_event = executor.loader.project_state([this]).apps.get_model("projects", "Event")
    assert sorted(partitioned_event.objects.values_list("id", "key", "occurred_at")) == rows
    if connection.vendor != "postgresql":
        assert not partitions.is_partitioned()  # the embedded database keeps its plain table
    else:
        assert partitions.is_partitioned()
        ten_days_ago = (now - timedelta(days=10)).astimezone(UTC).date()
        assert partitions.partition_name(ten_days_ago) in {p.name for p in partitions.partitions()}
        assert partitions.default_rows() == 0
        partitioned = schema()
        # The same names: checks and foreign keys as they were, the primary key widened, the
        # unique key on `key` now one per partition.
        assert partitioned["constraints"] == {
            name: (kind, "PRIMARY KEY (id, occurred_at)" if kind == "p" else definition)
            for name, (kind, definition) in vendor_plain["constraints"].items()
            if kind != "u"
        }
        assert {kind for kind, _ in partitioned["constraints"].values()} == {"p", "c", "f"}
        assert [d for k, d in vendor_plain["constraints"].values() if k == "u"] == ["UNIQUE (key)"]
        for p in partitions.partitions():
            assert ("key",) in unique_keys(p.name)
        unique_key = next(n for n, (k, _) in vendor_plain["constraints"].items() if k == "u")
        assert partitioned["indexes"] == [i for i in vendor_plain["indexes"] if i != unique_key]
        assert partitioned["sequence"] == vendor_plain["sequence"]
    # The sequence goes on from where it was.
    new = partitioned_event.objects.create(
        key="n" * 16, page_id=page.pk, kind="view", visitor_hash="v", occurred_at=now, day=now.date()
    )
    assert new.pk > max(r[0] for r in rows)

    executor = migrate(before)
    old = executor.loader.project_state(before).apps.get_model("projects", "Event")
    assert sorted(old.objects.values_list("id", "key", "occurred_at")) == sorted([*rows, (new.pk, new.key, now)])
    if connection.vendor == "postgresql":
        assert not partitions.is_partitioned()
        assert schema() == vendor_plain

    old.objects.all().delete()  # the suite's database made again as migrate makes it
    migrate(executor.loader.graph.leaf_nodes())
    assert partitions.is_partitioned() is (connection.vendor == "postgresql")


def test_the_day_bounds_are_utc_midnights():
    start, end = partitions.day_bounds(datetime(2026, 3, 29, tzinfo=UTC).date())  # a DST change in Europe
    assert (start.isoformat(), end - start) == ("2026-03-29T00:00:00+00:00", timedelta(days=1))
