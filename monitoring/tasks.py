"""Monitoring's background tasks (found by Celery's autodiscovery).

Database optimisation: ANALYZE (and VACUUM) of every table can take minutes on a large
database, far beyond a web worker's timeout, so the API starts a job and answers 202."""

from typing import Any

from celery import shared_task

from jobs.models import Job
from jobs.services import JobFailed, job_create, job_run
from monitoring.db_maintenance import MaintenanceRefused, optimize_database

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
