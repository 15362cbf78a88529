"""The migration that writes events once: the rows stored before it are numbered in their page's
shard with the rolled-up ones first, so each shard's mark covers exactly the rows the old flag
said were rolled up (on PostgreSQL, across the day partitions); and back, the flag is set again
from the marks."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from projects.events import shards
from projects.models import Event, EventSequence, EventWorkerState
from tests.factories import ProjectFactory

SUFFIX = "_event_shards"


def migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


@pytest.mark.django_db(transaction=True)
def test_stored_rows_are_numbered_rolled_up_first_and_the_flag_comes_back_on_the_way_down(settings):
    executor = MigrationExecutor(connection)
    this = next(k for k in executor.loader.disk_migrations if k[0] == "projects" and k[1].endswith(SUFFIX))
    before = list(executor.loader.get_migration(*this).dependencies)
    project = ProjectFactory()
    pages = [project.landing_pages.create(slug=f"shard-{n}", headline="h") for n in range(3)]
    now = timezone.now()

    executor = migrate(before)
    old_apps = executor.loader.project_state(before).apps
    old_event = old_apps.get_model("projects", "Event")
    old_apps.get_model("projects", "EventWorkerState").objects.create(events_rolled_up=7)
    flags: dict[str, bool] = {}
    for n in range(24):
        page = pages[n % 3]
        when = now - timedelta(days=n % 4, minutes=n)  # several days: several partitions on PostgreSQL
        # Rolled up and not interleaved in id order: the numbering must not follow ids alone.
        rolled = n % 3 != 1 and n < 18
        key = f"e{n:02d}".ljust(16, "x")
        old_event.objects.create(
            key=key, page_id=page.pk, kind="view", visitor_hash="v", occurred_at=when, day=when.date(), rolled_up=rolled
        )
        flags[key] = rolled

    migrate([this])
    marks = dict(EventWorkerState.objects.values_list("shard", "rolled_up_to"))
    for row in Event.objects.all():
        assert row.shard == shards.shard_of(row.page_id)
        assert (row.seq <= marks[row.shard]) is flags[row.key], row.key
    for shard in {shards.shard_of(p.pk) for p in pages}:
        numbers = sorted(Event.objects.filter(shard=shard).values_list("seq", flat=True))
        assert numbers == list(range(1, len(numbers) + 1))  # each number once, none skipped
        assert EventSequence.objects.get(shard=shard).next_seq == len(numbers) + 1
    assert sum(EventWorkerState.objects.values_list("events_rolled_up", flat=True)) == 7  # the totals kept

    executor = migrate(before)
    old_event = executor.loader.project_state(before).apps.get_model("projects", "Event")
    assert dict(old_event.objects.values_list("key", "rolled_up")) == flags

    old_event.objects.all().delete()  # the suite's database made again as migrate makes it
    migrate(executor.loader.graph.leaf_nodes())
    EventWorkerState.objects.all().delete()
    EventSequence.objects.all().delete()
