"""The prototypes API from the outside: generating a prototype, its history, the refusals, and
the configured provider end to end."""

import json

import pytest

from projects.models import Project, Prototype
from tests.security.test_auth_api import assert_error_shape

pytestmark = pytest.mark.django_db


# --- prototypes --------------------------------------------------------------------------------


def test_generate_prototype_moves_draft_to_prototype_ready(auth_api_client, project):
    response = auth_api_client.post(f"/api/projects/{project.pk}/generate-prototype")
    assert response.status_code == 201
    body = response.json()
    assert body["version"] == 1 and body["is_current"] is True
    assert body["generator"] == "builtin"
    assert len(body["features"]) >= 3
    project.refresh_from_db()
    assert project.status == "prototype_ready"


def test_generating_again_keeps_history_with_one_current(auth_api_client, project):
    for _ in range(3):
        auth_api_client.post(f"/api/projects/{project.pk}/generate-prototype")
    body = auth_api_client.get(f"/api/projects/{project.pk}/prototypes").json()
    assert [p["version"] for p in body["results"]] == [3, 2, 1]
    assert [p["is_current"] for p in body["results"]] == [True, False, False]


@pytest.mark.parametrize("state", ["archived", "completed"])
def test_generate_for_closed_project_is_409_and_writes_nothing(auth_api_client, project, state):
    Project.objects.filter(pk=project.pk).update(
        status=state, completed_at=project.created_at if state == "completed" else None
    )
    response = auth_api_client.post(f"/api/projects/{project.pk}/generate-prototype")
    error = assert_error_shape(response, 409, "invalid_project_state")
    assert state in error["message"]
    assert Prototype.objects.count() == 0


# --- the configured provider, end to end through the API: a job (202) --------------------------


def run_generation(client, project):
    """POST the generation (202 with its job), let the in-process job finish, return the job."""
    from mvpvalidator import background
    from tests.jobs.conftest import wait_for_job

    response = client.post(f"/api/projects/{project.pk}/generate-prototype")
    assert response.status_code == 202, response.content
    background.drain()
    from jobs.models import Job

    return response, wait_for_job(Job.objects.get(pk=response.json()["id"]))


@pytest.mark.django_db(transaction=True)
def test_generate_prototype_uses_the_configured_provider(auth_api_client, project, openai_server):
    from tests.fake_openai import MODEL, chat_reply
    from tests.projects.prototypes.test_generation import good_draft

    openai_server.script(chat_reply(json.dumps(good_draft(headline="<script>x</script>From the model"))))
    _, job = run_generation(auth_api_client, project)
    body = auth_api_client.get(f"/api/jobs/{job.pk}").json()
    assert body["status"] == "succeeded" and body["kind"] == "prototype.generate"
    prototype = body["result"]["prototype"]
    assert prototype["generator"] == f"openai:{MODEL}"
    assert prototype["fallback_reason"] == ""
    assert prototype["headline"] == "xFrom the model"  # sanitised on the way in
    assert prototype["id"] == Prototype.objects.get().pk and prototype["version"] == 1
    assert openai_server.requests[0]["json"]["messages"][1]["content"].count(project.name) == 1
    project.refresh_from_db()
    assert project.status == "prototype_ready"


@pytest.mark.django_db(transaction=True)
def test_generate_prototype_records_the_fallback_on_the_prototype(auth_api_client, project, openai_server):
    from tests.fake_openai import Reply

    openai_server.script(Reply(status=500))
    _, job = run_generation(auth_api_client, project)
    prototype = job.result["prototype"]
    assert prototype["generator"] == "builtin"
    assert prototype["fallback_reason"] == "openai: HTTP 500 after 2 attempts"
    assert Prototype.objects.get().fallback_reason == prototype["fallback_reason"]
    assert len(openai_server.requests) == 2


@pytest.mark.django_db(transaction=True)
def test_a_slow_model_answers_202_in_under_a_second_and_the_result_arrives_through_the_job(
    auth_api_client, project, openai_server, settings
):
    import time

    from tests.fake_openai import MODEL, Reply, chat_reply
    from tests.projects.prototypes.test_generation import good_draft

    settings.OPENAI_TIMEOUT_SECONDS = 10.0
    openai_server.script(Reply(body=chat_reply(json.dumps(good_draft())).body, delay=3.0))

    started = time.monotonic()
    response = auth_api_client.post(f"/api/projects/{project.pk}/generate-prototype")
    elapsed = time.monotonic() - started

    assert response.status_code == 202 and elapsed < 1.0, elapsed
    body = response.json()
    assert body["status"] == "queued" and body["result"] == {}
    assert response["Location"] == body["url"] == f"/api/jobs/{body['id']}"

    from jobs.models import Job
    from mvpvalidator import background
    from tests.jobs.conftest import wait_for_job

    # Waits for the job's thread first: in-memory SQLite refuses a read beside its writes.
    background.drain()
    job = wait_for_job(Job.objects.get(pk=body["id"]), timeout=15)
    assert job.status == "succeeded" and job.result["prototype"]["generator"] == f"openai:{MODEL}"
    assert auth_api_client.get(body["url"]).json()["result"] == job.result


@pytest.mark.parametrize("state", ["archived", "completed"])
def test_with_a_model_a_closed_project_is_still_409_and_writes_no_job(auth_api_client, project, openai_server, state):
    from jobs.models import Job

    Project.objects.filter(pk=project.pk).update(
        status=state, completed_at=project.created_at if state == "completed" else None
    )
    response = auth_api_client.post(f"/api/projects/{project.pk}/generate-prototype")
    assert_error_shape(response, 409, "invalid_project_state")
    assert not Job.objects.exists() and openai_server.requests == []


def test_with_a_model_someone_elses_project_is_404_and_writes_no_job(auth_api_client, openai_server):
    from jobs.models import Job
    from tests.factories import ProjectFactory

    response = auth_api_client.post(f"/api/projects/{ProjectFactory().pk}/generate-prototype")
    assert_error_shape(response, 404)
    assert not Job.objects.exists()


def test_with_a_model_the_throttle_refuses_before_any_job(auth_api_client, project, openai_server, settings):
    from jobs.models import Job

    settings.API_THROTTLES = {**settings.API_THROTTLES, "generate_prototype": {"rate": "1/min", "key": "user"}}
    assert auth_api_client.post(f"/api/projects/{project.pk}/generate-prototype").status_code == 202
    assert_error_shape(auth_api_client.post(f"/api/projects/{project.pk}/generate-prototype"), 429)
    assert Job.objects.count() == 1
