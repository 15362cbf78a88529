"""Security's Celery tasks: scheduled by CELERY_BEAT_SCHEDULE and run once per period
(jobs.schedule), the daily clearing of expired security data and the monthly summary; and the
clearing a member of staff asks for (`POST /api/monitoring/clear-security-data`), a job: a bulk
delete of a large events table can outlast a request."""

import logging
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db.models import Count

from jobs import schedule
from jobs.models import Job
from jobs.services import job_create, job_run
from monitoring.interface import parse_duration
from security import services
from security.models import EventKind, SecurityEvent

logger = logging.getLogger(__name__)

SUMMARY_TOP = 10
SECURITY_CLEAR_KIND = "security.clear"


def security_data_clear_start(*, owner_id: int | None, older_than: str, expired_blocks: bool, dry_run: bool) -> Job:
    """The clearing as a job (`older_than` already validated: a duration such as "7d")."""
    params = {"older_than": older_than, "expired_blocks": expired_blocks, "dry_run": dry_run}
    return job_create(kind=SECURITY_CLEAR_KIND, task=security_data_clear_job, owner_id=owner_id, params=params)


def _clear(job: Job) -> dict[str, Any]:
    dry_run = bool(job.params.get("dry_run"))
    result = services.security_data_clear(
        older_than=parse_duration(job.params["older_than"]),
        expired_blocks=bool(job.params.get("expired_blocks")),
        dry_run=dry_run,
    )
    return {"events": result.events, "blocks": result.blocks, "dry_run": dry_run}


@shared_task  # type: ignore[untyped-decorator]  # celery ships no types
def security_data_clear_job(job_id: str) -> None:
    job_run(job_id=job_id, work=_clear)


@shared_task  # type: ignore[untyped-decorator]  # celery ships no types
@schedule.once_per(schedule.DAILY)
def security_data_clear(period: str) -> dict[str, Any]:
    """Delete security events older than SECURITY_EVENT_RETENTION_DAYS and finished blocks (as
    `manage.py clear_security_data --expired-blocks`); active blocks stay."""
    result = services.security_data_clear(
        older_than=timedelta(days=settings.SECURITY_EVENT_RETENTION_DAYS), expired_blocks=True
    )
    return {"events": result.events, "blocks": result.blocks}


@shared_task  # type: ignore[untyped-decorator]  # celery ships no types
@schedule.once_per(schedule.MONTHLY)
def security_summary(period: str) -> dict[str, Any]:
    """The previous month's security in one log line and the run's outcome: events by kind, and
    the addresses blocked in it, the most blocked first (from the events: finished blocks are
    cleared daily, their events are kept SECURITY_EVENT_RETENTION_DAYS)."""
    start, end = schedule.bounds(schedule.previous(period))
    events = SecurityEvent.objects.filter(created_at__gte=start, created_at__lt=end)
    by_kind = dict(events.values_list("kind").annotate(n=Count("id")).order_by("kind").values_list("kind", "n"))
    blocked = (
        events.filter(kind=EventKind.IP_BLOCKED, ip__isnull=False)
        .values("ip")
        .annotate(n=Count("id"))
        .order_by("-n", "ip")[:SUMMARY_TOP]
    )
    outcome = {
        "month": start.strftime("%Y-%m"),
        "events_by_kind": by_kind,
        "blocks": by_kind.get(EventKind.IP_BLOCKED.value, 0),
        "addresses_blocked": events.filter(kind=EventKind.IP_BLOCKED).values("ip").distinct().count(),
        "most_blocked": [{"ip": row["ip"], "blocks": row["n"]} for row in blocked],
    }
    logger.info(
        "security summary %s: events %s, %d blocks, most blocked %s",
        outcome["month"], by_kind, outcome["blocks"], outcome["most_blocked"][:3],
    )  # fmt: skip
    return outcome
