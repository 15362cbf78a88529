"""A real Celery worker against RabbitMQ (a virtual host per test) and the test's PostgreSQL:
the generation the API accepted with 202 is run by the worker, a message delivered twice runs
the job once, and a crash in the worker is grouped like a request error."""

import json
import re
import time

import pytest

from jobs import dispatch
from jobs.models import Job, JobStatus
from jobs.services import job_create
from monitoring.models import ErrorGroup
from projects.models import Prototype
from tests.factories import ProjectFactory
from tests.fake_openai import MODEL, Reply, chat_reply
from tests.jobs.conftest import openai_env, wait_for_job
from tests.jobs.tasks import echo_job
from tests.projects.prototypes.test_generation import good_draft

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.django_db(transaction=True)]


def succeeded_runs(worker) -> int:
    return len(re.findall(r"Task tests\.jobs\.tasks\.echo_job\[[^\]]+\] succeeded", worker.log.read_text()))


def test_the_worker_runs_a_slow_generation_the_api_accepted_at_once(
    auth_api_client, openai_server, settings, rabbitmq_vhost, use_broker, start_worker
):
    settings.OPENAI_TIMEOUT_SECONDS = 10.0
    openai_server.script(Reply(body=chat_reply(json.dumps(good_draft())).body, delay=2.0))
    use_broker(rabbitmq_vhost)
    worker = start_worker(rabbitmq_vhost, **openai_env(settings))
    project = ProjectFactory(owner=auth_api_client.user)

    started = time.monotonic()
    response = auth_api_client.post(f"/api/projects/{project.pk}/generate-prototype")

    assert response.status_code == 202 and time.monotonic() - started < 1.0
    job = Job.objects.get(pk=response.json()["id"])
    assert job.sent_at is not None  # the broker took it
    job = wait_for_job(job, worker=worker)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["prototype"]["generator"] == f"openai:{MODEL}"
    assert Prototype.objects.get().pk == job.result["prototype"]["id"]
    assert auth_api_client.get(f"/api/jobs/{job.pk}").json()["status"] == "succeeded"


def test_a_job_delivered_twice_runs_once_on_the_worker(rabbitmq_vhost, use_broker, start_worker):
    use_broker(rabbitmq_vhost)
    worker = start_worker(rabbitmq_vhost)
    job = wait_for_job(job_create(kind="test.echo", task=echo_job, params={"value": "x"}), worker=worker)

    # The same message twice more, as a redelivery would bring it.
    assert dispatch.send(echo_job, args=(str(job.pk),))
    assert dispatch.send(echo_job, args=(str(job.pk),))
    deadline = time.monotonic() + 20
    while succeeded_runs(worker) < 3:
        assert time.monotonic() < deadline, worker.log_tail()
        time.sleep(0.1)

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 1
    assert job.result == {"echo": "x", "attempt": 1}


def test_a_crash_on_the_worker_fails_the_job_and_lands_in_the_error_groups(rabbitmq_vhost, use_broker, start_worker):
    use_broker(rabbitmq_vhost)
    worker = start_worker(rabbitmq_vhost)

    job = wait_for_job(job_create(kind="test.echo", task=echo_job, params={"behaviour": "crash"}), worker=worker)

    assert job.status == JobStatus.FAILED and job.error.startswith("Internal error; reference ")
    deadline = time.monotonic() + 10
    while not ErrorGroup.objects.filter(route="task:tests.jobs.tasks.echo_job").exists():
        assert time.monotonic() < deadline, worker.log_tail()
        time.sleep(0.1)
    assert ErrorGroup.objects.get().exc_type == "builtins.ZeroDivisionError"
