"""The broker stopped mid-run: a private redis-server is the broker, a real worker and the test
share the test's PostgreSQL. While the broker is down the API still answers 202 at once and the
job waits in its row, queued and unsent; once the broker is back `job_resend_unsent` sends it
and the worker runs it."""

import json
import time

import pytest

from jobs.models import Job, JobStatus
from jobs.services import job_resend_unsent
from tests.factories import ProjectFactory
from tests.fake_openai import MODEL, chat_reply
from tests.jobs.conftest import openai_env, wait_for_job
from tests.projects.prototypes.test_generation import good_draft

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_generation_sent_while_the_broker_is_down_runs_when_it_is_back(
    auth_api_client, openai_server, settings, broker, use_broker, start_worker
):
    openai_server.script(chat_reply(json.dumps(good_draft())))
    use_broker(broker.url)
    worker = start_worker(broker.url, **openai_env(settings))
    project = ProjectFactory(owner=auth_api_client.user)

    # A serving process is warm: its URLconf and views are imported before the outage.
    assert auth_api_client.get(f"/api/projects/{project.pk}/prototypes").status_code == 200
    broker.stop()
    started = time.monotonic()
    response = auth_api_client.post(f"/api/projects/{project.pk}/generate-prototype")
    elapsed = time.monotonic() - started

    assert response.status_code == 202 and elapsed < 1.0, elapsed
    job = Job.objects.get(pk=response.json()["id"])
    assert job.status == JobStatus.QUEUED and job.sent_at is None
    assert job_resend_unsent() == 0  # still down: nothing taken, nothing lost

    broker.start()
    assert job_resend_unsent() == 1

    job = wait_for_job(job, timeout=60, worker=worker)
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 1
    assert job.sent_at is not None
    assert job.result["prototype"]["generator"] == f"openai:{MODEL}"
