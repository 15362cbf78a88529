"""Event rows made by tests, stored as the platform stores them: numbered in their shard's
sequence (`projects.events.buffer.insert_events`), so the rollup finds them above the mark."""

from typing import Any

from django.conf import settings
from django.db import connection

from projects.events.buffer import insert_events
from projects.models import Event, EventWorkerState


def store_event(**fields: Any) -> Event:
    row = Event(**fields)
    assert insert_events([row]) == 1
    return row


def store_rolled_up_event(**fields: Any) -> Event:
    """A row as if rolled up long ago (before the breakdowns existed, say): its shard's mark moved
    up to it, rollups untouched. Only after everything stored before it is rolled up."""
    row = store_event(**fields)
    EventWorkerState.objects.filter(shard=row.shard).update(rolled_up_to=row.seq)
    return row


def event_write_queries() -> int:
    """The queries one event costs the page that records it: none when it is buffered in Redis;
    without Redis, a row: its number in its shard's sequence (one UPDATE ... RETURNING) and its
    INSERT, in a savepoint when the caller holds a transaction, as a test does (a refused row
    must not break it)."""
    if settings.ENABLE_REDIS_CACHE:
        return 0
    return 4 if connection.in_atomic_block else 2
