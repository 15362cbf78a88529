import threading

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories import UserFactory
from tests.fake_openai import openai_server  # noqa: F401 - a shared fixture
from tests.fake_smtp import smtp_relay  # noqa: F401 - a shared fixture
from tests.fake_webhook import webhook  # noqa: F401 - a shared fixture
from tests.services import postgres_missing, rabbitmq_missing, redis_missing, require
from tests.transactions import committed


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that drives headless Chromium `browser` (it takes the browser fixture), so
    a run can choose: CI runs them once, with the embedded suite, where the pages and scripts they
    check are the same as on the services (a browser test that needs a service is marked for it
    and runs with the services suite)."""
    for item in items:
        if "chromium_browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def _clean_cache():
    """Every test starts with an empty cache (only this test run's keys on a shared Redis)."""
    from mvpvalidator import background
    from mvpvalidator import cache as app_cache

    # Every component's per-process state (counters, buffers, mirrors), as each registered it.
    # First: resetting sends what an earlier test left in this process's outboxes (its events
    # announce their page), which the emptying below must then remove too.
    # Inside quiet(): no flush runs meanwhile, so none reads the old state back into this one.
    with background.quiet():
        background.reset()
        if settings.ENABLE_REDIS_CACHE:
            cache.delete_pattern("*")
            client = app_cache.redis_client()
            for key in client.scan_iter(app_cache.state_key("*"), count=1000):
                client.delete(key)
        else:
            cache.clear()
        app_cache.local_tier.clear()
        app_cache.forget_recent_generations()
    yield
    # Alerts are written by a background thread: let it finish inside this test, so no row it
    # writes outlives the test's database state.
    background.drain()


def _shares_the_test_connection(request) -> bool:
    from django.db import connection

    return "live_server" in request.fixturenames and connection.vendor == "sqlite" and connection.is_in_memory_db()


class _ReleasedOnClose:
    """A WSGI response that lets the next request in once the server has sent and closed it (a
    streamed response reads the database while it is sent)."""

    def __init__(self, response, release) -> None:
        self.response, self.release = response, release

    def __iter__(self):
        return iter(self.response)

    def close(self) -> None:
        try:
            if hasattr(self.response, "close"):
                self.response.close()
        finally:
            self.release()


@pytest.fixture(autouse=True)
def _no_background_writes_beside_a_live_server(request, monkeypatch):
    """In the embedded run a live server is served from the test's in-memory SQLite connection,
    which every thread then shares (a test artefact: each server thread has its own connection in
    production, and a file database makes writers wait). Two writers on it at once lose one or the
    other ("cannot start a transaction within a transaction", "database table is locked", an
    `on_commit` refused because another thread's transaction is open), and the connection stays
    broken for every later test. So while such a test runs:

    - the background flusher waits; a test that reads events sends them itself (`flush_events`
      sends the outbox first);
    - the live server handles one request at a time, from the start of its view to the close of
      its response (a browser sends a page's beacon while its form posts, and each writes).

    With PostgreSQL every thread has its own connection and neither applies."""
    if not _shares_the_test_connection(request):
        yield
        return
    from django.core.handlers.wsgi import WSGIHandler

    from mvpvalidator import background

    one_at_a_time = threading.Lock()
    handle = WSGIHandler.__call__

    def serialised(self, environ, start_response):
        # Bounded: a request that never closes its response must not hang the run (it fails).
        if not one_at_a_time.acquire(timeout=60):
            raise RuntimeError("the live server's previous request never closed its response")
        try:
            response = handle(self, environ, start_response)
        except BaseException:
            one_at_a_time.release()
            raise
        return _ReleasedOnClose(response, one_at_a_time.release)

    monkeypatch.setattr(WSGIHandler, "__call__", serialised)
    with background.paused():
        yield


@pytest.fixture(autouse=True)
def _timing_records_off(settings):
    """No query or operation is filed as slow unless a test asks for it.

    Whether a query passes SLOW_QUERY_THRESHOLD_MS (100 ms) or a request SLOW_OPERATION_THRESHOLD_MS
    depends on how busy the machine is, and the monitor's record of one is a write on the request's
    own connection after the response: on a loaded CI machine it added 6 queries to the pinned
    counts of the staff dashboard and the report page. Tests of those records set the thresholds
    they need (0, usually)."""
    settings.SLOW_QUERY_THRESHOLD_MS = 60_000
    settings.SLOW_OPERATION_THRESHOLD_MS = 60_000


@pytest.fixture(autouse=True)
def _require_marked_services(request):
    if request.node.get_closest_marker("postgres"):
        require(postgres_missing())
    if request.node.get_closest_marker("redis"):
        require(redis_missing())
    if request.node.get_closest_marker("rabbitmq"):
        require(rabbitmq_missing())


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True)


@pytest.fixture
def api_client():
    return APIClient()


def bearer(user) -> str:
    return f"Bearer {RefreshToken.for_user(user).access_token}"


@pytest.fixture
def auth_api_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(user))
    client.user = user
    return client


@pytest.fixture
def staff_api_client(staff_user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(staff_user))
    client.user = staff_user
    return client


@pytest.fixture(autouse=True)
def _requests_commit(request):
    """A request made through a test client behaves as a committed request does in production:
    the `transaction.on_commit` callbacks it registered (cache invalidation, block-list sync)
    run before its response comes back.

    pytest-django keeps each test inside one transaction that never commits, so without this no
    callback would ever run. Each request is wrapped in Django's own
    `captureOnCommitCallbacks(execute=True)` (`tests.transactions.committed`), entered and left
    through the request signals the test client sends. Tests that write outside a request use the
    `commit` fixture around the write instead.
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or (
        marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    )
    if transactional or ("db" not in request.fixturenames and marker is None):
        yield
        return
    from django.core.signals import request_finished, request_started

    test_thread = threading.get_ident()
    open_captures = []

    def started(**kwargs):
        if threading.get_ident() == test_thread:
            capture = committed()
            capture.__enter__()
            open_captures.append(capture)

    def finished(**kwargs):
        if threading.get_ident() == test_thread and open_captures:
            open_captures.pop().__exit__(None, None, None)

    request_started.connect(started, weak=False, dispatch_uid="tests-requests-commit-start")
    request_finished.connect(finished, weak=False, dispatch_uid="tests-requests-commit-finish")
    try:
        yield
    finally:
        request_started.disconnect(dispatch_uid="tests-requests-commit-start")
        request_finished.disconnect(dispatch_uid="tests-requests-commit-finish")


@pytest.fixture
def commit(db):
    """`with commit():` around a write made outside a request (a service called directly, a
    model saved): its on_commit callbacks run when the block ends (`tests.transactions`)."""
    return committed
