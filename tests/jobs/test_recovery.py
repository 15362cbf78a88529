"""What a vanished worker leaves behind is repaired: a job left running past the task's hard time
limit is failed with a message its owner can act on, a queued job sent long ago that no worker
started is sent again (and runs once), both from the event worker's periodic pass, and health
reports a stuck job meanwhile."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bench.servers import free_port
from jobs.models import Job, JobStatus
from jobs.selectors import STUCK_RUNNING_MARGIN_SECONDS
from jobs.services import WORKER_STOPPED_ERROR, job_recover_stale
from monitoring import health
from mvpvalidator import background
from projects.events import worker
from tests.jobs.conftest import wait_for_job
from tests.jobs.tasks import echo_job

TASK = "tests.jobs.tasks.echo_job"


def running_since(seconds_ago: float) -> Job:
    """A job as a worker killed mid-run leaves it: running, claimed `seconds_ago`."""
    return Job.objects.create(
        kind="test.echo", task=TASK, status=JobStatus.RUNNING, attempts=1,
        sent_at=timezone.now() - timedelta(seconds=seconds_ago + 1),
        started_at=timezone.now() - timedelta(seconds=seconds_ago),
    )  # fmt: skip


def queued_sent(seconds_ago: float, **params: object) -> Job:
    """A job the broker (or a web process's pool) took `seconds_ago` and nobody started."""
    return Job.objects.create(
        kind="test.echo", task=TASK, params=params, sent_at=timezone.now() - timedelta(seconds=seconds_ago)
    )


@pytest.mark.django_db
def test_a_job_running_past_the_time_limit_is_failed_with_a_readable_error(settings):
    limit = settings.CELERY_TASK_TIME_LIMIT
    stuck = running_since(limit + STUCK_RUNNING_MARGIN_SECONDS + 5)
    # Past the time limit but within the margin: a redelivery may still take it over (the claim).
    taken_over_soon = running_since(limit + 5)
    alive = running_since(10)

    assert job_recover_stale() == {"failed": 1, "resent": 0}

    stuck.refresh_from_db()
    assert stuck.status == JobStatus.FAILED and stuck.error == WORKER_STOPPED_ERROR
    assert stuck.error == "The worker running this job stopped before it finished; start it again."
    assert stuck.finished_at is not None
    for job in (taken_over_soon, alive):
        job.refresh_from_db()
        assert job.status == JobStatus.RUNNING and job.error == ""
    assert job_recover_stale() == {"failed": 0, "resent": 0}


@pytest.mark.django_db(transaction=True)
def test_a_queued_job_sent_long_ago_is_sent_again_and_runs_once(settings):
    settings.JOBS_RESEND_AFTER_SECONDS = 300
    lost = queued_sent(301, value="lost")
    recent = queued_sent(100, value="recent")
    unsent = Job.objects.create(kind="test.echo", task=TASK)  # job_resend_unsent's, not this pass's

    assert job_recover_stale() == {"failed": 0, "resent": 1}
    background.drain()

    lost = wait_for_job(lost)
    assert lost.status == JobStatus.SUCCEEDED and lost.result == {"echo": "lost", "attempt": 1}
    recent.refresh_from_db()
    unsent.refresh_from_db()
    assert recent.status == JobStatus.QUEUED and recent.attempts == 0
    assert unsent.status == JobStatus.QUEUED and unsent.sent_at is None

    # The first delivery turns up after all: the claim makes it a no-op.
    echo_job.apply(args=(str(lost.pk),))
    lost.refresh_from_db()
    assert lost.attempts == 1 and lost.result == {"echo": "lost", "attempt": 1}


@pytest.mark.rabbitmq
@pytest.mark.django_db
def test_a_job_sent_again_waits_the_setting_before_another_copy(settings, rabbitmq_vhost, use_broker):
    # The broker takes it, but no worker runs (none started): one copy per period, not per pass.
    settings.JOBS_RESEND_AFTER_SECONDS = 300
    job = queued_sent(301)
    use_broker(rabbitmq_vhost)

    assert job_recover_stale()["resent"] == 1
    assert job_recover_stale()["resent"] == 0

    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and timezone.now() - job.sent_at < timedelta(seconds=5)


@pytest.mark.django_db
def test_a_broker_that_refuses_leaves_the_job_for_the_next_pass(settings, use_broker):
    settings.JOBS_RESEND_AFTER_SECONDS = 300
    job = queued_sent(301)
    sent_at = job.sent_at
    use_broker(f"amqp://guest:guest@127.0.0.1:{free_port()}//")  # nothing listens there

    assert job_recover_stale() == {"failed": 0, "resent": 0}

    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and job.sent_at == sent_at  # sent again at a later pass


@pytest.mark.django_db(transaction=True)
def test_the_event_workers_periodic_pass_recovers_stale_jobs(settings):
    settings.CELERY_BEAT_SCHEDULE = {}  # this pass's schedule tick has its own tests
    stuck = running_since(settings.CELERY_TASK_TIME_LIMIT + STUCK_RUNNING_MARGIN_SECONDS + 5)
    lost = queued_sent(settings.JOBS_RESEND_AFTER_SECONDS + 1, value="lost")

    worker.periodic()
    background.drain()

    stuck.refresh_from_db()
    assert stuck.status == JobStatus.FAILED and stuck.error == WORKER_STOPPED_ERROR
    assert wait_for_job(lost).status == JobStatus.SUCCEEDED


# Committed: on PostgreSQL the check reads on its own connection, from the health thread.
@pytest.mark.django_db(transaction=True)
def test_health_reports_a_stuck_running_job_as_degraded(staff_api_client, settings):
    health.reset_cache()
    running_since(settings.CELERY_TASK_TIME_LIMIT + STUCK_RUNNING_MARGIN_SECONDS + 5)
    running_since(10)  # a job running now is not stuck

    check = staff_api_client.get("/api/monitoring/health").json()["checks"]["jobs"]

    assert check["status"] == "degraded"
    assert check["detail"]["stuck_running"] == 1 and check["detail"]["queued"] == 0
    health.reset_cache()
