"""Reads of jobs: one job for the person who may see it, and the queue facts health reports."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Min, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from jobs.models import Job, JobStatus


def job_qs_for_user(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Job]:
    """The jobs `user` may read: their own; staff read every job."""
    if not user.is_authenticated:
        return Job.objects.none()
    if getattr(user, "is_staff", False):
        return Job.objects.all()
    return Job.objects.filter(owner_id=user.pk)


def job_get(*, user: AbstractBaseUser | AnonymousUser, pk: UUID) -> Job:
    """The job, or 404 (someone else's job is as unknown as a missing one)."""
    return get_object_or_404(job_qs_for_user(user=user), pk=pk)


# How long past the task's hard time limit a running job may keep its claim before it counts as
# stuck: its worker is gone (killed, recycled), since a live one would have stopped the task.
STUCK_RUNNING_MARGIN_SECONDS = 60


def stuck_running_before(now: datetime | None = None) -> datetime:
    """A running job claimed before this instant is stuck: no worker will finish it."""
    limit = settings.CELERY_TASK_TIME_LIMIT + STUCK_RUNNING_MARGIN_SECONDS
    return (now or timezone.now()) - timedelta(seconds=limit)


@dataclass(frozen=True)
class QueueFacts:
    queued: int
    # Queued jobs the broker has not taken yet (it was down when they were sent).
    unsent: int
    # How long the oldest queued job has waited, in seconds; None when none waits.
    oldest_waiting_seconds: float | None
    # Running jobs whose worker is gone (claimed before `stuck_running_before`): the event
    # worker's recovery pass fails them (jobs.services.job_recover_stale).
    stuck_running: int = 0


def queue_facts() -> QueueFacts:
    """One query over the unfinished jobs (the status/created_at index)."""
    now = timezone.now()
    queued = Q(status=JobStatus.QUEUED)
    row = Job.objects.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).aggregate(
        queued=Count("pk", filter=queued),
        unsent=Count("pk", filter=queued & Q(sent_at__isnull=True)),
        oldest=Min("created_at", filter=queued),
        stuck=Count("pk", filter=Q(status=JobStatus.RUNNING, started_at__lt=stuck_running_before(now))),
    )
    oldest = row["oldest"]
    waited = (now - oldest).total_seconds() if oldest is not None else None
    return QueueFacts(
        queued=row["queued"], unsent=row["unsent"], oldest_waiting_seconds=waited, stuck_running=row["stuck"]
    )
