"""Operators' cache tools: the staff endpoints (refusals included) and the commands."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from mvpvalidator import cache as app_cache
from tests.security.test_auth_api import assert_error_shape

pytestmark = pytest.mark.django_db

STAFF_ENDPOINTS = [
    ("get", "/api/monitoring/cache-stats", None),
    ("post", "/api/monitoring/clear-cache", {"family": "project"}),
    ("post", "/api/monitoring/optimize-db", {"dry_run": True}),
]


@pytest.mark.parametrize(("method", "url", "body"), STAFF_ENDPOINTS)
def test_staff_endpoints_refuse_anonymous_with_401(api_client, method, url, body):
    assert_error_shape(getattr(api_client, method)(url, body, format="json"), 401)


@pytest.mark.parametrize(("method", "url", "body"), STAFF_ENDPOINTS)
def test_staff_endpoints_refuse_founders_with_403(auth_api_client, method, url, body):
    assert_error_shape(getattr(auth_api_client, method)(url, body, format="json"), 403, "permission_denied")


def test_cache_stats_for_staff(staff_api_client):
    app_cache.stats.reset()
    app_cache.get_or_set(app_cache.QUERY, ("k",), lambda: 1)
    app_cache.get_or_set(app_cache.QUERY, ("k",), lambda: 1)
    body = staff_api_client.get("/api/monitoring/cache-stats").json()
    assert body["stats"]["families"]["query"]["hit_rate"] == 0.5
    assert body["backend"]["breaker"]["state"] == "closed"
    assert isinstance(body["series"], list)


def test_clear_cache_family_and_all(staff_api_client):
    calls = []
    app_cache.get_or_set(app_cache.PROJECT, ("k",), lambda: calls.append(1))
    assert staff_api_client.post("/api/monitoring/clear-cache", {"family": "project"}, format="json").json() == {
        "cleared": "project"
    }
    app_cache.get_or_set(app_cache.PROJECT, ("k",), lambda: calls.append(1))
    assert len(calls) == 2
    body = staff_api_client.post("/api/monitoring/clear-cache", {"all": True}, format="json").json()
    assert body["cleared"] == "all" and body["deleted_keys"] >= 1


@pytest.mark.parametrize("body", [{}, {"family": "nope"}, {"family": "project", "all": True}])
def test_clear_cache_rejects_bad_input(staff_api_client, body):
    assert_error_shape(staff_api_client.post("/api/monitoring/clear-cache", body, format="json"), 400)


@pytest.mark.django_db(transaction=True)
def test_optimize_db_endpoint_answers_202_and_the_report_arrives_through_the_job(staff_api_client):
    from jobs.models import Job
    from mvpvalidator import background
    from tests.jobs.conftest import wait_for_job

    response = staff_api_client.post("/api/monitoring/optimize-db", {"dry_run": True}, format="json")

    assert response.status_code == 202
    body = response.json()
    assert body["kind"] == "db.optimize" and body["status"] == "queued"
    assert response["Location"] == body["url"] == f"/api/jobs/{body['id']}"
    background.drain()
    job = wait_for_job(Job.objects.get(pk=body["id"]))
    assert job.status == "succeeded" and job.params == {"vacuum": False, "dry_run": True}
    report = staff_api_client.get(body["url"]).json()["result"]
    assert report["dry_run"] is True and report["vendor"]
    assert any(t["name"] == "projects_project" for t in report["tables"])


@pytest.mark.parametrize("body", [{"dry_run": "maybe"}, {"vacuum": [1]}])
def test_optimize_db_rejects_bad_input_without_a_job(staff_api_client, body):
    from jobs.models import Job

    assert_error_shape(staff_api_client.post("/api/monitoring/optimize-db", body, format="json"), 400)
    assert not Job.objects.exists()


def test_cache_stats_command():
    app_cache.get_or_set(app_cache.QUERY, ("k",), lambda: 1)
    out = StringIO()
    call_command("cache_stats", stdout=out)
    assert "overall hit rate" in out.getvalue()
    out = StringIO()
    call_command("cache_stats", "--json", "--keys", stdout=out)
    data = json.loads(out.getvalue())
    assert data["keys"]["query"] == 1
    assert "breaker" in data["backend"]


def test_clear_cache_command():
    calls = []
    app_cache.get_or_set(app_cache.PAGE, ("k",), lambda: calls.append(1))
    call_command("clear_cache", "--family", "page", stdout=StringIO())
    app_cache.get_or_set(app_cache.PAGE, ("k",), lambda: calls.append(1))
    assert len(calls) == 2
    out = StringIO()
    call_command("clear_cache", "--all", stdout=out)
    assert "Deleted" in out.getvalue()


@pytest.mark.parametrize("args", [[], ["--family", "page", "--all"]])
def test_clear_cache_command_needs_exactly_one_target(args):
    with pytest.raises(CommandError):
        call_command("clear_cache", *args)


def test_clear_cache_command_rejects_an_unknown_family():
    with pytest.raises(CommandError):
        call_command("clear_cache", "--family", "nope")
