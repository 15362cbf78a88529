"""Tasks the job tests run, through the same job system as the platform's own: each records its
runs in the job's result, so a test (or a worker in another process) can count them."""

from typing import Any

import psycopg
from celery import shared_task
from django.db import OperationalError

from jobs.models import Job
from jobs.services import JobFailed, job_retry, job_run


def _echo(job: Job) -> dict[str, Any]:
    behaviour = job.params.get("behaviour", "succeed")
    if behaviour == "crash":
        raise ZeroDivisionError("the test task divided by zero")
    if behaviour == "retry_once" and job.attempts == 1:
        job_retry(job=job, task=echo_job, countdown=0.2)
    if behaviour == "refuse":
        raise JobFailed("the test task refused")
    if behaviour == "database_gone_once" and job.attempts == 1:
        # What Django raises when the pool cannot reach a server that went away (a restart).
        raise OperationalError("connection failed") from psycopg.OperationalError("connection refused")
    return {"echo": job.params.get("value"), "attempt": job.attempts}


@shared_task
def echo_job(job_id: str) -> None:
    job_run(job_id=job_id, work=_echo)
