"""The event shards: what is rolled up, and who rolls it up.

A page's events belong to shard `page_id % EVENT_SHARDS`. Each shard has a sequence
(`EventSequence`: the numbers its rows get, in commit order) and a rollup state
(`EventWorkerState`: the lock one worker holds while it rolls the shard up, and the high-water
mark `rolled_up_to`: every row of the shard with `seq` at or below it is in the rollups). A row is
written once; rolling it up moves the mark, never the row.

Why a sequence of its own and not the row id: an id is handed out when a row is inserted, not when
it commits, so a mark on ids would skip a row whose transaction commits after a row with a higher
id was rolled up. `number` takes the shard's sequence row lock (`UPDATE ... RETURNING`) inside the
inserting transaction, held until it commits: the next insert of the shard waits for it, so a
higher number is never committed before a lower one, and a rollup that has read a shard's rows up
to some number never sees a lower one appear later. (SQLite runs one writing transaction at a
time: the same order, for free.)
"""

import operator
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import reduce
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from projects.models import Event, EventSequence, EventWorkerState


def shard_of(page_id: int) -> int:
    """The shard that rolls up a page's events (one shard at a time owns a page's rollups)."""
    shards: int = settings.EVENT_SHARDS
    return page_id % shards


def _create(shards: Iterable[int]) -> None:
    """The sequence and rollup state of shards seen for the first time (both at once, so every
    shard with rows has a mark)."""
    wanted = sorted(set(shards))
    EventSequence.objects.bulk_create([EventSequence(shard=s) for s in wanted], ignore_conflicts=True)
    EventWorkerState.objects.bulk_create([EventWorkerState(shard=s) for s in wanted], ignore_conflicts=True)


def _take(cursor: Any, shard: int, count: int) -> int:
    """Reserve `count` numbers of the shard's sequence (its row stays locked until the caller's
    transaction ends); returns the last of them."""
    table = connection.ops.quote_name(EventSequence._meta.db_table)
    sql = f"UPDATE {table} SET next_seq = next_seq + %s WHERE shard = %s RETURNING next_seq"  # noqa: S608 - a table name
    cursor.execute(sql, [count, shard])
    row = cursor.fetchone()
    if row is None:
        _create([shard])
        cursor.execute(sql, [count, shard])
        row = cursor.fetchone()
    last: int = row[0] - 1
    return last


def number(rows: Sequence[Event]) -> None:
    """Give each row its shard and its number in the shard's sequence, in the order of `rows`.
    Call inside the transaction that inserts them, right before the insert: the shards' sequence
    rows stay locked until it commits (see the module's docstring)."""
    by_shard: dict[int, list[Event]] = defaultdict(list)
    for row in rows:
        row.shard = shard_of(row.page_id)
        by_shard[row.shard].append(row)
    with connection.cursor() as cursor:
        # Always in shard order: two inserts that share shards lock them in the same order, so
        # neither waits for the other in a cycle.
        for shard in sorted(by_shard):
            mine = by_shard[shard]
            last = _take(cursor, shard, len(mine))
            for seq, row in enumerate(mine, start=last - len(mine) + 1):
                row.seq = seq


def _mark(shard: Any) -> Subquery:
    return Subquery(EventWorkerState.objects.filter(shard=shard).values("rolled_up_to")[:1])


def rolled_up() -> Q:
    """The rows in the rollups: at or below their shard's mark, read by the same statement (for
    queries led by another index: a visitor's earlier events, a day, the rows past retention)."""
    return Q(seq__lte=Coalesce(_mark(OuterRef("shard")), Value(0)))


def _any(parts: list[Q]) -> Q:
    return reduce(operator.or_, parts) if parts else Q(pk__in=[])


def waiting_in(shards: Iterable[int]) -> Q:
    """The rows of these shards not rolled up yet: one index range of `event_shard_seq_idx` per
    shard, from its mark (read once by the statement)."""
    return _any([Q(shard=shard, seq__gt=Coalesce(_mark(shard), Value(0))) for shard in sorted(set(shards))])


def waiting_above(marks: dict[int, int]) -> Q:
    """The rows not rolled up yet, given every shard's mark (`marks`)."""
    return _any([Q(shard=shard, seq__gt=mark) for shard, mark in sorted(marks.items())])


def with_work() -> list[tuple[int, int]]:
    """The shards with rows committed above their mark, as (shard, the last number committed),
    from a random one on: two workers start their passes apart. One query."""
    found: list[tuple[int, int]] = []
    missing: list[int] = []
    rows = EventSequence.objects.annotate(mark=_mark(OuterRef("shard"))).values_list("shard", "next_seq", "mark")
    for shard, next_seq, mark in rows:
        if mark is None:
            missing.append(shard)
        if next_seq - 1 > (mark or 0):
            found.append((shard, next_seq - 1))
    if missing:
        _create(missing)  # a state row lost (deleted by hand): back, with nothing rolled up
    if not found:
        return found
    start = random.randrange(len(found))  # noqa: S311 - spreading workers, not a secret
    return found[start:] + found[:start]


def lock(shard: int) -> EventWorkerState | None:
    """The shard's rollup state, locked until the transaction ends; None while another worker
    holds it (this one moves on to the next shard)."""
    if connection.features.has_select_for_update_skip_locked:
        return EventWorkerState.objects.select_for_update(skip_locked=True).filter(shard=shard).first()
    # SQLite has no row locks: a write takes the database's write lock until the commit, so the
    # rollups of two processes run one after the other (the second waits, then sees the first's).
    if not EventWorkerState.objects.filter(shard=shard).update(rolled_up_to=F("rolled_up_to")):
        return None
    return EventWorkerState.objects.get(shard=shard)


def lock_also(shards: Iterable[int]) -> bool:
    """The rollup locks of more shards, in the same transaction; False (none kept waiting) when
    another worker holds one. For a batch whose pages now belong to another shard (EVENT_SHARDS
    changed since its rows were stored): holding the pages' new shard too, no other worker rolls
    them up meanwhile."""
    wanted = sorted(set(shards))
    if not connection.features.has_select_for_update_skip_locked:
        return True  # SQLite: the write lock taken by `lock` already serialises every rollup
    _create(wanted)
    held = EventWorkerState.objects.select_for_update(skip_locked=True).filter(shard__in=wanted)
    return len(list(held.values_list("shard", flat=True))) == len(wanted)


def wait_for(shard: int) -> EventWorkerState:
    """The shard's rollup lock, waited for (not skipped as a worker does) until the transaction
    ends: for rebuilding rows the shard's rollup also writes."""
    _create([shard])
    if connection.features.has_select_for_update:
        return EventWorkerState.objects.select_for_update().get(shard=shard)
    EventWorkerState.objects.filter(shard=shard).update(rolled_up_to=F("rolled_up_to"))
    return EventWorkerState.objects.get(shard=shard)


def wait_for_all() -> None:
    """Every shard's rollup lock, waited for until the transaction ends: the rollup batches in
    progress finish first and no other starts meanwhile (for moving rows between partitions, see
    `projects.events.partitions`). In shard order, as passes take them; PostgreSQL only (the
    events table is partitioned nowhere else)."""
    list(EventWorkerState.objects.select_for_update().order_by("shard").values_list("shard", flat=True))
