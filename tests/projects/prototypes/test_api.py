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


# --- the configured provider, end to end through the API -----------------------------------


def test_generate_prototype_uses_the_configured_provider(auth_api_client, project, openai_server):
    from tests.fake_openai import MODEL, chat_reply
    from tests.projects.prototypes.test_generation import good_draft

    openai_server.script(chat_reply(json.dumps(good_draft(headline="<script>x</script>From the model"))))
    body = auth_api_client.post(f"/api/projects/{project.pk}/generate-prototype").json()
    assert body["generator"] == f"openai:{MODEL}"
    assert body["fallback_reason"] == ""
    assert body["headline"] == "xFrom the model"  # sanitised on the way in
    assert openai_server.requests[0]["json"]["messages"][1]["content"].count(project.name) == 1


def test_generate_prototype_records_the_fallback_on_the_prototype(auth_api_client, project, openai_server):
    from tests.fake_openai import Reply

    openai_server.script(Reply(status=500))
    body = auth_api_client.post(f"/api/projects/{project.pk}/generate-prototype").json()
    assert body["generator"] == "builtin"
    assert body["fallback_reason"] == "openai: HTTP 500 after 2 attempts"
    assert Prototype.objects.get().fallback_reason == body["fallback_reason"]
    assert len(openai_server.requests) == 2
