"""`GET /api/jobs/<id>`: the job's representation, for its owner and staff only."""

import uuid

import pytest

from jobs.models import Job, JobStatus
from tests.factories import UserFactory
from tests.security.test_auth_api import assert_error_shape

pytestmark = pytest.mark.django_db

JOB_KEYS = {"id", "kind", "status", "created_at", "started_at", "finished_at", "attempts", "error", "result", "url"}


@pytest.fixture
def job(user):
    return Job.objects.create(
        kind="prototype.generate", owner=user, status=JobStatus.SUCCEEDED, attempts=1, result={"prototype": {"id": 7}}
    )


def test_owner_reads_the_job(auth_api_client, job):
    response = auth_api_client.get(f"/api/jobs/{job.pk}")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == JOB_KEYS
    assert body["id"] == str(job.pk) and body["url"] == f"/api/jobs/{job.pk}"
    assert body["status"] == "succeeded" and body["kind"] == "prototype.generate"
    assert body["result"] == {"prototype": {"id": 7}} and body["error"] == "" and body["attempts"] == 1


def test_staff_read_every_job(staff_api_client, job):
    assert staff_api_client.get(f"/api/jobs/{job.pk}").json()["id"] == str(job.pk)


def test_another_user_gets_404_as_for_a_missing_job(api_client, job):
    from tests.conftest import bearer

    api_client.credentials(HTTP_AUTHORIZATION=bearer(UserFactory()))
    assert_error_shape(api_client.get(f"/api/jobs/{job.pk}"), 404)
    assert_error_shape(api_client.get(f"/api/jobs/{uuid.uuid4()}"), 404)


def test_anonymous_gets_401(api_client, job):
    assert_error_shape(api_client.get(f"/api/jobs/{job.pk}"), 401)


def test_the_schema_documents_the_job_endpoint(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "/api/jobs/{id}" in schema["paths"]
    generate = schema["paths"]["/api/projects/{id}/generate-prototype"]["post"]["responses"]
    assert {"201", "202"} <= set(generate)
