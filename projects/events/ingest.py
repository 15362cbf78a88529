"""Step 1 of the event worker: the Redis buffer into `Event` rows (`projects.events.worker`
loops over it, `projects.events.rollup` is step 2).

The buffer is on the Redis server of EVENTS_REDIS_URL (`mvpvalidator.cache.backend`'s `events_*`).
Each worker reads the page streams through one Redis consumer group, so every entry is
delivered to one worker (`XREADGROUP`); it inserts the batch (the entry id is the row's unique
`key`, so a batch delivered again is inserted once) and only then acknowledges and deletes the
entries. Entries a dead worker had claimed are taken over after EVENT_CLAIM_IDLE_SECONDS
(`XAUTOCLAIM`). A page whose stream has gone quiet leaves the set of pages read
(`forget_quiet_pages`). The buffer is also read as it is: how much waits, and the events of
some pages (the live part of analytics).
"""

import contextlib
import logging
import time
from collections.abc import Iterable
from typing import Any, cast

from django.conf import settings

from mvpvalidator.cache import CacheUnavailable
from mvpvalidator.cache.backend import events_call, events_redis_client, events_shared
from projects.events.buffer import (
    ANNOUNCE_EVERY_SECONDS,
    GROUP,
    TrackedEvent,
    active_pages_key,
    flush_outbox,
    insert_events,
    stream_key,
)
from projects.models import Event, LandingPage

logger = logging.getLogger(__name__)

_groups_made: set[str] = set()
_last_claim = 0.0
_last_forget = 0.0
_next_start = 0

# A page leaves the set of pages the worker reads when its stream is empty (every entry stored
# and acknowledged) and its last entry is older than this by Redis's clock: twice the interval at
# which a process announces a page it sends events to, and a margin. A process announces a page
# with an entry, so one that sends the page an event after its removal announced it more than an
# interval before, and announces it again with that event (after the entry,
# `buffer._buffer_many`): the page is read again, and no entry waits outside the set.
QUIET_MS = int((2 * ANNOUNCE_EVERY_SECONDS + 30) * 1000)
FORGET_EVERY_SECONDS = ANNOUNCE_EVERY_SECONDS / 2
# Atomic in Redis: no entry can arrive between the check and the removal. KEYS: the set, the
# page's stream; ARGV: the page, QUIET_MS. The stream goes too (empty; its group is made again
# with the next entry).
_FORGET_IF_QUIET = """
if redis.call('XLEN', KEYS[2]) > 0 then return 0 end
local last = 0
local ok, info = pcall(redis.call, 'XINFO', 'STREAM', KEYS[2])
if ok then
    for i = 1, #info, 2 do
        if info[i] == 'last-generated-id' then last = tonumber(string.match(info[i + 1], '^(%d+)')) end
    end
end
local now = redis.call('TIME')
if tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - last < tonumber(ARGV[2]) then return 0 end
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return 1
"""


def forget_quiet_pages() -> list[int]:
    """Take the pages gone quiet (see QUIET_MS) out of the set of pages with a stream, so the
    worker's passes read the pages with traffic, not every page ever viewed. Returns them."""

    def run() -> list[int]:
        client = events_redis_client()
        pages = sorted(int(p) for p in client.smembers(active_pages_key()))
        if not pages:
            return []
        script = client.register_script(_FORGET_IF_QUIET)
        pipe = client.pipeline(transaction=False)
        for page in pages:
            script(keys=[active_pages_key(), stream_key(page)], args=[page, QUIET_MS], client=pipe)
        return [page for page, gone in zip(pages, pipe.execute(), strict=True) if gone]

    gone = events_call(run)
    for page in gone:
        _groups_made.discard(stream_key(page))
    return gone


def _ensure_groups(client: Any, keys: list[str]) -> None:
    from redis.exceptions import ResponseError

    for key in keys:
        if key in _groups_made:
            continue
        try:
            # From the stream's first entry: what was buffered before any worker ran is read too.
            client.xgroup_create(key, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        _groups_made.add(key)


def ingest(*, consumer: str, batch: int | None = None) -> int:
    """Move up to `batch` buffered events into `Event` rows. Returns how many were delivered."""
    if not events_shared():
        return 0
    flush_outbox()
    batch = batch or settings.EVENT_FLUSH_BATCH
    global _last_forget
    if time.monotonic() - _last_forget > FORGET_EVERY_SECONDS:
        _last_forget = time.monotonic()
        from redis.exceptions import ResponseError

        try:
            forget_quiet_pages()
        except CacheUnavailable:
            pass  # Redis away: the read below says so
        except ResponseError:
            logger.warning("could not forget the quiet pages (scripts refused?); the set keeps them", exc_info=True)

    def read() -> list[tuple[str, list[tuple[bytes, dict[bytes, bytes]]]]]:
        client = events_redis_client()
        pages = sorted(int(p) for p in client.smembers(active_pages_key()))
        keys = [stream_key(page) for page in pages]
        if not keys:
            return []
        _ensure_groups(client, keys)
        # COUNT is per stream: the batch is shared out, starting from a different page each pass
        # so a busy page does not keep the others waiting.
        global _last_claim, _next_start
        per_stream = max(1, batch // len(keys))
        start = _next_start % len(keys)
        _next_start += 1
        keys = keys[start:] + keys[:start]
        taken: list[tuple[str, list[tuple[bytes, dict[bytes, bytes]]]]] = []
        if time.monotonic() - _last_claim > settings.EVENT_CLAIM_IDLE_SECONDS / 2:
            # Entries a dead worker claimed and never acknowledged (one pipelined round trip,
            # not every pass).
            _last_claim = time.monotonic()
            idle_ms = int(settings.EVENT_CLAIM_IDLE_SECONDS * 1000)
            pipe = client.pipeline(transaction=False)
            for key in keys:
                pipe.xautoclaim(key, GROUP, consumer, idle_ms, "0-0", count=per_stream)
            for key, claimed in zip(keys, pipe.execute(), strict=True):
                if claimed[1]:
                    taken.append((key, [entry for entry in claimed[1] if entry[1]]))
        read = client.xreadgroup(GROUP, consumer, dict.fromkeys(keys, ">"), count=per_stream)
        for key, entries in read or []:
            taken.append((key.decode() if isinstance(key, bytes) else key, entries))
        return taken

    from redis.exceptions import ResponseError

    try:
        try:
            taken = events_call(read)
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            # A stream was deleted since its group was made here (Redis flushed or restarted
            # empty): make the groups again.
            _groups_made.clear()
            taken = events_call(read)
    except CacheUnavailable:
        return 0
    rows: list[Event] = []
    for _, entries in taken:
        for entry_id, fields in entries:
            try:
                event = TrackedEvent.from_fields(fields)
                event.check()
            except (KeyError, ValueError):
                logger.warning("dropped a malformed buffered event %r", entry_id)
                continue
            rows.append(Event(key=event.id, **event.model_fields()))
    if rows:
        # A row of a page deleted since is dropped, not an error that blocks the queue.
        live = set(LandingPage.objects.filter(pk__in={r.page_id for r in rows}).values_list("pk", flat=True))
        # A refused row must not hold the queue back: it is dropped, the rest stored, and every
        # entry acknowledged below.
        insert_events([r for r in rows if r.page_id in live])

    def acknowledge() -> None:
        pipe = events_redis_client().pipeline(transaction=False)
        for key, entries in taken:
            ids = [entry_id for entry_id, _ in entries]
            if ids:
                pipe.xack(key, GROUP, *ids)
                pipe.xdel(key, *ids)
        pipe.execute()

    if taken:
        # If this fails, the entries are delivered again later; their unique keys keep the rows single.
        with contextlib.suppress(CacheUnavailable):
            events_call(acknowledge)
    return sum(len(entries) for _, entries in taken)


def buffered() -> int | None:
    """Events in the buffer not moved into rows yet (None: Redis is not reachable)."""
    return oldest_buffered()[0]


def buffered_events(page_ids: Iterable[int]) -> list[TrackedEvent]:
    """The buffered events of some pages (the live part of analytics)."""
    if not events_shared():
        return []
    flush_outbox()
    ids = list(page_ids)

    def read() -> list[Any]:
        pipe = events_redis_client().pipeline(transaction=False)
        for page in ids:
            pipe.xrange(stream_key(page), count=settings.EVENT_LIVE_MAX)
        return cast(list[Any], pipe.execute())

    try:
        results = events_call(read)
    except CacheUnavailable:
        return []
    out = []
    for entries in results:
        for _, fields in entries:
            try:
                out.append(TrackedEvent.from_fields(fields))
            except (KeyError, ValueError):
                continue
    return out


def oldest_buffered() -> tuple[int | None, float | None]:
    """(entries buffered, age of the oldest in seconds) over every page's stream: two pipelined
    round trips. An entry id starts with its time in milliseconds."""
    if not events_shared():
        return 0, None
    flush_outbox()

    def read() -> tuple[int, float | None]:
        client = events_redis_client()
        pages = list(client.smembers(active_pages_key()))
        if not pages:
            return 0, None
        pipe = client.pipeline(transaction=False)
        for page in pages:
            key = stream_key(int(page))
            pipe.xlen(key)
            pipe.xrange(key, count=1)
        answers = pipe.execute()
        total = sum(answers[0::2])
        firsts = [int(entries[0][0].split(b"-")[0]) for entries in answers[1::2] if entries]
        return total, (time.time() - min(firsts) / 1000) if firsts else None

    try:
        return events_call(read)
    except CacheUnavailable:
        return None, None
