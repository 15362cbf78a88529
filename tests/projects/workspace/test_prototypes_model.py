"""The prototype pages with a model configured (the fake OpenAI-compatible server): generation is
a background job, its progress box polled by htmx (a Refresh link without JavaScript), and who
wrote the copy, fallback included, said honestly."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from jobs.models import Job, JobStatus
from projects.models import Project, Prototype
from projects.tasks import PROTOTYPE_GENERATE_KIND
from tests.factories import ProjectFactory, UserFactory
from tests.fake_openai import MODEL, Reply, chat_reply


@pytest.fixture
def founder(user):
    client = Client()
    client.force_login(user)
    return client


def list_url(project):
    return reverse("prototype-list", args=[project.pk])


def job_url(project, job):
    return reverse("prototype-job", args=[project.pk, job.pk])


def generate_and_finish(founder, project) -> Job:
    """POST the generation (a redirect to the list with its job), let the in-process job finish."""
    from mvpvalidator import background
    from tests.jobs.conftest import wait_for_job

    response = founder.post(reverse("prototype-generate", args=[project.pk]))
    assert response.status_code == 302
    job = Job.objects.get()
    assert response["Location"] == f"{list_url(project)}?job={job.pk}"
    # Waits for the job's thread first: in-memory SQLite refuses a read beside its writes.
    background.drain()
    return wait_for_job(job)


@pytest.mark.django_db(transaction=True)
def test_with_a_model_the_new_version_arrives_through_the_job_and_names_the_model(founder, project, openai_server):
    from tests.projects.prototypes.test_generation import good_draft

    openai_server.script(chat_reply(json.dumps(good_draft(headline="Straight from the model"))))
    job = generate_and_finish(founder, project)
    assert job.status == JobStatus.SUCCEEDED and job.kind == PROTOTYPE_GENERATE_KIND

    # The box, polled by htmx: done, so no trigger (the polling stops) and the page reloads.
    response = founder.get(job_url(project, job), headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Version 1 is ready" in html and "hx-trigger" not in html
    assert response["HX-Refresh"] == "true"

    page = founder.get(f"{list_url(project)}?job={job.pk}").content.decode()
    assert "Straight from the model" in page
    assert f"Written by {MODEL}" in page
    assert "Version 1 is ready" in page and "hx-trigger" not in page
    assert Prototype.objects.get().generator == f"openai:{MODEL}"


@pytest.mark.django_db(transaction=True)
def test_when_the_model_fails_the_page_says_the_builtin_generator_wrote_it(founder, project, openai_server):
    openai_server.script(Reply(status=500))
    job = generate_and_finish(founder, project)
    reason = "openai: HTTP 500 after 2 attempts"
    fragment = founder.get(job_url(project, job)).content.decode()
    assert f"the model was unavailable ({reason}), so the built-in generator wrote it" in fragment
    page = founder.get(list_url(project)).content.decode()
    assert f"The model was unavailable ({reason}), so the built-in generator wrote this" in page
    assert f"Written by {MODEL}" not in page


# --- The progress box, state by state (job rows as the job system writes them) -----------------


def a_job(project, status=JobStatus.QUEUED, **fields) -> Job:
    return Job.objects.create(
        kind=PROTOTYPE_GENERATE_KIND,
        owner=project.owner,
        params={"project_id": project.pk},
        status=status,
        **fields,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("status", [JobStatus.QUEUED, JobStatus.RUNNING])
def test_while_the_job_runs_the_box_polls_and_offers_a_refresh_link(founder, project, status):
    job = a_job(project, status)
    page = founder.get(f"{list_url(project)}?job={job.pk}").content.decode()
    assert f'hx-get="{job_url(project, job)}"' in page
    assert 'hx-trigger="load delay:1500ms"' in page and 'hx-swap="outerHTML"' in page
    assert f'href="{list_url(project)}?job={job.pk}">Refresh</a>' in page
    assert "Generate your first copy" not in page  # the box replaces the empty state

    response = founder.get(job_url(project, job), headers={"HX-Request": "true"})
    assert response.status_code == 200 and "HX-Refresh" not in response
    assert 'hx-trigger="load delay:1500ms"' in response.content.decode()


@pytest.mark.django_db
def test_a_failed_job_says_why_and_offers_to_try_again(founder, project):
    job = a_job(project, JobStatus.FAILED, error="The project no longer exists.")
    response = founder.get(job_url(project, job), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "The new version could not be written: The project no longer exists." in html
    assert reverse("prototype-generate", args=[project.pk]) in html
    assert "hx-trigger" not in html and "HX-Refresh" not in response


@pytest.mark.django_db
def test_a_job_of_another_founder_or_another_project_is_404(founder, project, user):
    other_founder = ProjectFactory(owner=UserFactory())
    foreign = a_job(other_founder)
    assert founder.get(job_url(project, foreign)).status_code == 404
    assert founder.get(reverse("prototype-job", args=[other_founder.pk, foreign.pk])).status_code == 404
    second = ProjectFactory(owner=user)
    elsewhere = a_job(second)
    assert founder.get(job_url(project, elsewhere)).status_code == 404
    # On the list a stale or foreign job id shows no box rather than an error.
    for raw in (foreign.pk, elsewhere.pk, "not-a-uuid"):
        response = founder.get(f"{list_url(project)}?job={raw}")
        assert response.status_code == 200 and response.context["job"] is None


# --- Refusals before any job --------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["archived", "completed"])
def test_with_a_model_a_closed_project_is_a_message_and_writes_no_job(founder, project, openai_server, state):
    Project.objects.filter(pk=project.pk).update(
        status=state, completed_at=project.created_at if state == "completed" else None
    )
    response = founder.post(reverse("prototype-generate", args=[project.pk]), follow=True)
    assert response.status_code == 200
    (message,) = [str(m) for m in response.context["messages"]]
    assert state in message
    assert not Job.objects.exists() and openai_server.requests == []


@pytest.mark.django_db
def test_with_a_model_the_throttle_is_a_message_before_any_job(founder, project, openai_server, settings):
    settings.API_THROTTLES = {**settings.API_THROTTLES, "generate_prototype": {"rate": "1/min", "key": "user"}}
    assert founder.post(reverse("prototype-generate", args=[project.pk])).status_code == 302
    response = founder.post(reverse("prototype-generate", args=[project.pk]), follow=True)
    assert "Try again in" in [str(m) for m in response.context["messages"]][-1]
    assert Job.objects.count() == 1


@pytest.mark.django_db
def test_with_a_model_the_list_says_who_writes_new_versions(founder, project, openai_server):
    html = founder.get(list_url(project)).content.decode()
    assert "New versions are written by the configured model" in html


@pytest.mark.django_db
def test_the_list_with_a_job_box_adds_one_query(founder, project, django_assert_num_queries):
    job = a_job(project, JobStatus.RUNNING)
    founder.get(list_url(project))
    # Session, user, project, the versions, the job.
    with django_assert_num_queries(5):
        assert founder.get(f"{list_url(project)}?job={job.pk}").context["job"] == job
