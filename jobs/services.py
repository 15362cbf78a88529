"""Writes of jobs: create one and send it, send again what the broker did not take, and run one.

A job is written before it is sent, and sent only once its row is committed, so the worker
always finds it. Each send that the broker takes marks `sent_at`; a job whose send was refused
(the broker was down) keeps `sent_at` empty and `job_resend_unsent` sends it again later.

Delivery is at least once (late acknowledgement, resends), so running is idempotent: `job_run`
claims the row with one conditional UPDATE (queued → running), and a delivery that finds the job
running, succeeded or failed does nothing. A running job whose claim is older than the task
time limit is one whose worker died: it may be claimed again.

A worker can also vanish without a redelivery that takes over (killed with the message acked,
a web process recycled with its in-process jobs): `job_recover_stale`, on the event worker's
periodic pass, fails the running jobs no worker will finish and sends again the queued jobs
whose delivery never started. What a founder reads in `error` is ours to word: an unexpected
exception is stored as a reference, its details go to the logs and the error groups.
"""

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, NoReturn
from uuid import UUID

from celery import Task, current_app, current_task
from celery.exceptions import Retry
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from jobs import dispatch
from jobs.models import Job, JobStatus, ScheduledRun
from jobs.selectors import stuck_running_before
from mvpvalidator.db import database_unreachable

logger = logging.getLogger(__name__)

MAX_ERROR_CHARS = 500
# How many unsent jobs one resend pass sends at most (the rest wait for the next pass).
RESEND_BATCH = 200
# How long a job whose database went away waits for it to come back before leaving the job to
# the recovery pass (a restart or failover takes seconds; the worker has nothing else to do then).
DATABASE_BACK_WAIT_SECONDS = 60.0
# What the owner of a job reads when its worker vanished mid-run.
WORKER_STOPPED_ERROR = "The worker running this job stopped before it finished; start it again."
# Scheduled runs are kept at least this long whatever the retention: a run is the claim of its
# period, and deleting a claim while its period (a month at most) lasts would run it again.
SCHEDULED_RUN_MIN_KEEP_DAYS = 32


class JobFailed(Exception):
    """Raised by a job's work for an expected refusal (the project was archived meanwhile): the
    job fails with this message, and it is not an error of the platform (no error group)."""


def job_create(*, kind: str, task: Task, owner_id: int | None = None, params: dict[str, Any] | None = None) -> Job:
    """Write a queued job (readable by `owner_id` and staff) and send `task(job_id)` once the
    row is committed."""
    with transaction.atomic():
        job = Job(kind=kind, task=task.name, owner_id=owner_id, params=params or {})
        job.full_clean()
        job.save()
        transaction.on_commit(lambda: job_send(job=job))
    return job


def job_send(*, job: Job) -> bool:
    """Hand the job to the broker (or this process's executor); `sent_at` when it was taken."""
    if settings.JOBS_IN_PROCESS:
        # This process's executor never refuses: marked first, so this thread does not write
        # the row while the executor's thread claims it (on SQLite the two would contend).
        _mark_sent([job])
        return _dispatch(job)
    if not _dispatch(job):
        return False
    _mark_sent([job])
    return True


def _dispatch(job: Job) -> bool:
    return dispatch.send(current_app.tasks[job.task], args=(str(job.pk),))


def _mark_sent(jobs: list[Job]) -> None:
    Job.objects.filter(pk__in=[job.pk for job in jobs], sent_at__isnull=True).update(sent_at=timezone.now())


def job_resend_unsent() -> int:
    """Send again every queued job the broker did not take, oldest first; how many it sent.
    Stops at the first refusal: the broker is still down, the rest wait for the next pass."""
    unsent = Job.objects.filter(status=JobStatus.QUEUED, sent_at__isnull=True).exclude(task="")
    jobs = list(unsent.order_by("created_at")[:RESEND_BATCH])
    sent = 0
    if settings.JOBS_IN_PROCESS:
        # As in job_send: the whole batch marked in one write before the first of them runs.
        _mark_sent(jobs)
        sent = sum(_dispatch(job) for job in jobs)
    else:
        for job in jobs:
            if not job_send(job=job):
                break
            sent += 1
    if sent:
        logger.info("sent %d queued job(s) again", sent)
    return sent


def job_recover_stale() -> dict[str, int]:
    """Repair what vanished workers left (the event worker's periodic pass): fail the running
    jobs claimed longer ago than the task's hard time limit (plus a margin), whose worker is gone
    (a live one would have stopped them); send again the queued jobs sent more than
    JOBS_RESEND_AFTER_SECONDS ago that no worker started (a process recycled with the job in
    its pool, a message lost). A duplicate delivery is harmless: the claim runs a job once.
    Returns how many of each; stops sending at the first refusal (the broker is down)."""
    now = timezone.now()
    failed = Job.objects.filter(status=JobStatus.RUNNING, started_at__lt=stuck_running_before(now)).update(
        status=JobStatus.FAILED, error=WORKER_STOPPED_ERROR, finished_at=now
    )
    if failed:
        logger.warning("failed %d job(s) whose worker stopped mid-run", failed)
    resend_before = now - timedelta(seconds=settings.JOBS_RESEND_AFTER_SECONDS)
    stale = Job.objects.filter(status=JobStatus.QUEUED, sent_at__lt=resend_before).exclude(task="")
    jobs = list(stale.order_by("created_at")[:RESEND_BATCH])
    resent: list[Job] = []
    if settings.JOBS_IN_PROCESS:
        # Marked before they run, as in job_send (on SQLite two writers of a row contend).
        _mark_resent(jobs, now)
        resent = [job for job in jobs if _dispatch(job)]
    else:
        for job in jobs:
            if not _dispatch(job):
                break
            resent.append(job)
        _mark_resent(resent, now)
    if resent:
        logger.warning("sent again %d queued job(s) that no worker started", len(resent))
    return {"failed": failed, "resent": len(resent)}


def _mark_resent(jobs: list[Job], now: datetime) -> None:
    # From now: the next pass waits JOBS_RESEND_AFTER_SECONDS again before another copy.
    if jobs:
        Job.objects.filter(pk__in=[job.pk for job in jobs], status=JobStatus.QUEUED).update(sent_at=now)


def job_prune(*, older_than: timedelta, now: datetime | None = None) -> dict[str, int]:
    """Delete the finished jobs (succeeded or failed) and the scheduled runs older than
    `older_than`; queued and running jobs stay whatever their age. How many of each."""
    now = now or timezone.now()
    cutoff = now - older_than
    finished = Job.objects.filter(status__in=[JobStatus.SUCCEEDED, JobStatus.FAILED], finished_at__lt=cutoff)
    jobs, _ = finished.delete()
    runs_cutoff = min(cutoff, now - timedelta(days=SCHEDULED_RUN_MIN_KEEP_DAYS))
    runs, _ = ScheduledRun.objects.filter(started_at__lt=runs_cutoff).delete()
    return {"jobs": jobs, "scheduled_runs": runs}


def _claim(job_id: UUID | str) -> Job | None:
    now = timezone.now()
    abandoned_before = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    claimable = Q(status=JobStatus.QUEUED) | Q(status=JobStatus.RUNNING, started_at__lt=abandoned_before)
    claimed = Job.objects.filter(claimable, pk=job_id).update(
        status=JobStatus.RUNNING, started_at=now, finished_at=None, attempts=F("attempts") + 1
    )
    return Job.objects.get(pk=job_id) if claimed else None


def _requeue_when_back(job: Job) -> None:
    """Put the job back in the queue and send it again, waiting (with backoff, up to
    DATABASE_BACK_WAIT_SECONDS) for the database to take the write. If it stays away longer, the
    job stays "running" and the recovery pass (job_recover_stale) fails it later."""
    deadline = time.monotonic() + DATABASE_BACK_WAIT_SECONDS
    pause = 0.25
    while True:
        try:
            connection.close()  # the broken connection: the next query takes a fresh one
            requeued = Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, attempts=job.attempts).update(
                status=JobStatus.QUEUED, sent_at=None
            )
        except DatabaseError as exc:
            if not database_unreachable(exc) or time.monotonic() + pause > deadline:
                logger.warning("job %s: the database stayed away; left for the recovery pass", job.pk)
                return
            time.sleep(pause)
            pause = min(pause * 2, 4.0)
            continue
        if requeued:
            logger.warning("job %s: the database went away while it ran; it runs again", job.pk)
            job.refresh_from_db()
            job_send(job=job)
        return


def _finish(job: Job, *, status: JobStatus, result: dict[str, Any] | None = None, error: str = "") -> None:
    # Only the claim that ran it may finish it (a later claim of an abandoned job owns it now).
    Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, attempts=job.attempts).update(
        status=status, result=result or {}, error=error[:MAX_ERROR_CHARS], finished_at=timezone.now()
    )


def job_retry(*, job: Job, task: Task, countdown: float, exc: BaseException | None = None) -> NoReturn:
    """From a job's work: run it again in `countdown` seconds (Celery's retry). The job goes
    back to queued first, so the retried delivery can claim it however soon it comes. Its
    `sent_at` becomes when that delivery is due, so the recovery pass (job_recover_stale)
    counts from then, not from the first send."""
    due = timezone.now() + timedelta(seconds=countdown)
    Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, attempts=job.attempts).update(
        status=JobStatus.QUEUED, sent_at=due
    )
    raise task.retry(countdown=countdown, exc=exc)


def _reference(job: Job) -> str:
    """What staff look an unexpected failure up by: the Celery task id (Celery's and Sentry's
    records of the run carry it), or the job's id when the work runs outside a task."""
    request = getattr(current_task, "request", None)
    task_id = getattr(request, "id", None)
    return str(task_id or job.pk)


def job_run(*, job_id: UUID | str, work: Callable[[Job], dict[str, Any]]) -> Job | None:
    """Run a job's `work` once: claim it, run it, store its result (succeeded) or its error
    (failed). None when there was nothing to run (already run, running elsewhere, unknown).

    An unexpected exception fails the job and is raised again, so the task fails as Celery sees
    it (error groups, Sentry); the job keeps only a reference (the task id, which Celery's log of
    the run, Sentry's event and the log line written here carry), since its owner reads `error`
    and an exception's message may carry internals (a connection string, SQL). `JobFailed`
    fails it quietly with its own message. A `Retry` puts it back in the queue for the retried
    delivery to claim."""
    job = _claim(job_id)
    if job is None:
        logger.info("job %s: nothing to run (already run, running or unknown)", job_id)
        return None
    try:
        result = work(job)
    except Retry:
        Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(status=JobStatus.QUEUED)
        raise
    except JobFailed as exc:
        _finish(job, status=JobStatus.FAILED, error=str(exc))
    except Exception as exc:
        if database_unreachable(exc):
            # The database went away under the job (a restart, a failover): what the work wrote
            # failed with its transaction, and the outage is not the job's fault, so the job runs
            # again once the database is back rather than failing (or staying "running" for
            # good, since marking it failed needs the database too).
            _requeue_when_back(job)
            return None
        reference = _reference(job)
        # A warning: the failure itself is reported once, by the task (error groups, Sentry, whose
        # logging integration would make an ERROR line a second event); this line ties the job
        # to the reference its owner reads.
        logger.warning("job %s (%s) failed, reference %s: %s: %s", job.pk, job.kind, reference, type(exc).__name__, exc)
        _finish(job, status=JobStatus.FAILED, error=f"Internal error; reference {reference}.")
        raise
    else:
        _finish(job, status=JobStatus.SUCCEEDED, result=result)
    job.refresh_from_db()
    return job
