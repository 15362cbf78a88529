"""The event worker's writes: buffered events into `Event` rows, and `Event` rows into the daily
rollups and the experiments' exposures. `manage.py run_worker` loops over `flush()`;
`manage.py flush_events` runs it until the buffer is empty.

Two steps, each safe with several workers at once:

1. Ingest: each worker reads the page streams through one Redis consumer group, so every entry
   is delivered to one worker (`XREADGROUP`); it inserts the batch (the entry id is the row's
   unique `key`, so a batch delivered again is inserted once) and only then acknowledges and
   deletes the entries. Entries a dead worker had claimed are taken over after
   EVENT_CLAIM_IDLE_SECONDS (`XAUTOCLAIM`).
2. Roll up: one worker at a time, holding the row lock of `EventWorkerState` (others skip the
   step), takes the oldest rows not rolled up, adds them to the rollups and exposures, and marks
   them rolled up, in one transaction. Unique visitors and bounces need a visitor's earlier
   events of the day: they are read from the rows already rolled up, which one rollup at a time
   keeps exact.
"""

import contextlib
import logging
import os
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from mvpvalidator import cache as app_cache
from mvpvalidator.cache import CacheUnavailable, call, is_shared, redis_client
from projects import tracking
from projects.cache import experiment_ns
from projects.models import (
    DailyRollup,
    Event,
    EventKind,
    EventWorkerState,
    ExperimentExposure,
    LandingPage,
    TestCard,
    Traffic,
    Variant,
)

logger = logging.getLogger(__name__)

# What a visit counts (the beacon only says the page's script ran).
INTERACTIONS = (EventKind.VIEW, EventKind.CTA_CLICK, EventKind.SIGNUP, EventKind.PREORDER)
COUNTED = {
    EventKind.VIEW: "views",
    EventKind.CTA_CLICK: "cta_clicks",
    EventKind.SIGNUP: "signups",
    EventKind.PREORDER: "preorders",
}
FIGURES = ("views", "visitors", "cta_clicks", "signups", "preorders", "bounces")

RowKey = tuple[int, date, int | None, str, str, str]  # page, day, experiment, variant, channel, traffic
VisitKey = tuple[int, date, int | None, str, str, str, str]  # the row's key + visitor


def consumer_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --- Step 1: the buffer into rows ---------------------------------------------------------------

_groups_made: set[str] = set()
_last_claim = 0.0
_next_start = 0


def _ensure_groups(client: Any, keys: list[str]) -> None:
    from redis.exceptions import ResponseError

    for key in keys:
        if key in _groups_made:
            continue
        try:
            # From the stream's first entry: what was buffered before any worker ran is read too.
            client.xgroup_create(key, tracking.GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        _groups_made.add(key)


def ingest(*, consumer: str, batch: int | None = None) -> int:
    """Move up to `batch` buffered events into `Event` rows. Returns how many were delivered."""
    if not is_shared():
        return 0
    tracking.flush_outbox()
    batch = batch or settings.EVENT_FLUSH_BATCH

    def read() -> list[tuple[str, list[tuple[bytes, dict[bytes, bytes]]]]]:
        client = redis_client()
        pages = sorted(int(p) for p in client.smembers(tracking.active_pages_key()))
        keys = [tracking.stream_key(page) for page in pages]
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
                pipe.xautoclaim(key, tracking.GROUP, consumer, idle_ms, "0-0", count=per_stream)
            for key, claimed in zip(keys, pipe.execute(), strict=True):
                if claimed[1]:
                    taken.append((key, [entry for entry in claimed[1] if entry[1]]))
        read = client.xreadgroup(tracking.GROUP, consumer, dict.fromkeys(keys, ">"), count=per_stream)
        for key, entries in read or []:
            taken.append((key.decode() if isinstance(key, bytes) else key, entries))
        return taken

    from redis.exceptions import ResponseError

    try:
        try:
            taken = call(read)
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            # A stream was deleted since its group was made here (Redis flushed or restarted
            # empty): make the groups again.
            _groups_made.clear()
            taken = call(read)
    except CacheUnavailable:
        return 0
    rows: list[Event] = []
    for _, entries in taken:
        for entry_id, fields in entries:
            try:
                event = tracking.TrackedEvent.from_fields(fields)
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
        tracking.insert_events([r for r in rows if r.page_id in live])

    def acknowledge() -> None:
        pipe = redis_client().pipeline(transaction=False)
        for key, entries in taken:
            ids = [entry_id for entry_id, _ in entries]
            if ids:
                pipe.xack(key, tracking.GROUP, *ids)
                pipe.xdel(key, *ids)
        pipe.execute()

    if taken:
        # If this fails, the entries are delivered again later; their unique keys keep the rows single.
        with contextlib.suppress(CacheUnavailable):
            call(acknowledge)
    return sum(len(entries) for _, entries in taken)


def buffered() -> int | None:
    """Events in the buffer not moved into rows yet (None: Redis is not reachable)."""
    return _oldest_buffered()[0]


def buffered_events(page_ids: Iterable[int]) -> list[tracking.TrackedEvent]:
    """The buffered events of some pages (the live part of analytics)."""
    if not is_shared():
        return []
    tracking.flush_outbox()
    ids = list(page_ids)

    def read() -> list[Any]:
        pipe = redis_client().pipeline(transaction=False)
        for page in ids:
            pipe.xrange(tracking.stream_key(page), count=settings.EVENT_LIVE_MAX)
        return pipe.execute()

    try:
        results = call(read)
    except CacheUnavailable:
        return []
    out = []
    for entries in results:
        for _, fields in entries:
            try:
                out.append(tracking.TrackedEvent.from_fields(fields))
            except (KeyError, ValueError):
                continue
    return out


# --- Step 2: rows into rollups and exposures ----------------------------------------------------


@dataclass
class Visit:
    """One visitor's events of one day in one rollup row, within a batch."""

    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    first_at: datetime | None = None


@dataclass
class Prior:
    events: int = 0
    views: int = 0


@dataclass
class Contribution:
    rows: dict[RowKey, dict[str, int]]
    exposures: dict[tuple[int, str], dict[str, Any]]


def _visits(events: Iterable[Any]) -> dict[VisitKey, Visit]:
    visits: dict[VisitKey, Visit] = defaultdict(Visit)
    for e in events:
        key = (e.page_id, e.day, e.experiment_id, e.variant, e.channel, e.traffic, e.visitor_hash)
        visit = visits[key]
        visit.counts[e.kind] += 1
        if visit.first_at is None or e.occurred_at < visit.first_at:
            visit.first_at = e.occurred_at
    return visits


def _priors(visits: dict[VisitKey, Visit], *, exclude_keys: Iterable[str] = ()) -> dict[VisitKey, Prior]:
    """The events already rolled up of the batch's visitors on the batch's days (one query)."""
    if not visits:
        return {}
    pages = {k[0] for k in visits}
    days = {k[1] for k in visits}
    visitors = {k[6] for k in visits}
    qs = Event.objects.filter(
        rolled_up=True, page_id__in=pages, day__in=days, visitor_hash__in=visitors, kind__in=INTERACTIONS
    )
    excluded = list(exclude_keys)
    if excluded:
        qs = qs.exclude(key__in=excluded)
    rows = qs.values("page_id", "day", "experiment_id", "variant", "channel", "traffic", "visitor_hash").annotate(
        n=Count("id"), views=Count("id", filter=Q(kind=EventKind.VIEW))
    )
    fields = ("page_id", "day", "experiment_id", "variant", "channel", "traffic", "visitor_hash")
    return {tuple(r[f] for f in fields): Prior(r["n"], r["views"]) for r in rows}  # type: ignore[misc]


def contributions(events: list[Any], priors: dict[VisitKey, Prior]) -> Contribution:
    """What `events` add to the rollups and the exposures, given each visitor's events of the day
    already counted (`priors`). Pure: the worker writes it, analytics adds it to live figures."""
    rows: dict[RowKey, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    for key, visit in _visits(events).items():
        row = rows[key[:6]]
        prior = priors.get(key, Prior())
        interactions = sum(visit.counts.get(kind, 0) for kind in INTERACTIONS)
        views = visit.counts.get(EventKind.VIEW, 0)
        for kind, name in COUNTED.items():
            row[name] += visit.counts.get(kind, 0)
        if interactions and not prior.events:
            row["visitors"] += 1
        was_bounce = prior.events == 1 and prior.views == 1
        is_bounce = prior.events + interactions == 1 and prior.views + views == 1
        row["bounces"] += int(is_bounce) - int(was_bounce)
    exposures: dict[tuple[int, str], dict[str, Any]] = {}
    for e in events:
        if e.experiment_id is None or not e.variant or e.traffic != Traffic.HUMAN:
            continue
        seen = exposures.setdefault(
            (e.experiment_id, e.visitor_hash),
            {"variant": e.variant, "first_seen": e.occurred_at, "confirmed": False, "clicked": False,
             "signed_up": False, "preordered": False},
        )  # fmt: skip
        if e.occurred_at < seen["first_seen"]:
            seen["first_seen"], seen["variant"] = e.occurred_at, e.variant
        if e.kind != EventKind.VIEW:
            seen["confirmed"] = True  # ran the script (beacon) or interacted
        seen["clicked"] |= e.kind == EventKind.CTA_CLICK
        seen["signed_up"] |= e.kind == EventKind.SIGNUP
        seen["preordered"] |= e.kind == EventKind.PREORDER
    return Contribution(rows=dict(rows), exposures=exposures)


def pending_contribution(events: list[Any]) -> Contribution:
    """What events not rolled up yet will add (analytics' live part): as `rollup` computes it."""
    return contributions(events, _priors(_visits(events)))


def _apply(contribution: Contribution) -> None:
    rows = contribution.rows
    if rows:
        existing: dict[RowKey, DailyRollup] = {}
        for row in DailyRollup.objects.filter(page_id__in={k[0] for k in rows}, day__in={k[1] for k in rows}):
            existing[(row.page_id, row.day, row.experiment_id, row.variant, row.channel, row.traffic)] = row
        changed, created = [], []
        for key, adds in rows.items():
            row = existing.get(key)
            if row is None:
                page_id, day, experiment_id, variant, channel, traffic = key
                created.append(
                    DailyRollup(
                        page_id=page_id, day=day, experiment_id=experiment_id, variant=variant,
                        channel=channel, traffic=traffic, **adds,
                    )
                )  # fmt: skip
            else:
                for name, n in adds.items():
                    setattr(row, name, getattr(row, name) + n)
                changed.append(row)
        DailyRollup.objects.bulk_create(created)
        DailyRollup.objects.bulk_update(changed, list(FIGURES), batch_size=500)
    exposures = contribution.exposures
    if exposures:
        known = {
            (x.experiment_id, x.visitor_hash): x
            for x in ExperimentExposure.objects.filter(
                experiment_id__in={k[0] for k in exposures}, visitor_hash__in={k[1] for k in exposures}
            )
        }
        changed_x, created_x = [], []
        # What the exposures add to their variant's people and converted counts (see Variant).
        counts: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
        for (experiment_id, visitor), seen in exposures.items():
            x = known.get((experiment_id, visitor))
            if x is None:
                x = ExperimentExposure(experiment_id=experiment_id, visitor_hash=visitor, **seen)
                created_x.append(x)
                before = (False, False)
            else:
                flags = ("confirmed", "clicked", "signed_up", "preordered")
                if not any(seen[f] and not getattr(x, f) for f in flags):
                    continue
                before = (x.confirmed, x.confirmed and x.signed_up)
                for f in flags:
                    setattr(x, f, getattr(x, f) or seen[f])
                changed_x.append(x)
            after = (x.confirmed, x.confirmed and x.signed_up)
            tally = counts[(experiment_id, x.variant)]
            tally[0] += int(after[0]) - int(before[0])
            tally[1] += int(after[1]) - int(before[1])
        ExperimentExposure.objects.bulk_create(created_x, batch_size=1000)
        ExperimentExposure.objects.bulk_update(
            changed_x, ["confirmed", "clicked", "signed_up", "preordered"], batch_size=500
        )
        for (experiment_id, key), (people, converted) in counts.items():
            if people or converted:
                Variant.objects.filter(experiment_id=experiment_id, key=key).update(
                    people=F("people") + people, converted=F("converted") + converted
                )


def _lock_state() -> EventWorkerState | None:
    """The rollup lock: the state row, locked for this transaction; None if another worker holds it."""
    EventWorkerState.objects.get_or_create(pk=1)
    if connection.features.has_select_for_update_skip_locked:
        return EventWorkerState.objects.select_for_update(skip_locked=True).filter(pk=1).first()
    # SQLite has no row locks: a write takes the database's write lock until the commit, so the
    # rollups of two processes run one after the other (the second waits, then sees the first's).
    EventWorkerState.objects.filter(pk=1).update(last_rollup_at=timezone.now())
    return EventWorkerState.objects.get(pk=1)


def rollup(*, batch: int | None = None) -> int:
    """Roll up to `batch` of the oldest rows not rolled up yet. Returns how many (0 when another
    worker holds the lock or nothing is waiting)."""
    batch = batch or settings.EVENT_FLUSH_BATCH
    with transaction.atomic():
        state = _lock_state()
        if state is None:
            return 0
        events = list(Event.objects.filter(rolled_up=False).order_by("id")[:batch])
        if not events:
            return 0
        visits = _visits(events)
        _apply(contributions(events, _priors(visits)))
        Event.objects.filter(pk__in=[e.pk for e in events]).update(rolled_up=True)
        # Traffic has arrived: the test cards of these pages' projects are locked from now on.
        people = {e.page_id for e in events if e.traffic == Traffic.HUMAN and e.kind == EventKind.VIEW}
        if people:
            TestCard.objects.filter(project__landing_pages__in=people, locked_at__isnull=True).update(
                locked_at=timezone.now()
            )
        state.last_rollup_at = timezone.now()
        state.events_rolled_up += len(events)
        state.save(update_fields=["last_rollup_at", "events_rolled_up"])
        touched = {e.experiment_id for e in events if e.experiment_id}
        pages = {e.page_id for e in events}
        transaction.on_commit(lambda: _invalidate(touched, pages))
    return len(events)


def _invalidate(experiments: set[int], pages: set[int]) -> None:
    from projects.cache import analytics_ns

    app_cache.bump(*(experiment_ns(e) for e in experiments), *(analytics_ns(p) for p in pages))


# --- The loop -----------------------------------------------------------------------------------


@dataclass
class FlushResult:
    ingested: int = 0
    rolled_up: int = 0
    pruned: int = 0
    emailed: int = 0  # confirmation emails sent (the worker's loop only)


def flush(*, consumer: str | None = None, batch: int | None = None) -> FlushResult:
    """One pass: a batch from the buffer into rows, then a batch of rows into the rollups."""
    consumer = consumer or consumer_name()
    return FlushResult(ingested=ingest(consumer=consumer, batch=batch), rolled_up=rollup(batch=batch))


def prune(*, now: datetime | None = None, batch: int = 10_000) -> int:
    """Delete raw events older than EVENT_RETENTION_DAYS that are rolled up (a batch at a time)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.EVENT_RETENTION_DAYS)
    deleted = 0
    while True:
        ids = list(Event.objects.filter(occurred_at__lt=cutoff, rolled_up=True).values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        deleted += Event.objects.filter(pk__in=ids).delete()[0]


@dataclass(frozen=True)
class Backlog:
    buffered: int | None  # in Redis, not in rows yet (None: Redis unreachable)
    unrolled: int  # rows not rolled up yet
    oldest_waiting_seconds: float | None  # the oldest of either
    last_rollup_at: datetime | None


def _oldest_buffered() -> tuple[int | None, float | None]:
    """(entries buffered, age of the oldest in seconds) over every page's stream: two pipelined
    round trips. An entry id starts with its time in milliseconds."""
    if not is_shared():
        return 0, None
    tracking.flush_outbox()

    def read() -> tuple[int, float | None]:
        client = redis_client()
        pages = list(client.smembers(tracking.active_pages_key()))
        if not pages:
            return 0, None
        pipe = client.pipeline(transaction=False)
        for page in pages:
            key = tracking.stream_key(int(page))
            pipe.xlen(key)
            pipe.xrange(key, count=1)
        answers = pipe.execute()
        total = sum(answers[0::2])
        firsts = [int(entries[0][0].split(b"-")[0]) for entries in answers[1::2] if entries]
        return total, (time.time() - min(firsts) / 1000) if firsts else None

    try:
        return call(read)
    except CacheUnavailable:
        return None, None


def backlog() -> Backlog:
    """What waits for the worker (the health check and the dashboard): four queries at most."""
    buffered, buffered_age = _oldest_buffered()
    oldest = Event.objects.filter(rolled_up=False).order_by("id").values_list("occurred_at", flat=True).first()
    unrolled = Event.objects.filter(rolled_up=False).count() if oldest else 0
    unrolled_age = (timezone.now() - oldest).total_seconds() if oldest else None
    ages = [a for a in (buffered_age, unrolled_age) if a is not None]
    state = EventWorkerState.objects.filter(pk=1).values_list("last_rollup_at", flat=True).first()
    return Backlog(
        buffered=buffered,
        unrolled=unrolled,
        oldest_waiting_seconds=max(ages) if ages else None,
        last_rollup_at=state,
    )


def _repeat(
    step: Callable[[], bool],
    *,
    what: str,
    errors: type[BaseException] | tuple[type[BaseException], ...],
    interval: float,
    stop: threading.Event,
    deadline: float | None = None,
) -> None:
    """Call `step` until `stop` is set or `deadline` (time.monotonic()) passes, pausing
    `interval` whenever it found nothing to do. One of `errors` (the database away, say) is
    logged and waited out, at least 5 s, instead of ending the loop: what was not done stays
    where it was (events in the buffer, emails due in their rows) for the next try."""
    while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
        try:
            busy = step()
        except errors:
            logger.exception("%s failed; retrying in %.0f s", what, max(interval, 5.0))
            close_old_connections()
            stop.wait(max(interval, 5.0))
            continue
        if not busy:
            stop.wait(interval)


def run(
    *, interval: float, consumer: str | None = None, stop: threading.Event | None = None, deadline: float | None = None
) -> FlushResult:
    """The worker's loop: flush until idle, pause `interval`, again; prune once an hour; beside
    it, a thread sending the confirmation emails that are due. Ends when `stop` is set or at
    `deadline` (time.monotonic()), after the batch in hand."""
    from projects import services  # services -> selectors -> rollups: imported when run

    consumer = consumer or consumer_name()
    stop = stop or threading.Event()
    total = FlushResult()
    last_prune = 0.0

    def flush_step() -> bool:
        nonlocal last_prune
        result = flush(consumer=consumer)
        if time.monotonic() - last_prune > 3600:
            total.pruned += prune()
            last_prune = time.monotonic()
        total.ingested += result.ingested
        total.rolled_up += result.rolled_up
        return bool(result.ingested or result.rolled_up)

    def send_step() -> bool:
        batch = services.signup_confirmations_send()
        total.emailed += batch.sent  # this thread's field alone; read after the join below
        return bool(batch.claimed)

    def send_emails() -> None:
        # Apart from the flush, so that a slow or hanging mail relay (up to EMAIL_TIMEOUT a
        # send) delays the emails, never the events. Any error is waited out: a bug in one
        # email must not stop every other from leaving until the worker is restarted.
        try:
            _repeat(send_step, what="sending confirmation emails", errors=Exception, interval=interval, stop=done)
        finally:
            connection.close()  # this thread's own connection

    # The mailer ends when the flush loop does (stopped, or at the deadline).
    done = threading.Event()
    mailer = threading.Thread(target=send_emails, name="confirmation-emails", daemon=True)
    mailer.start()
    try:
        # The database away: events wait in the buffer (those this worker had claimed are
        # delivered again), so pause and retry rather than exit.
        _repeat(flush_step, what="event flush", errors=DatabaseError, interval=interval, stop=stop, deadline=deadline)
    finally:
        done.set()
        # A send in progress finishes (or times out) first; a batch left behind is leased and
        # is claimed again later, so stopping never loses an email.
        mailer.join(timeout=settings.EMAIL_TIMEOUT + 5)
    return total
