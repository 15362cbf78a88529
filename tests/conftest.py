import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories import UserFactory
from tests.fake_openai import openai_server  # noqa: F401 - a shared fixture
from tests.fake_smtp import smtp_relay  # noqa: F401 - a shared fixture
from tests.fake_webhook import webhook  # noqa: F401 - a shared fixture
from tests.services import postgres_missing, redis_missing, require


@pytest.fixture(autouse=True)
def _clean_cache():
    """Every test starts with an empty cache (only this test run's keys on a shared Redis)."""
    from mvpvalidator import cache as app_cache

    if settings.ENABLE_REDIS_CACHE:
        cache.delete_pattern("*")
        client = app_cache.redis_client()
        for key in client.scan_iter(app_cache.state_key("*"), count=1000):
            client.delete(key)
    else:
        cache.clear()
    app_cache.local_tier.clear()
    app_cache.forget_recent_generations()
    from mvpvalidator import background

    # Every component's per-process state (counters, buffers, mirrors), as each registered it.
    background.reset()
    yield
    # Alerts are written by a background thread: let it finish inside this test, so no row it
    # writes outlives the test's database state.
    background.drain()


@pytest.fixture(autouse=True)
def _require_marked_services(request):
    if request.node.get_closest_marker("postgres"):
        require(postgres_missing())
    if request.node.get_closest_marker("redis"):
        require(redis_missing())


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
def _on_commit_runs_when_the_code_commits(request, monkeypatch):
    """Make `transaction.on_commit` behave as in production inside tests.

    pytest-django wraps each test in a transaction that is never committed, so callbacks (cache
    invalidation, emails) would never run. Here they run when the code's own outermost atomic
    block exits successfully, i.e. when production would have committed, and are dropped when it
    rolls back, exactly as Django does with savepoints.
    """
    marker = request.node.get_closest_marker("django_db")
    marked = marker is not None and not (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    if ("db" not in request.fixturenames and not marked) or "transactional_db" in request.fixturenames:
        yield
        return
    request.getfixturevalue("db")
    from django.db import connections
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.transaction import Atomic

    baselines = {alias: len(connections[alias].atomic_blocks) for alias in connections}
    original_on_commit = BaseDatabaseWrapper.on_commit
    original_exit = Atomic.__exit__

    def at_test_level(connection) -> bool:
        return len(connection.atomic_blocks) == baselines.get(connection.alias, 0)

    def on_commit(self, func, robust=False):
        if self.in_atomic_block and at_test_level(self):
            func()
        else:
            original_on_commit(self, func, robust)

    def exit_(self, exc_type, exc_value, traceback):
        result = original_exit(self, exc_type, exc_value, traceback)
        connection = connections[self.using or "default"]
        if exc_type is None and at_test_level(connection):
            while connection.run_on_commit:
                _, func, _ = connection.run_on_commit.pop(0)
                func()
        return result

    monkeypatch.setattr(BaseDatabaseWrapper, "on_commit", on_commit)
    monkeypatch.setattr(Atomic, "__exit__", exit_)
    yield
