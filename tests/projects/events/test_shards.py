"""Events written once (issue 25, item 3) and rolled up by shards (item 4): a row is never
updated; each shard's high-water mark says what is rolled up, and it is exact however inserts
and rollups interleave."""

import threading
import uuid

import pytest
from django.db import connection, transaction
from django.utils import timezone

from projects.events import shards, worker
from projects.events.buffer import insert_events
from projects.events.rollup import rollup
from projects.models import DailyRollup, Event, EventKind, EventSequence, EventWorkerState, Traffic
from projects.services.pages import landing_page_create, landing_page_publish


def rows(page, count: int, *, visitor: str | None = None, kind: str = EventKind.VIEW) -> list[Event]:
    now = timezone.now()
    return [
        Event(
            key=uuid.uuid4().hex, page_id=page.pk, kind=kind, visitor_hash=visitor or uuid.uuid4().hex,
            occurred_at=now, day=now.date(), traffic=Traffic.HUMAN,
        )
        for _ in range(count)
    ]  # fmt: skip


def roll_all() -> int:
    total = 0
    while n := rollup():
        total += n
    return total


def views(page) -> tuple[int, int, int]:
    """(views, visitors, bounces) of the page's people."""
    got = DailyRollup.objects.filter(page=page, traffic=Traffic.HUMAN)
    return sum(r.views for r in got), sum(r.visitors for r in got), sum(r.bounces for r in got)


def another_page(live_page, slug: str):
    return landing_page_publish(page=landing_page_create(project=live_page.project, slug=slug))


@pytest.fixture
def pages_in_two_shards(live_page, settings):
    settings.EVENT_SHARDS = 2
    other = another_page(live_page, "other")
    while shards.shard_of(other.pk) == shards.shard_of(live_page.pk):
        other = another_page(live_page, f"other-{other.pk}")
    return live_page, other


# --- Exactness with inserts in flight (PostgreSQL: real connections, real row locks) -----------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_insert_committing_after_a_later_one_began_is_still_rolled_up(pages_in_two_shards):
    """The case a mark on row ids gets wrong: a transaction that inserted first commits last. The
    second insert of the same shard waits for the first to commit (so its numbers are higher and
    committed later); a rollup in between sees neither; every row is counted once. An insert of
    another shard does not wait."""
    page, other = pages_in_two_shards
    first_inserted, release_first = threading.Event(), threading.Event()
    second_done, other_done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def in_thread(work) -> threading.Thread:
        def run() -> None:
            try:
                work()
            except BaseException as exc:  # noqa: BLE001 - re-raised by the test
                errors.append(exc)
            finally:
                connection.close()

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    def first() -> None:
        with transaction.atomic():
            insert_events(rows(page, 3))
            first_inserted.set()
            release_first.wait(20)

    def second() -> None:
        insert_events(rows(page, 2))
        second_done.set()

    def elsewhere() -> None:
        insert_events(rows(other, 4))
        other_done.set()

    threads = [in_thread(first)]
    assert first_inserted.wait(20)
    threads += [in_thread(second), in_thread(elsewhere)]
    assert other_done.wait(20), "an insert of another shard waited"
    waited = not second_done.wait(1.0)
    rolled_meanwhile = roll_all()  # the other shard's rows; nothing of the page (none committed)
    release_first.set()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert waited, "the second insert of the shard committed while the first was still open"
    assert rolled_meanwhile == 4 and views(other) == (4, 4, 4) and views(page) == (0, 0, 0)
    assert roll_all() == 5
    assert views(page) == (5, 5, 5)
    numbers = list(Event.objects.filter(page=page).order_by("seq").values_list("seq", flat=True))
    assert numbers == list(range(1, 6))  # no number lost, none given twice
    assert worker.backlog().unrolled == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_shard_another_worker_holds_is_skipped_and_rolled_up_later(pages_in_two_shards):
    page, other = pages_in_two_shards
    insert_events(rows(page, 3) + rows(other, 2))
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                assert shards.lock(shards.shard_of(page.pk)) is not None
                held.set()
                release.wait(20)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(20)
        assert rollup() == 2  # the free shard only, without waiting for the held one
        assert views(other) == (2, 2, 2) and views(page) == (0, 0, 0)
    finally:
        release.set()
        holder.join(30)
    assert rollup() == 3 and views(page) == (3, 3, 3)


# --- The mark ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rolling_up_writes_no_event_row_and_moves_the_mark(live_page, django_assert_num_queries):
    insert_events(rows(live_page, 4))
    before = list(Event.objects.order_by("pk").values_list("pk", "seq", "shard"))
    assert roll_all() == 4
    assert list(Event.objects.order_by("pk").values_list("pk", "seq", "shard")) == before
    state = EventWorkerState.objects.get(shard=shards.shard_of(live_page.pk))
    assert (state.rolled_up_to, state.events_rolled_up) == (4, 4)
    with django_assert_num_queries(1):  # nothing waits: one read of the shards, no lock taken
        assert rollup() == 0


@pytest.mark.django_db
def test_the_mark_passes_numbers_of_rows_never_stored(live_page):
    """A batch delivered twice takes numbers for rows its keys then skip: the mark moves past
    them, and nothing is left waiting."""
    stored = rows(live_page, 3)
    insert_events(stored)
    again = [Event(**{f.attname: getattr(e, f.attname) for f in Event._meta.concrete_fields if f.attname != "id"})
             for e in stored]  # fmt: skip
    assert insert_events(again + rows(live_page, 1)) == 4  # three duplicates skipped, one new row
    assert Event.objects.count() == 4
    assert EventSequence.objects.get(shard=shards.shard_of(live_page.pk)).next_seq == 8
    assert roll_all() == 4 and views(live_page) == (4, 4, 4)
    assert EventWorkerState.objects.get(shard=shards.shard_of(live_page.pk)).rolled_up_to == 7
    assert worker.backlog().unrolled == 0


@pytest.mark.django_db
def test_rows_stored_before_the_shard_count_changed_are_counted_once(live_page, settings):
    """A page moves to another shard when EVENT_SHARDS changes: its rows stored before are rolled
    up by their old shard (holding the new one too), and its visitors are not counted twice."""
    settings.EVENT_SHARDS = 2
    visitor = "v" * 64
    insert_events(rows(live_page, 1, visitor=visitor))
    assert roll_all() == 1
    insert_events(rows(live_page, 1, visitor=visitor, kind=EventKind.CTA_CLICK))  # under the old count, waiting
    old_shard = shards.shard_of(live_page.pk)
    settings.EVENT_SHARDS = 1 if old_shard else live_page.pk + 1  # the page's shard is then 0, or its id
    assert shards.shard_of(live_page.pk) != old_shard
    insert_events(rows(live_page, 1, visitor=visitor) + rows(live_page, 1))  # under the new one
    assert set(Event.objects.values_list("shard", flat=True)) == {old_shard, shards.shard_of(live_page.pk)}
    assert roll_all() == 3
    row = DailyRollup.objects.get(page=live_page, traffic=Traffic.HUMAN)
    assert (row.views, row.visitors, row.bounces, row.cta_clicks, row.clicked_visitors) == (3, 2, 1, 1, 1)
    assert worker.backlog().unrolled == 0
