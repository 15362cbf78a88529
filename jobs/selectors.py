"""Reads of jobs: one job for the person who may see it, and the queue facts health reports."""

from dataclasses import dataclass
from uuid import UUID

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


@dataclass(frozen=True)
class QueueFacts:
    queued: int
    # Queued jobs the broker has not taken yet (it was down when they were sent).
    unsent: int
    # How long the oldest queued job has waited, in seconds; None when none waits.
    oldest_waiting_seconds: float | None


def queue_facts() -> QueueFacts:
    """One query over the queued jobs (the status/created_at index)."""
    row = Job.objects.filter(status=JobStatus.QUEUED).aggregate(
        queued=Count("pk"), unsent=Count("pk", filter=Q(sent_at__isnull=True)), oldest=Min("created_at")
    )
    oldest = row["oldest"]
    waited = (timezone.now() - oldest).total_seconds() if oldest is not None else None
    return QueueFacts(queued=row["queued"], unsent=row["unsent"], oldest_waiting_seconds=waited)
