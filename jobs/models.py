"""Background work the platform keeps a record of.

`Job`: one piece of work someone asked for and may wait on (a model generation, a database
optimisation): its status, outcome and timings, polled through `GET /api/jobs/<id>`. The row is
the source of truth, not the broker: a job is written before it is sent, and a job the broker
did not take (it was down) is sent again until it is (jobs.dispatch).

`ScheduledRun`: one run of a scheduled task for one period ("prune-monitoring" for 2026-12-06).
The unique pair is the claim that makes a schedule run exactly once per period however many
beats, workers or retries ask for it.
"""

import uuid

from django.conf import settings
from django.db import models


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Job(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=60)
    # The Celery task that runs it (its default name, `projects.tasks.prototype_generate_job`):
    # what a job the broker did not take is sent again with (jobs.services.job_resend_unsent).
    task = models.CharField(max_length=200, blank=True)
    # Who may read it (staff read every job); None for jobs the platform started itself.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the broker took it; None while it waits to be sent (in-process runs set it at once).
    sent_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The resend pass and the health check's oldest waiting job.
            models.Index(fields=["status", "created_at"], name="jobs_job_status_created_idx"),
            models.Index(fields=["owner", "-created_at"], name="jobs_job_owner_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.status})"


class ScheduledRun(models.Model):
    name = models.CharField(max_length=60)
    # The period the run covers, in the schedule's own unit: "2026-12-06", "2026-W49", "2026-12".
    period = models.CharField(max_length=20)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [models.UniqueConstraint(fields=["name", "period"], name="jobs_scheduledrun_once_per_period")]

    def __str__(self) -> str:
        return f"{self.name} {self.period}"
