"""The four kinds of page score the HTTP Observatory's top grade (A+), with production-like
cookie and HSTS settings: a public landing page, the staff pages (login, admin, the performance
monitor and a request's timeline), an API response, an error page."""

import pytest
from django.test import Client

from tests.factories import ProjectFactory, UserFactory, generate_and_publish
from tests.security.observatory import score_django_response

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def production_like(settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_PRELOAD = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True


def graded(response, path: str):
    result = score_django_response(response, url=f"https://testserver{path}")
    assert result.grade == "A+", result
    return result


def test_landing_page_scores_a_plus():
    generate_and_publish(ProjectFactory(), slug="graded")
    response = Client().get("/p/graded/", secure=True)
    assert response.status_code == 200 and response.cookies  # the visitor and CSRF cookies are judged too
    graded(response, "/p/graded/")


def test_staff_pages_score_a_plus():
    # The staff entry points: the login page (sets the CSRF cookie) and the admin index.
    graded(Client().get("/accounts/login/", secure=True), "/accounts/login/")
    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = staff.get("/admin/", secure=True)
    assert response.status_code == 200
    graded(response, "/admin/")


def _staff_client() -> Client:
    staff = Client()
    staff.force_login(UserFactory(is_staff=True))
    return staff


def test_the_performance_monitor_scores_a_plus():
    # A scanner probe is a request whose trace is always kept: its timeline is a full page.
    request_id = Client(REMOTE_ADDR="198.51.100.8").get("/.env", secure=True)["X-Request-ID"]
    staff = _staff_client()
    response = staff.get("/performance-monitor/", secure=True)
    assert response.status_code == 200 and response.cookies  # the CSRF cookie (sign-out form) is judged too
    graded(response, "/performance-monitor/")
    timeline = f"/performance-monitor/requests/{request_id}/"
    response = staff.get(timeline, secure=True)
    assert response.status_code == 200 and "scanner_path" in response.text and "No trace was kept" not in response.text
    graded(response, timeline)


def test_api_response_scores_a_plus(auth_api_client):
    response = auth_api_client.get("/api/projects/", secure=True)
    assert response.status_code == 200
    graded(response, "/api/projects/")


@pytest.mark.parametrize("path", ["/no/such/page/", "/api/no/such/endpoint"])
def test_error_pages_score_a_plus(path):
    response = Client().get(path, secure=True)
    assert response.status_code == 404
    # The scanner only grades 2xx/3xx/401/403 answers; an error page is graded on its headers
    # as if it had been served with 200, which is what a scan of a custom error route sees.
    response.status_code = 200
    graded(response, path)


@pytest.mark.parametrize(("path", "staff"), [("/accounts/login/", False), ("/performance-monitor/", True)])
def test_losing_the_csp_loses_the_grade(settings, path, staff):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "security.csp.CachedCSPMiddleware"]
    response = (_staff_client() if staff else Client()).get(path, secure=True)
    assert response.status_code == 200 and "content-security-policy" not in response.headers
    result = score_django_response(response, url=f"https://testserver{path}")
    assert result.grade != "A+"
