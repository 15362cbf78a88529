"""The job system in-process (no broker, the embedded default): a job is written, sent when its
row commits, run once on the background executor by Celery's eager mode, and watched like a
request (its duration in the metrics, its crash in the error groups)."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from celery import shared_task
from django.utils import timezone

from jobs.models import Job, JobStatus, ScheduledRun
from jobs.services import job_create, job_prune, job_resend_unsent, job_run
from jobs.tasks import jobs_prune
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
def test_a_crash_fails_the_job_and_is_grouped_like_a_request_error(caplog):
    job = job_create(kind="test.echo", task=echo_job, params={"behaviour": "crash"})
    background.drain()
    job = wait_for_job(job)

    assert job.status == JobStatus.FAILED
    # Its owner reads a reference, never the exception (it may carry a connection string, SQL);
    # the log line with the same reference has the details for staff.
    assert job.error.startswith("Internal error; reference ")
    assert "ZeroDivision" not in job.error and "divided" not in job.error
    reference = job.error.removeprefix("Internal error; reference ").rstrip(".")
    assert reference and reference != str(job.pk)  # the task id, which Celery's and Sentry's records carry
    (line,) = [r.getMessage() for r in caplog.records if r.name == "jobs.services" and reference in r.getMessage()]
    assert "ZeroDivisionError: the test task divided by zero" in line and str(job.pk) in line
    # Celery's own record of the failed run names the same reference.
    assert any(r.name == "celery.app.trace" and reference in r.getMessage() for r in caplog.records)
    group = ErrorGroup.objects.get(exc_type="builtins.ZeroDivisionError")
    assert group.route == f"task:{TASK}" and group.handled is False
    assert "tests/jobs/tasks.py" in group.location
    assert task_stats()["n"] == 1 and task_stats()["err"] == 1


@pytest.mark.django_db(transaction=True)
def test_a_job_the_database_went_away_under_runs_again_instead_of_failing():
    # Before: failed with a reference (and, with the database really away, left "running" for
    # good, since marking it failed needs the database too: the soak's stuck generation).
    job = job_create(kind="test.echo", task=echo_job, params={"behaviour": "database_gone_once", "value": 7})
    background.drain()
    job = wait_for_job(job)

    assert job.status == JobStatus.SUCCEEDED and job.error == ""
    assert job.result == {"echo": 7, "attempt": 2} and job.attempts == 2
    assert not ErrorGroup.objects.exists()  # an outage is not the job's error


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


# A task that always asks to be retried, counting its runs (in-process: the retries are
# scheduled on a timer, each run ends as "retried", the last one fails past max_retries).
RETRY_RUNS: list[tuple[int, float]] = []


@shared_task(bind=True, max_retries=2)
def always_retry(self) -> None:
    RETRY_RUNS.append((self.request.retries, time.monotonic()))
    raise self.retry(countdown=0.2)


@pytest.mark.django_db(transaction=True)
def test_an_in_process_retry_waits_on_a_timer_not_inside_the_run():
    job = Job.objects.create(
        kind="test.echo", task=TASK, params={"behaviour": "retry_once", "value": "t"}, sent_at=timezone.now()
    )

    started = time.monotonic()
    first = echo_job.apply(args=(str(job.pk),))

    # The first run ends at once as retried: the retry is not run inside it after a sleep.
    assert time.monotonic() - started < 0.2
    assert first.state == "RETRY"
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and job.attempts == 1
    assert job.sent_at > timezone.now()  # when the retried delivery is due
    assert background.pending_timers() == 1

    background.drain()  # waits for the timer and the run it starts
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.result == {"echo": "t", "attempt": 2}
    assert background.pending_timers() == 0


@pytest.mark.django_db(transaction=True)
def test_in_process_retries_count_up_to_max_retries_and_only_the_last_run_fails():
    RETRY_RUNS.clear()
    always_retry.apply()
    background.drain()

    assert [retries for retries, _ in RETRY_RUNS] == [0, 1, 2]
    gaps = [later - earlier for (_, earlier), (_, later) in zip(RETRY_RUNS, RETRY_RUNS[1:], strict=False)]
    assert all(gap >= 0.2 for gap in gaps), gaps
    # The scheduled retries are not failures; the run past max_retries is, once.
    (group,) = ErrorGroup.objects.all()
    assert group.exc_type.endswith("MaxRetriesExceededError") and group.count == 1


@pytest.mark.django_db
def test_prune_deletes_old_finished_jobs_and_runs_and_keeps_unfinished_ones():
    now = datetime(2031, 3, 4, 12, 0, tzinfo=UTC)
    long_ago = now - timedelta(days=40)

    def job(status: JobStatus, finished_at: datetime | None) -> Job:
        row = Job.objects.create(kind="test.echo", task=TASK, status=status)
        Job.objects.filter(pk=row.pk).update(created_at=long_ago, finished_at=finished_at)
        return row

    old_done = job(JobStatus.SUCCEEDED, long_ago)
    old_failed = job(JobStatus.FAILED, long_ago)
    recent_done = job(JobStatus.SUCCEEDED, now - timedelta(days=1))
    old_queued = job(JobStatus.QUEUED, None)
    old_running = job(JobStatus.RUNNING, None)

    def run(name: str, started_at: datetime) -> ScheduledRun:
        row = ScheduledRun.objects.create(name=name, period=name)
        ScheduledRun.objects.filter(pk=row.pk).update(started_at=started_at)
        return row

    old_run = run("old", long_ago)
    this_month = run("this-month", now - timedelta(days=10))

    # A short retention: the jobs go after 7 days, the runs are kept 32 days whatever it is, since a
    # run is its period's claim (deleting this month's run would run the month's task again).
    assert job_prune(older_than=timedelta(days=7), now=now) == {"jobs": 2, "scheduled_runs": 1}

    assert set(Job.objects.values_list("pk", flat=True)) == {recent_done.pk, old_queued.pk, old_running.pk}
    assert not Job.objects.filter(pk__in=[old_done.pk, old_failed.pk]).exists()
    assert set(ScheduledRun.objects.values_list("pk", flat=True)) == {this_month.pk}
    assert not ScheduledRun.objects.filter(pk=old_run.pk).exists()


@pytest.mark.django_db
def test_the_daily_jobs_prune_keeps_the_retention_and_runs_once_per_day(settings):
    settings.MONITORING_RETENTION_DAYS = 30
    old = Job.objects.create(kind="test.echo", task=TASK, status=JobStatus.SUCCEEDED)
    kept = Job.objects.create(kind="test.echo", task=TASK, status=JobStatus.FAILED)
    Job.objects.filter(pk=old.pk).update(finished_at=timezone.now() - timedelta(days=31))
    Job.objects.filter(pk=kept.pk).update(finished_at=timezone.now() - timedelta(days=29))

    assert jobs_prune(period="2031-03-04") == {"jobs": 1, "scheduled_runs": 0}
    assert jobs_prune(period="2031-03-04") is None  # the day's run is claimed already

    assert list(Job.objects.values_list("pk", flat=True)) == [kept.pk]
    assert ScheduledRun.objects.get(name=jobs_prune.name).outcome == {"jobs": 1, "scheduled_runs": 0}
