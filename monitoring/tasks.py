"""Monitoring's Celery tasks (sent through jobs.dispatch; run by a Celery worker, or in-process
without a broker).

--- Jobs someone asks for ---
`db_optimize_job`: ANALYZE (and VACUUM) of every table can take minutes on a large database, far
beyond a web worker's timeout, so the API starts a job and answers 202.

--- Alerts and scheduled maintenance ---
`alert_deliver`: one alert's webhook post, retried with backoff (monitoring.alerts).
Scheduled (CELERY_BEAT_SCHEDULE, each once per period through jobs.schedule):
`monitoring_prune` (daily), `cache_health_report` (daily), `database_analyze` (weekly),
`error_summary` (monthly).
"""

import logging
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from celery import Task, shared_task
from celery.exceptions import Reject
from django.conf import settings
from django.db.models import Sum

from jobs import schedule
from jobs.models import Job
from jobs.services import JobFailed, job_create, job_run
from monitoring import alerts, services
from monitoring.db_maintenance import MaintenanceRefused, optimize_database
from monitoring.models import ErrorGroup

logger = logging.getLogger(__name__)

# The dashboard's KPI for the cache (monitoring.selectors): a lower daily hit rate is logged as a warning.
CACHE_HIT_RATE_KPI = 0.80
SUMMARY_TOP = 10


@shared_task(bind=True, max_retries=None)  # type: ignore[untyped-decorator]  # celery ships no types
def alert_deliver(self: Task, delivery_id: int, first_attempt: int = 1) -> None:
    """Post one alert; on failure retry after the backoff, up to ALERT_DELIVERY_MAX_ATTEMPTS.
    `first_attempt`: the attempt this send makes (a delivery taken over by
    `alerts.resend_overdue` goes on from where it stopped)."""
    attempt = first_attempt + self.request.retries
    delay = alerts.attempt_delivery(delivery_id=delivery_id, attempt=attempt)
    if delay is None:
        return
    try:
        raise self.retry(countdown=delay)
    except Reject as refused:
        # Celery could not publish the retry (the broker is down, which is when alerts matter)
        # and would drop the message: this process goes on with the delivery instead, after the
        # same wait, as `alerts._record_and_send` does when the first send is refused.
        logger.warning(
            "alert delivery %s: the broker refused the retry (%s); continuing in this process",
            delivery_id, refused.reason,
        )  # fmt: skip
        alerts.deliver_in_process(delivery_id=delivery_id, attempt=attempt + 1, after=delay)


@shared_task  # type: ignore[untyped-decorator]  # celery ships no types
@schedule.once_per(schedule.DAILY)
def monitoring_prune(period: str) -> dict[str, Any]:
    """The production guide's daily prune: roll the request buckets up into hourly rows, then
    delete monitoring rows older than MONITORING_RETENTION_DAYS (as `manage.py prune_monitoring`)."""
    rolled_up = services.rollup_hours()
    result = services.prune(older_than=timedelta(days=settings.MONITORING_RETENTION_DAYS))
    return {"rolled_up": rolled_up, "deleted": asdict(result)}


@shared_task  # type: ignore[untyped-decorator]  # celery ships no types
@schedule.once_per(schedule.DAILY)
def cache_health_report(period: str) -> dict[str, Any]:
    """The cache's health of the day in one log line and the run's outcome: hit rate per family
    and overall (since the counters were last reset), breaker state; under the KPI, a warning
    and an alert on the performance channel."""
    from mvpvalidator.cache import stats
    from mvpvalidator.cache.operators import backend_info

    snapshot = stats.snapshot()
    info = backend_info()
    overall = snapshot["overall"]["hit_rate"]
    outcome = {
        "backend": info["backend"],
        "scope": snapshot["scope"],
        "breaker": info["breaker"]["state"],
        "breaker_trips": info["breaker"]["trips"],
        "overall_hit_rate": overall,
        "families": {name: counts["hit_rate"] for name, counts in snapshot["families"].items()},
        "below_kpi": overall is not None and overall < CACHE_HIT_RATE_KPI,
    }
    if outcome["below_kpi"]:
        outcome["alerted"] = (
            alerts.raise_alert(
                "performance",
                "cache_hit_rate",
                title=f"Cache hit rate {overall:.1%} under the {CACHE_HIT_RATE_KPI:.0%} KPI",
                details={"hit_rate": overall, "families": outcome["families"], "breaker": outcome["breaker"]},
            )
            is not None
        )
    level = logging.WARNING if outcome["below_kpi"] or outcome["breaker"] != "closed" else logging.INFO
    logger.log(
        level,
        "cache health: backend=%s breaker=%s overall_hit_rate=%s families=%s",
        outcome["backend"], outcome["breaker"], overall, outcome["families"],
    )  # fmt: skip
    return outcome


@shared_task  # type: ignore[untyped-decorator]  # celery ships no types
@schedule.once_per(schedule.WEEKLY)
def database_analyze(period: str) -> dict[str, Any]:
    """The weekly ANALYZE of the project's tables (no VACUUM: that stays an operator's call)."""
    report = optimize_database(vacuum=False)
    return {"vendor": report.vendor, "actions": len(report.actions), "duration_ms": report.duration_ms}


@shared_task  # type: ignore[untyped-decorator]  # celery ships no types
@schedule.once_per(schedule.MONTHLY)
def error_summary(period: str) -> dict[str, Any]:
    """The previous month's error patterns: the groups seen in it, the most frequent first
    (their all-time counts: groups are counted, not dated per occurrence), and how many are new."""
    start, end = schedule.bounds(schedule.previous(period))
    seen = ErrorGroup.objects.filter(last_seen__gte=start, first_seen__lt=end)
    top = [
        {"exc_type": g.exc_type, "location": g.location, "count": g.count, "resolved": g.resolved_at is not None}
        for g in seen.order_by("-count")[:SUMMARY_TOP]
    ]
    outcome = {
        "month": start.strftime("%Y-%m"),
        "groups_seen": seen.count(),
        "new_groups": seen.filter(first_seen__gte=start).count(),
        "occurrences_all_time": seen.aggregate(n=Sum("count"))["n"] or 0,
        "top": top,
    }
    logger.info(
        "error summary %s: %d groups seen (%d new), top %s",
        outcome["month"], outcome["groups_seen"], outcome["new_groups"],
        [(g["exc_type"], g["location"], g["count"]) for g in top[:3]],
    )  # fmt: skip
    return outcome


# --- Jobs someone asks for ---------------------------------------------------------------------

DB_OPTIMIZE_KIND = "db.optimize"


def db_optimize_start(*, owner_id: int | None, vacuum: bool, dry_run: bool) -> Job:
    return job_create(
        kind=DB_OPTIMIZE_KIND, task=db_optimize_job, owner_id=owner_id, params={"vacuum": vacuum, "dry_run": dry_run}
    )


def _optimize(job: Job) -> dict[str, Any]:
    try:
        report = optimize_database(vacuum=bool(job.params.get("vacuum")), dry_run=bool(job.params.get("dry_run")))
    except MaintenanceRefused as exc:
        raise JobFailed(exc.message) from exc
    return report.to_dict()


@shared_task  # type: ignore[untyped-decorator]  # celery is untyped
def db_optimize_job(job_id: str) -> None:
    job_run(job_id=job_id, work=_optimize)
