"""Celery tasks of the projects domain (sent through jobs.dispatch; run by a Celery worker, or
in-process without a broker)."""

# --- Scheduled maintenance and the signup digest (CELERY_BEAT_SCHEDULE, jobs.schedule) -------

from typing import Any

from celery import shared_task

from jobs import schedule


@shared_task  # type: ignore[untyped-decorator]  # celery ships no types
@schedule.once_per(schedule.DAILY)
def events_prune(period: str) -> dict[str, Any]:
    """Delete raw events (rolled up) and held signup forms older than EVENT_RETENTION_DAYS."""
    from projects.events.worker import prune

    return {"deleted": prune()}


@shared_task  # type: ignore[untyped-decorator]  # celery ships no types
@schedule.once_per(schedule.DAILY)
def signup_digest_send(period: str) -> dict[str, Any]:
    """The run for a day sends the digest of the day before (complete by then)."""
    from projects.services.digests import signup_digests_send

    result = signup_digests_send(day=schedule.previous(period))
    return {"day": result.day, "sent": result.sent, "already_sent": result.already_sent, "failed": result.failed}
