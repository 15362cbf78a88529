"""A task that fails is an error like a request's: grouped (with the task as its route) and sent
to Sentry (by the SDK's Celery integration), and its run is counted as a "task" operation."""

import pytest
import sentry_sdk

from jobs.models import Job, JobStatus
from monitoring import metrics
from monitoring.models import ErrorGroup
from monitoring.sentry import init_sentry
from tests.jobs.tasks import echo_job

pytestmark = pytest.mark.django_db

TASK = "tests.jobs.tasks.echo_job"


def test_a_task_failure_reaches_sentry_and_the_error_groups(sentry_ingest):
    init_sentry(dsn=sentry_ingest.dsn, environment="test", release="mvp@1.2.3", traces_sample_rate=0.0)
    job = Job.objects.create(kind="test.echo", task=TASK, params={"behaviour": "crash"})

    echo_job.apply(args=(str(job.pk),))
    sentry_sdk.flush(timeout=5)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    group = ErrorGroup.objects.get()
    assert group.exc_type == "builtins.ZeroDivisionError" and group.route == f"task:{TASK}"

    def zero_division(fake):
        found = [e for e in fake.events() if any(v["type"] == "ZeroDivisionError" for v in e["exception"]["values"])]
        return found or None

    [event] = sentry_ingest.wait_for(zero_division)
    assert event["environment"] == "test"
    assert event["exception"]["values"][-1]["value"] == "the test task divided by zero"


def test_each_task_run_is_timed_as_a_task_operation():
    for value in range(3):
        echo_job.apply(args=(str(Job.objects.create(kind="test.echo", task=TASK, params={"value": value}).pk),))

    stats = metrics.group(metrics.read_window(5), "o")[("task", TASK)]
    assert stats["n"] == 3 and stats.get("err", 0) == 0
