"""The event worker's loop (`manage.py run_worker`; `manage.py flush_events` runs `flush` until
the buffer is empty): each pass moves a batch from the buffer into rows (`projects.events.ingest`)
and a batch of each shard's rows into the rollups (`projects.events.rollup`), each step safe with
several workers at once (they roll up different shards in parallel); beside the loop a thread
sends the confirmation emails that are due. Every `schedule_every` seconds the loop runs the
periodic work (`periodic`): without a broker, the beat schedule's due entries
(jobs.schedule.tick), old raw rows' pruning among them (`projects.tasks.events_prune`, daily).
`backlog` tells what waits (the health check, the dashboard).
"""

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.db.models import Count, Min
from django.utils import timezone

from jobs import schedule
from jobs import services as job_services
from projects.events import partitions, shards
from projects.events.ingest import ingest, oldest_buffered
from projects.events.rollup import rollup
from projects.models import Event, EventWorkerState, HeldSignup
from projects.services.signups import signup_confirmations_send

logger = logging.getLogger(__name__)


def consumer_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class FlushResult:
    ingested: int = 0
    rolled_up: int = 0
    emailed: int = 0  # confirmation emails sent (the worker's loop only)


def flush(*, consumer: str | None = None, batch: int | None = None) -> FlushResult:
    """One pass: a batch from the buffer into rows, then a batch of rows into the rollups."""
    consumer = consumer or consumer_name()
    return FlushResult(ingested=ingest(consumer=consumer, batch=batch), rolled_up=rollup(batch=batch))


def prune(*, now: datetime | None = None, batch: int = 10_000) -> int:
    """Delete raw events older than EVENT_RETENTION_DAYS that are rolled up, and the signup forms
    held for a confirm button as long ago (their counts cover the same window as the raw events; a
    hold's button expires after a day, so none is still open). Returns the events and forms gone.

    On PostgreSQL the events go a whole day at a time: each day's partition once the day is wholly
    past the retention and every event of it is rolled up (`partitions.drop_expired`; a day with
    events still to roll up is dropped at a later prune), then, a batch at a time, the expired
    events the DEFAULT partition holds. On a plain table (the embedded SQLite), a batch at a time."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.EVENT_RETENTION_DAYS)
    deleted = HeldSignup.objects.filter(created_at__lt=cutoff).delete()[0]
    old = Event.objects.filter(shards.rolled_up(), occurred_at__lt=cutoff)
    if partitions.is_partitioned():
        deleted += partitions.drop_expired(cutoff=cutoff).rows
        # The expired days still in a partition wait for it to go whole; a batch delete reaches
        # only the rows no partition can hold (in DEFAULT), so it never scans a kept day.
        outside = partitions.outside_partitions(cutoff)
        if outside is None:
            return deleted
        old = old.filter(outside)
    while True:
        ids = list(old.values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        deleted += old.filter(pk__in=ids).delete()[0]


@dataclass(frozen=True)
class Backlog:
    buffered: int | None  # in Redis, not in rows yet (None: Redis unreachable)
    unrolled: int  # rows not rolled up yet
    oldest_waiting_seconds: float | None  # the oldest of either
    last_rollup_at: datetime | None


def backlog() -> Backlog:
    """What waits for the worker (the health check and the dashboard): two queries (the shards'
    marks, then the rows above them) and the buffer's two round trips."""
    buffered, buffered_age = oldest_buffered()
    states = list(EventWorkerState.objects.values_list("shard", "rolled_up_to", "last_rollup_at"))
    waiting = Event.objects.filter(shards.waiting_above({s: mark for s, mark, _ in states}))
    rows = waiting.aggregate(n=Count("pk"), oldest=Min("occurred_at")) if states else {"n": 0, "oldest": None}
    unrolled_age = (timezone.now() - rows["oldest"]).total_seconds() if rows["oldest"] else None
    ages = [a for a in (buffered_age, unrolled_age) if a is not None]
    return Backlog(
        buffered=buffered,
        unrolled=rows["n"],
        oldest_waiting_seconds=max(ages) if ages else None,
        last_rollup_at=max((at for _, _, at in states if at is not None), default=None),
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


def periodic() -> None:
    """The worker's periodic work, every `schedule_every` seconds of its loop: without a broker,
    send the beat schedule's due entries (with one, celery beat does and this sends nothing);
    send again the jobs a broker did not take when they were started (it was down: the event
    worker runs whatever the broker's state, so a job waits at most one period after it is back);
    recover the jobs a vanished worker left running or queued (jobs.services.job_recover_stale).
    Never raises: a fault here must not stop the events."""
    try:
        schedule.tick()
    except Exception:
        logger.exception("the schedule's tick failed; trying again at the next")
    try:
        job_services.job_resend_unsent()
    except Exception:
        logger.exception("sending the waiting jobs again failed; trying again at the next")
    try:
        job_services.job_recover_stale()
    except Exception:
        logger.exception("recovering the jobs of stopped workers failed; trying again at the next")
    try:
        from monitoring import alerts

        alerts.resend_overdue()  # alert deliveries whose worker was lost mid-delivery
    except Exception:
        logger.exception("sending the stalled alerts again failed; trying again at the next")


def run(
    *,
    interval: float,
    consumer: str | None = None,
    stop: threading.Event | None = None,
    deadline: float | None = None,
    schedule_every: float | None = None,
) -> FlushResult:
    """The worker's loop: flush until idle, pause `interval`, again; every `schedule_every`
    seconds (None: never) the periodic work; beside it, a thread sending the confirmation emails
    that are due. Ends when `stop` is set or at `deadline` (time.monotonic()), after the batch in
    hand."""
    consumer = consumer or consumer_name()
    stop = stop or threading.Event()
    total = FlushResult()
    last_periodic = -1e9

    def flush_step() -> bool:
        nonlocal last_periodic
        if schedule_every is not None and time.monotonic() - last_periodic >= schedule_every:
            last_periodic = time.monotonic()
            periodic()
        result = flush(consumer=consumer)
        total.ingested += result.ingested
        total.rolled_up += result.rolled_up
        return bool(result.ingested or result.rolled_up)

    def send_step() -> bool:
        batch = signup_confirmations_send()
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
