"""The jobs app's Celery tasks.

Scheduled (CELERY_BEAT_SCHEDULE, once per period through jobs.schedule): `jobs_prune` (daily),
since every job and every scheduled run (the signup digest adds one per founder per day) is a
row that nothing else deletes.
"""

from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings

from jobs import schedule, services


@shared_task  # type: ignore[untyped-decorator]  # celery ships no types
@schedule.once_per(schedule.DAILY)
def jobs_prune(period: str) -> dict[str, Any]:
    """Delete the finished jobs and the scheduled runs older than MONITORING_RETENTION_DAYS
    (the history the dashboard keeps); jobs still queued or running stay."""
    return services.job_prune(older_than=timedelta(days=settings.MONITORING_RETENTION_DAYS))
