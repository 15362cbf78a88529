"""The security-header coverage KPI from the outside: every response counted at the outermost
middleware, refusals, errors and static files included, per required header."""

import pytest
from django.test import Client

from monitoring.interface import count_kpi
from security import kpis as security_kpis
from security.interface import HTTPS_RESPONSE_HEADERS, REQUIRED_RESPONSE_HEADERS
from tests.security.kpi_read import kpi

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.security.kpi_urls")]

STATIC = "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css"


def test_every_kind_of_response_carries_every_header(settings):
    settings.MAX_REQUESTS_PER_HOUR = 6
    client = Client(REMOTE_ADDR="203.0.113.90", raise_request_exception=False)
    statuses = [
        client.get("/").status_code,  # a page
        client.get(STATIC).status_code,  # a static file (WhiteNoise)
        client.get("/no-such-page").status_code,  # a 404
        client.get("/.env").status_code,  # a scanner's refusal
        client.get("/kpi-test/boom").status_code,  # an error page
        client.get("/api/users/me").status_code,  # an API refusal
        client.get("/").status_code,  # over the global quota: a 429
    ]
    assert statuses == [200, 200, 404, 404, 500, 401, 429]
    figure = kpi("header_coverage")
    assert figure["value"] == 1.0 and figure["pass"] is True
    assert figure["detail"]["responses"] == len(statuses)
    assert figure["detail"]["headers"] == dict.fromkeys(REQUIRED_RESPONSE_HEADERS, 1.0)


def test_a_response_without_a_header_lowers_that_headers_coverage():
    client = Client(REMOTE_ADDR="203.0.113.91")
    for _ in range(3):
        assert client.get("/").status_code == 200
    framed = client.get("/kpi-test/framed")
    assert framed.status_code == 200 and "X-Frame-Options" not in framed
    figure = kpi("header_coverage")
    assert figure["value"] == 0.75 and figure["pass"] is False
    assert figure["detail"]["headers"]["X-Frame-Options"] == 0.75
    assert figure["detail"]["headers"]["Content-Security-Policy"] == 1.0
    # The API's own answer carried every header and is counted now: 4 of 5.
    assert security_kpis.header_coverage_hourly(24)[-1] == 0.8


def test_responses_lacking_different_headers_are_each_counted_under_their_own():
    client = Client(REMOTE_ADDR="203.0.113.94")
    responses = [client.get(path) for path in ("/", "/kpi-test/framed", "/kpi-test/framed", "/kpi-test/no-policy")]
    assert "X-Frame-Options" not in responses[1] and "Content-Security-Policy" not in responses[3]
    figure = kpi("header_coverage")
    assert figure["detail"]["responses"] == 4
    assert figure["detail"]["headers"]["X-Frame-Options"] == 0.5
    assert figure["detail"]["headers"]["Content-Security-Policy"] == 0.75
    assert figure["detail"]["headers"]["Permissions-Policy"] == 1.0


def test_hsts_is_required_of_https_responses_only(settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_SSL_REDIRECT = False
    client = Client(REMOTE_ADDR="203.0.113.92")
    assert client.get("/", secure=True).status_code == 200
    assert client.get("/").status_code == 200  # plain HTTP: no HSTS, and none required
    figure = kpi("header_coverage")
    assert figure["value"] == 1.0
    assert figure["detail"]["headers"][HTTPS_RESPONSE_HEADERS[0]] == 1.0


def test_the_https_redirect_carries_every_header_and_keeps_coverage_whole(settings):
    """Django's SecurityMiddleware answers plain HTTP with its redirect before anything below it
    runs: the header middleware sit above it, so the redirect is covered like any page."""
    settings.SECURE_SSL_REDIRECT = True
    client = Client(REMOTE_ADDR="203.0.113.93")
    redirect = client.get("/accounts/login/")
    assert redirect.status_code == 301 and redirect["Location"].startswith("https://")
    for header in REQUIRED_RESPONSE_HEADERS:
        assert header in redirect, header
    assert client.get("/accounts/login/", secure=True).status_code == 200
    assert kpi("header_coverage")["value"] == 1.0


def test_three_responses_missing_a_header_in_100000_fail_the_100_percent_bar():
    """The bar is "every response": a handful lacking a header among very many is still a
    failure, never rounded up to 100%."""
    count_kpi(security_kpis.HEADERS_RESPONSES, 100_000)
    count_kpi(security_kpis.missing_header_counter("X-Frame-Options"), 3)
    figure = kpi("header_coverage")
    assert figure["pass"] is False
    assert figure["value"] == (100_000 - 3) / 100_000
    assert figure["detail"]["headers"]["X-Frame-Options"] < 1.0
    assert figure["detail"]["headers"]["Content-Security-Policy"] == 1.0
