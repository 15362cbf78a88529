"""Every error under /api/ is the API's JSON error shape, in development (DEBUG on) as in
production; pages elsewhere keep their HTML error pages."""

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def assert_json_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    error = response.json()["error"]
    assert error["code"] == code and error["message"] and error["fields"] == {}
    return error


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", ["/api/projects/abc/", "/api/nothing-here", "/api/projects/1/archive/x", "/api/"])
def test_an_unknown_api_url_is_a_json_404(settings, debug, path):
    settings.DEBUG = debug
    assert_json_error(Client().get(path), 404, "not_found")
    assert_json_error(Client().post(path, {}, content_type="application/json"), 404, "not_found")


@pytest.mark.parametrize("debug", [False, True])
def test_other_urls_keep_their_html_404(settings, debug):
    settings.DEBUG = debug
    response = Client().get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_an_api_url_missing_its_slash_is_still_redirected_to_it():
    response = Client().get("/api/projects/1?x=1")
    assert response.status_code == 301 and response["Location"] == "/api/projects/1/?x=1"


def test_a_wrong_method_under_the_api_is_a_json_405():
    assert_json_error(Client().get("/api/auth/register"), 405, "method_not_allowed")


def test_a_host_not_allowed_is_a_json_400_under_the_api_and_a_page_elsewhere(settings):
    settings.ALLOWED_HOSTS = ["mvp.example.com"]
    client = Client(HTTP_HOST="evil.example")
    assert_json_error(client.get("/api/projects/"), 400, "bad_request")
    page = client.get("/")
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")


def test_a_csrf_failure_under_the_api_is_json_and_a_page_elsewhere():
    user = UserFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    refused = client.post("/api/projects/", {"name": "x"}, content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]["message"]
    page = client.post("/accounts/logout/")
    assert page.status_code == 403 and page["Content-Type"].startswith("text/html")
