"""The error pages in the workspace's look, each with a way back; JSON under /api/ as before.
This module is also the URLconf of its tests: the workspace's, plus views that fail on purpose."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path

from mvpvalidator.urls import handler400, handler403, handler404, handler500
from mvpvalidator.urls import urlpatterns as workspace_urlpatterns

pytestmark = pytest.mark.django_db


def refuse(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def fail(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


urlpatterns = [path("refuse/", refuse), path("fail/", fail), path("api/fail/", fail), *workspace_urlpatterns]
__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


@pytest.fixture(autouse=True)
def _failing_urls(settings):
    settings.ROOT_URLCONF = __name__


def _styled(body: str) -> None:
    assert '<link rel="stylesheet" href="/static/css/app.css">' in body
    assert 'class="topbar"' in body and 'class="error-page' in body


def test_an_unknown_address_is_a_styled_404_with_a_way_home():
    response = Client().get("/no/such/page")
    assert response.status_code == 404
    body = response.content.decode()
    _styled(body)
    assert "Page not found" in body and 'href="/"' in body


def test_a_founders_404_leads_back_to_their_projects(user):
    client = Client()
    client.force_login(user)
    body = client.get("/no/such/page").content.decode()
    assert 'href="/projects/">Go to your projects' in body


def test_a_refusal_is_a_styled_403_with_sign_in():
    response = Client().get("/refuse/")
    assert response.status_code == 403
    body = response.content.decode()
    _styled(body)
    assert 'href="/accounts/login/"' in body


def test_a_bug_is_a_styled_500_that_needs_no_request_context():
    response = Client(raise_request_exception=False).get("/fail/")
    assert response.status_code == 500
    body = response.content.decode()
    _styled(body)
    assert "Something went wrong" in body and 'href="/"' in body


def test_the_500_page_renders_with_no_context_at_all():
    from django.template import loader

    body = loader.get_template("500.html").render()
    assert "Something went wrong" in body


def test_errors_under_the_api_stay_json():
    missing = Client().get("/api/no-such-thing")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    failed = Client(raise_request_exception=False).get("/api/fail/")
    assert failed.status_code == 500 and failed.json()["error"]["code"] == "server_error"


def test_an_expired_form_is_a_styled_403_under_the_workspace_and_json_under_the_api(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.post("/projects/new", {"name": "x"})
    assert page.status_code == 403
    body = page.content.decode()
    _styled(body)
    assert "This form has expired" in body
    refused = client.post("/api/projects/", {"name": "x"}, content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]["message"]
