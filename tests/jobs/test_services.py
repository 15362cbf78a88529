"""The job system in-process (no broker, the embedded default): a job is written, sent when its
row commits, run once on the background executor by Celery's eager mode, and watched like a
request (its duration in the metrics, its crash in the error groups)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.models import Job, JobStatus
from jobs.services import job_create, job_resend_unsent, job_run
from monitoring import metrics
from monitoring.models import ErrorGroup
from mvpvalidator import background
from tests.jobs.conftest import wait_for_job
from tests.jobs.tasks import echo_job

TASK = "tests.jobs.tasks.echo_job"


def task_stats() -> dict:
    return metrics.group(metrics.read_window(5), "o").get(("task", TASK), {})


@pytest.mark.django_db(transaction=True)
def test_a_job_is_sent_when_committed_and_run_once_in_process(settings):
    assert settings.JOBS_IN_PROCESS
    job = job_create(kind="test.echo", task=echo_job, params={"value": 42})

    background.drain()
    job = wait_for_job(job)

    assert job.status == JobStatus.SUCCEEDED
    assert job.result == {"echo": 42, "attempt": 1}
    assert job.task == TASK and job.attempts == 1
    assert job.sent_at is not None and job.started_at <= job.finished_at
    assert task_stats()["n"] == 1 and task_stats().get("err", 0) == 0


@pytest.mark.django_db(transaction=True)
def test_a_job_delivered_twice_runs_once():
    job = job_create(kind="test.echo", task=echo_job, params={"value": 1})
    background.drain()
    finished_at = wait_for_job(job).finished_at

    # The broker delivers the same message again (late acknowledgement after a lost worker).
    echo_job.apply(args=(str(job.pk),))
    echo_job.apply(args=(str(job.pk),))

    job.refresh_from_db()
    assert job.attempts == 1 and job.finished_at == finished_at
    assert job.result == {"echo": 1, "attempt": 1}


@pytest.mark.django_db(transaction=True)
def test_a_crash_fails_the_job_and_is_grouped_like_a_request_error():
    job = job_create(kind="test.echo", task=echo_job, params={"behaviour": "crash"})
    background.drain()
    job = wait_for_job(job)

    assert job.status == JobStatus.FAILED
    assert job.error == "ZeroDivisionError: the test task divided by zero"
    group = ErrorGroup.objects.get(exc_type="builtins.ZeroDivisionError")
    assert group.route == f"task:{TASK}" and group.handled is False
    assert "tests/jobs/tasks.py" in group.location
    assert task_stats()["n"] == 1 and task_stats()["err"] == 1


@pytest.mark.django_db(transaction=True)
def test_an_expected_refusal_fails_the_job_quietly():
    job = job_create(kind="test.echo", task=echo_job, params={"behaviour": "refuse"})
    background.drain()
    job = wait_for_job(job)

    assert job.status == JobStatus.FAILED and job.error == "the test task refused"
    assert not ErrorGroup.objects.exists()
    assert task_stats().get("err", 0) == 0


@pytest.mark.django_db(transaction=True)
def test_a_retried_job_is_claimed_again_after_its_countdown():
    job = job_create(kind="test.echo", task=echo_job, params={"behaviour": "retry_once", "value": "r"})
    background.drain()
    job = wait_for_job(job)

    assert job.status == JobStatus.SUCCEEDED
    assert job.attempts == 2 and job.result == {"echo": "r", "attempt": 2}


@pytest.mark.django_db
def test_a_running_job_is_not_run_again_until_its_claim_is_older_than_the_time_limit(settings):
    job = Job.objects.create(kind="test.echo", task=TASK, status=JobStatus.RUNNING, started_at=timezone.now())
    runs = []

    assert job_run(job_id=job.pk, work=lambda j: runs.append(j) or {}) is None
    assert runs == []

    # Its worker died long ago (a claim older than the hard time limit): taken over.
    Job.objects.filter(pk=job.pk).update(
        started_at=timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 1), attempts=1
    )
    finished = job_run(job_id=job.pk, work=lambda j: {"ran": True})
    assert finished.status == JobStatus.SUCCEEDED and finished.attempts == 2 and finished.result == {"ran": True}


@pytest.mark.django_db(transaction=True)
def test_resend_sends_only_the_queued_jobs_the_broker_did_not_take():
    # Rows as a refused send leaves them: queued, never sent.
    unsent = [Job.objects.create(kind="test.echo", task=TASK, params={"value": n}) for n in range(2)]
    taken = Job.objects.create(kind="test.echo", task=TASK, sent_at=timezone.now())
    done = Job.objects.create(kind="test.echo", task=TASK, status=JobStatus.SUCCEEDED, sent_at=timezone.now())

    assert job_resend_unsent() == 2
    background.drain()

    assert [wait_for_job(job).result["echo"] for job in unsent] == [0, 1]
    assert all(job.sent_at is not None for job in unsent)
    taken.refresh_from_db()
    done.refresh_from_db()
    assert taken.status == JobStatus.QUEUED and done.attempts == 0  # neither sent again
    assert job_resend_unsent() == 0
