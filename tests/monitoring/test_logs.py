"""What the JSON log lines carry about hostile and secret-bearing requests: a request a client
shaped to make the redactor backtrack is answered at once, and secrets in paths, query strings
and messages are redacted without the redactor ever taking more than linear time."""

import contextlib
import io
import json
import logging
import signal
import time
from collections.abc import Iterator

import pytest
from django.test import Client

from monitoring.logs import ContextFilter, JsonFormatter
from monitoring.models import ErrorGroup
from monitoring.scrub import redact_text

pytestmark = pytest.mark.django_db

HOSTILE_SIZE = 100_000
# The budget each hostile request or redaction gets; the old redactor needed minutes (cubic in
# the length of a run of letters), a linear one takes milliseconds.
REQUEST_BUDGET_SECONDS = 1.0
REDACT_BUDGET_SECONDS = 0.5


class TookTooLong(BaseException):
    """Not an `Exception`: neither a log handler nor Django's error handling may swallow it."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block after `seconds` (the regex engine checks for signals as it runs), so a
    redactor that backtracks fails the test instead of holding it for hours."""

    def expire(signum: int, frame: object) -> None:
        raise TookTooLong(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the production handler writes meanwhile: one JSON line per record, from every logger
    (Django's own included, which do not propagate to the root)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    loggers = [logging.getLogger(), logging.getLogger("django")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield stream
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def _timed_get(path: str, **headers: str) -> tuple[int, float]:
    with time_limit(10 * REQUEST_BUDGET_SECONDS):
        started = time.perf_counter()
        response = Client().get(path, **headers)
        return response.status_code, time.perf_counter() - started


def test_a_hostile_path_is_answered_and_logged_in_well_under_a_second(json_log):
    path = "/" + "password" * (HOSTILE_SIZE // 8)
    status, seconds = _timed_get(path)
    assert status == 404
    assert seconds < REQUEST_BUDGET_SECONDS
    assert "Not Found: /passwordpassword" in json_log.getvalue()  # logged, not skipped


def test_a_hostile_host_header_is_refused_and_logged_in_well_under_a_second(json_log):
    status, seconds = _timed_get("/", HTTP_HOST="password" * (HOSTILE_SIZE // 8))
    assert status == 400
    assert seconds < REQUEST_BUDGET_SECONDS
    assert "Invalid HTTP_HOST header" in json_log.getvalue()


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("password" * (HOSTILE_SIZE // 8), id="repeated-key-name"),
        pytest.param("Not Found: /" + "api_key" * (HOSTILE_SIZE // 7), id="repeated-key-name-in-a-message"),
        pytest.param("a=" * (HOSTILE_SIZE // 2), id="repeated-a-equals"),
        pytest.param("token=" * (HOSTILE_SIZE // 6), id="repeated-key-equals"),
        pytest.param("a" * HOSTILE_SIZE, id="long-word-run"),
        pytest.param("x." * (HOSTILE_SIZE // 2) + "secret", id="long-key-run-ending-in-a-key-name"),
        pytest.param("Bearer " * (HOSTILE_SIZE // 7), id="bearer-run"),
        pytest.param("Bearer" + " " * HOSTILE_SIZE, id="bearer-then-spaces"),
        pytest.param(("Basic" + " " * 20) * (HOSTILE_SIZE // 25), id="basic-then-spaces"),
        pytest.param("password" + " " * HOSTILE_SIZE + ":" + " " * HOSTILE_SIZE, id="key-spaces-colon-spaces"),
        pytest.param("'session':" * (HOSTILE_SIZE // 10), id="quoted-key-colon-run"),
    ],
)
def test_redaction_takes_linear_time_on_adversarial_text(text):
    with time_limit(10 * REDACT_BUDGET_SECONDS):
        started = time.perf_counter()
        redact_text(text)
        assert time.perf_counter() - started < REDACT_BUDGET_SECONDS


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("GET /x?page=2&access_token=abc.def", "GET /x?page=2&access_token=[Filtered]"),
        ("next=/login?password=hunter2&x=1", "next=/login?password=[Filtered]&x=1"),
        ("a=password=hunter2", "a=password=[Filtered]"),
        ('{"refresh_token": "abc", "page": 3}', '{"refresh_token": "[Filtered]", "page": 3}'),
        ("user.PASSWORD : hunter2", "user.PASSWORD : [Filtered]"),
        ("--db-password=hunter2 --verbose", "--db-password=[Filtered] --verbose"),
        ("Authorization: Bearer abc.def.ghi", "Authorization: Bearer [Filtered]"),
        ("proxy sent Authorization: Basic Zm9vOmJhcg==", "proxy sent Authorization: Basic [Filtered]"),
        ("on the basic plan, tokens are counted", "on the basic plan, tokens are counted"),
        ('WHERE "django_session"."session_key" = %s', 'WHERE "django_session"."session_key" = %s'),
    ],
)
def test_secrets_in_ordinary_log_text_are_still_redacted(text, redacted):
    assert redact_text(text) == redacted


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_secret_query_parameters_never_reach_the_json_log_line(json_log):
    query = "password=hunter2-secret&token=tok-secret-1&pass%77ord=encoded-secret&page=2"
    assert Client().get(f"/no/such/page/?{query}").status_code == 404
    assert Client().get(f"/api/projects/?{query}").status_code == 401  # an API refusal is logged too
    output = json_log.getvalue()
    for secret in ("hunter2-secret", "tok-secret-1", "encoded-secret"):
        assert secret not in output
    requests = [line["request"] for line in _lines(json_log) if "request" in line]
    assert "GET /no/such/page/?password=[Filtered]&token=[Filtered]&password=[Filtered]&page=2" in requests
    assert "GET /api/projects/?password=[Filtered]&token=[Filtered]&password=[Filtered]&page=2" in requests


@pytest.mark.urls("tests.monitoring.urls_raise")
def test_secret_query_parameters_never_reach_the_log_or_the_error_group_of_a_500(json_log):
    client = Client(raise_request_exception=False)
    assert client.get("/boom/7/?token=tok-secret-2&page=2").status_code == 500
    assert "tok-secret-2" not in json_log.getvalue()
    requests = [line["request"] for line in _lines(json_log) if "request" in line]
    assert requests == ["GET /boom/7/?token=[Filtered]&page=2"]
    group = ErrorGroup.objects.get()
    assert "tok-secret-2" not in f"{group.message} {group.sample_traceback} {group.route}"
