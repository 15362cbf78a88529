import io
import json
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults

import pytest
import sentry_sdk
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client

from monitoring import context
from monitoring.sentry import (
    FILTERED,
    add_context_tags,
    before_breadcrumb,
    init_sentry,
    redact_text,
    sample_rate_for,
    scrub_event,
    scrub_headers,
    scrub_query_string,
    scrub_value,
)

REQUEST_ID = "test-request-0001"
ACCESS_TOKEN = "eyJhbGciOiJIUzI1NiJ9.access-part.signature-part"
REFRESH_TOKEN = "eyJhbGciOiJIUzI1NiJ9.refresh-part.signature-part"
PASSWORD = "hunter2-correct-horse"
NEW_PASSWORD = "battery-staple-9000"
SECRETS = (ACCESS_TOKEN, REFRESH_TOKEN, PASSWORD, NEW_PASSWORD)


@pytest.fixture
def request_context():
    token = context.start(
        context.RequestContext(request_id=REQUEST_ID, route="/api/projects/<int:pk>/", user_id=5, project_id=9)
    )
    yield
    context.end(token)


# --- End to end: a real SDK sending to a real (fake) Sentry over HTTP --------------------------

BOOM_FORM = {"password": PASSWORD, "new_password": NEW_PASSWORD, "refresh_token": REFRESH_TOKEN, "name": "Acme"}


def _boom_events(ingest):
    def find(fake):
        found = [e for e in fake.events() if any(v["type"] == "BoomError" for v in e["exception"]["values"])]
        return found or None

    return ingest.wait_for(find)


def _assert_boom_event_is_tagged_and_scrubbed(event: dict) -> None:
    assert event["environment"] == "test"
    assert event["release"] == "mvp@1.2.3"
    exception = event["exception"]["values"][-1]
    assert exception["type"] == "BoomError"
    assert exception["value"].startswith("boom 7: upstream said no to Bearer [Filtered]")

    assert event["tags"]["request_id"] == REQUEST_ID
    assert event["tags"]["route"] == "/boom/<int:pk>/"
    assert "user_id" not in event["tags"]  # anonymous

    data = event["request"]["data"]
    assert data.get("password", FILTERED) == FILTERED
    assert data["new_password"] == FILTERED
    assert data["refresh_token"] == FILTERED
    assert data["name"] == "Acme"
    text = json.dumps(event)
    assert "session-cookie-value" not in text
    for secret in SECRETS:
        assert secret not in text


@pytest.mark.django_db
@pytest.mark.urls("tests.monitoring.urls_raise")
def test_unhandled_error_reaches_sentry_tagged_with_the_request_and_scrubbed(sentry_ingest):
    init_sentry(dsn=sentry_ingest.dsn, environment="test", release="mvp@1.2.3", traces_sample_rate=1.0)
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "session-cookie-value"

    response = client.post(
        "/boom/7/",
        data=BOOM_FORM,
        headers={"X-Request-ID": REQUEST_ID, "Authorization": f"Bearer {ACCESS_TOKEN}"},
    )
    assert response.status_code == 500
    sentry_sdk.flush(timeout=5)

    events = _boom_events(sentry_ingest)
    assert len(events) == 1, "one unhandled error, one event (the SDK dedupes the log records of it)"
    _assert_boom_event_is_tagged_and_scrubbed(events[0])
    # The test client bypasses the WSGI layer, which is where the SDK reads request headers.
    assert events[0]["request"].get("headers", {}).get("Authorization", FILTERED) == FILTERED


def _wsgi(path: str, *, query: str = "", form: dict | None = None, headers: dict | None = None) -> str:
    """One request through Django's real WSGI handler, which the SDK wraps as it would under
    gunicorn (request headers, URL and a transaction). Returns the status line."""
    body = urlencode(form or {}).encode()
    environ: dict = {
        "REQUEST_METHOD": "POST" if form is not None else "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "HTTP_HOST": "testserver",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
    }
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    setup_testing_defaults(environ)
    statuses: list[str] = []
    # As Django's test client does: the test's database connection must survive the request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        result = WSGIHandler()(environ, lambda status, headers, exc_info=None: statuses.append(status))
        try:
            b"".join(result)
        finally:
            result.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return statuses[0]


@pytest.mark.django_db
@pytest.mark.urls("tests.monitoring.urls_raise")
def test_error_through_the_wsgi_handler_has_its_secret_headers_filtered(sentry_ingest):
    init_sentry(dsn=sentry_ingest.dsn, environment="test", release="mvp@1.2.3", traces_sample_rate=0.0)

    status = _wsgi(
        "/boom/7/",
        query=f"page=2&access_token={ACCESS_TOKEN}",
        form=BOOM_FORM,
        headers={
            "X-Request-ID": REQUEST_ID,
            "Authorization": f"Bearer {ACCESS_TOKEN}",
            "Cookie": "sessionid=session-cookie-value",
            "X-Refresh-Token": REFRESH_TOKEN,
            "X-Client": "pytest",
        },
    )
    assert status.startswith("500")
    sentry_sdk.flush(timeout=5)

    (event,) = _boom_events(sentry_ingest)
    _assert_boom_event_is_tagged_and_scrubbed(event)
    request = event["request"]
    assert request["url"] == "http://testserver/boom/7/"
    assert request["query_string"] == "page=2&access_token=[Filtered]"
    headers = {name.lower(): value for name, value in request["headers"].items()}
    assert headers["authorization"] == FILTERED
    assert headers["cookie"] == FILTERED
    assert headers["x-refresh-token"] == FILTERED
    assert headers["x-client"] == "pytest"


@pytest.mark.urls("tests.monitoring.urls_raise")
def test_probes_are_not_traced_and_traced_requests_lose_their_secret_parameters(sentry_ingest):
    init_sentry(dsn=sentry_ingest.dsn, environment="test", release=None, traces_sample_rate=1.0)

    assert _wsgi("/api/monitoring/live").startswith("200")
    assert _wsgi("/ok/", query=f"page=2&access_token={ACCESS_TOKEN}").startswith("200")
    sentry_sdk.flush(timeout=5)

    def ok_transaction(fake):
        return [t for t in fake.transactions() if t["transaction"] == "/ok/"]

    (transaction,) = sentry_ingest.wait_for(ok_transaction)
    # Sent in order, so the probe's transaction would have arrived before this one.
    assert [t["transaction"] for t in sentry_ingest.transactions()] == ["/ok/"]
    assert transaction["request"]["query_string"] == "page=2&access_token=[Filtered]"
    assert ACCESS_TOKEN not in json.dumps(transaction)


# --- Sampling -------------------------------------------------------------------------------


def _sampling(path: str, parent_sampled: bool | None = None) -> dict:
    return {
        "transaction_context": {"name": "generic WSGI request", "op": "http.server"},
        "parent_sampled": parent_sampled,
        "wsgi_environ": {"PATH_INFO": path},
    }


@pytest.mark.parametrize(
    "path",
    ["/api/monitoring/health", "/api/monitoring/live", "/api/monitoring/cache-stats", "/static/app.css", "/metrics"],
)
def test_probes_scrapes_and_static_files_are_never_traced(path):
    assert sample_rate_for(_sampling(path), rate=0.5) == 0
    assert sample_rate_for(_sampling(path, parent_sampled=True), rate=0.5) == 0


def test_other_requests_use_the_configured_rate():
    assert sample_rate_for(_sampling("/api/projects/"), rate=0.25) == 0.25
    assert sample_rate_for({"asgi_scope": {"path": "/p/acme/"}, "parent_sampled": None}, rate=0.25) == 0.25
    assert sample_rate_for({"asgi_scope": {"path": "/api/monitoring/health"}}, rate=0.25) == 0


def test_a_parent_sampling_decision_is_followed():
    assert sample_rate_for(_sampling("/api/projects/", parent_sampled=True), rate=0.01) == 1.0
    assert sample_rate_for(_sampling("/api/projects/", parent_sampled=False), rate=1.0) == 0.0


# --- Scrubbing ------------------------------------------------------------------------------


def test_sensitive_headers_are_filtered_whatever_their_case():
    headers = {
        "Authorization": f"Bearer {ACCESS_TOKEN}",
        "cookie": "sessionid=abc",
        "X-Api-Key": "k-123",
        "Proxy-Authorization": "Basic Zm9vOmJhcg==",
        "X-CSRFToken": "csrf-123",
        "Content-Type": "application/json",
        "X-Forwarded-Note": f"Bearer {ACCESS_TOKEN}",
    }
    assert scrub_headers(headers) == {
        "Authorization": FILTERED,
        "cookie": FILTERED,
        "X-Api-Key": FILTERED,
        "Proxy-Authorization": FILTERED,
        "X-CSRFToken": FILTERED,
        "Content-Type": "application/json",
        "X-Forwarded-Note": "Bearer [Filtered]",
    }


def test_sensitive_keys_are_filtered_at_any_depth():
    data = {
        "name": "Acme",
        "account": {"Password": PASSWORD, "profile": {"stripe_api_key": "sk_live", "apiKey": "k", "city": "Oslo"}},
        "items": [{"refresh_token": REFRESH_TOKEN, "qty": 2}, ("jwt", "plain")],
        "SENTRY_DSN": "https://key@o1.ingest.sentry.io/1",
        "session_data": {"anything": "x"},
        "client_secret": None,
    }
    assert scrub_value(data) == {
        "name": "Acme",
        "account": {"Password": FILTERED, "profile": {"stripe_api_key": FILTERED, "apiKey": FILTERED, "city": "Oslo"}},
        "items": [{"refresh_token": FILTERED, "qty": 2}, ["jwt", "plain"]],
        "SENTRY_DSN": FILTERED,
        "session_data": FILTERED,
        "client_secret": FILTERED,
    }


def test_bearer_tokens_and_secret_pairs_are_redacted_inside_text():
    assert redact_text(f"401 from upstream for bearer {ACCESS_TOKEN}, retrying") == (
        "401 from upstream for bearer [Filtered], retrying"
    )
    assert redact_text(f"GET /x?page=2&access_token={ACCESS_TOKEN}") == "GET /x?page=2&access_token=[Filtered]"
    assert redact_text("login failed: password='hunter2'") == "login failed: password='[Filtered]'"
    assert redact_text("proxy sent Authorization: Basic Zm9vOmJhcg==") == "proxy sent Authorization: Basic [Filtered]"
    assert redact_text("plain message, 3 items, on the basic plan") == "plain message, 3 items, on the basic plan"
    sql = 'SELECT 1 FROM "django_session" WHERE "django_session"."session_key" = %s'
    assert redact_text(sql) == sql


def test_query_strings_keep_harmless_parameters():
    assert scrub_query_string(f"page=2&access_token={ACCESS_TOKEN}&API_KEY=x&q=a+b") == (
        "page=2&access_token=[Filtered]&API_KEY=[Filtered]&q=a+b"
    )
    assert scrub_query_string([["page", "2"], ["token", "t"]]) == [["page", "2"], ["token", FILTERED]]
    assert scrub_query_string("") == ""


def test_scrub_event_leaves_no_secret_anywhere_and_keeps_the_rest():
    event = {
        "message": f"calling with Bearer {ACCESS_TOKEN}",
        "logentry": {"message": "auth header %s", "params": [f"Bearer {ACCESS_TOKEN}"]},
        "request": {
            "url": "https://example.com/api/projects/",
            "query_string": f"token={REFRESH_TOKEN}&page=1",
            "headers": {"Authorization": f"Bearer {ACCESS_TOKEN}", "Accept": "text/html"},
            "cookies": {"sessionid": "s", "theme": "dark"},
            "data": {"user": {"password": PASSWORD, "email": "a@example.com"}},
        },
        "extra": {"payload": {"new_password": NEW_PASSWORD}},
        "contexts": {"integration": {"webhook_secret": "whsec", "url": "https://hooks.example.com"}},
        "exception": {
            "values": [
                {
                    "type": "HTTPError",
                    "value": f"denied: Authorization: Bearer {ACCESS_TOKEN}",
                    "stacktrace": {"frames": [{"function": "call", "vars": {"password": PASSWORD, "attempt": "2"}}]},
                }
            ]
        },
        "breadcrumbs": {"values": [{"message": f"Bearer {REFRESH_TOKEN}", "data": {"http.query": "jwt=x&a=1"}}]},
        "tags": {"note": f"Bearer {ACCESS_TOKEN}"},
    }
    scrubbed = scrub_event(event)
    text = json.dumps(scrubbed)
    for secret in (*SECRETS, "whsec"):
        assert secret not in text
    assert scrubbed["request"]["headers"] == {"Authorization": FILTERED, "Accept": "text/html"}
    assert scrubbed["request"]["cookies"] == {"sessionid": FILTERED, "theme": FILTERED}
    assert scrubbed["request"]["query_string"] == "token=[Filtered]&page=1"
    assert scrubbed["request"]["data"] == {"user": {"password": FILTERED, "email": "a@example.com"}}
    assert scrubbed["contexts"]["integration"]["url"] == "https://hooks.example.com"
    assert scrubbed["exception"]["values"][0]["stacktrace"]["frames"][0]["vars"] == {
        "password": FILTERED,
        "attempt": "2",
    }
    assert scrubbed["breadcrumbs"]["values"][0]["data"]["http.query"] == "jwt=[Filtered]&a=1"


def test_breadcrumbs_are_scrubbed_when_recorded():
    crumb = {
        "category": "httplib",
        "message": f"sent Bearer {ACCESS_TOKEN}",
        "data": {"url": "https://api.example.com/v1", "http.query": "api_key=abc&x=1", "token": "t"},
    }
    assert before_breadcrumb(crumb, {}) == {
        "category": "httplib",
        "message": "sent Bearer [Filtered]",
        "data": {"url": "https://api.example.com/v1", "http.query": "api_key=[Filtered]&x=1", "token": FILTERED},
    }


# --- Tags -----------------------------------------------------------------------------------


def test_events_are_tagged_with_the_current_request(request_context):
    assert add_context_tags({"tags": {"route": "/set-by-caller/", "level": "x"}}) == {
        "tags": {"route": "/set-by-caller/", "level": "x", "request_id": REQUEST_ID, "user_id": "5", "project_id": "9"}
    }
    assert add_context_tags({})["tags"]["route"] == "/api/projects/<int:pk>/"


def test_events_outside_a_request_get_no_request_tags():
    assert context.current() is None
    assert add_context_tags({"tags": {"a": "b"}}) == {"tags": {"a": "b"}}
