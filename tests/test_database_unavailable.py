"""The database away (a restart, a fail-over, an exhausted pool): every request that needs it
gets a fast 503 with Retry-After and a clear message, JSON under /api/, a page elsewhere, and
nothing is half-written. The whole stack under a real PostgreSQL restart: bench/soak.py."""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import psycopg_pool
import pytest
from django.db import IntegrityError, InterfaceError, OperationalError
from django.test import Client

from bench.servers import free_port
from mvpvalidator.db import REFUSING_POOL_WAIT_SECONDS, database_unreachable
from projects.api import projects as projects_api
from projects.models import Project
from projects.views import public as public_views
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def database_away(monkeypatch):
    """The error Django raises when the pool finds no connection in time."""

    def refuse(*args, **kwargs):
        raise OperationalError("couldn't get a connection after 5.00 sec") from psycopg_pool.PoolTimeout()

    return refuse


def test_an_api_read_while_the_database_is_away_is_a_503_with_the_error_shape(
    auth_api_client, user, monkeypatch, database_away
):
    ProjectFactory(owner=user)
    monkeypatch.setattr(projects_api, "project_list_page", database_away)
    auth_api_client.raise_request_exception = False
    response = auth_api_client.get("/api/projects/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    error = response.json()["error"]
    assert error["code"] == "database_unavailable"
    assert "try again" in error["message"].lower()


def test_a_write_that_loses_the_database_midway_leaves_nothing_and_says_503(
    auth_api_client, user, monkeypatch, database_away
):
    project = ProjectFactory(owner=user, name="Before")
    real_full_clean = Project.full_clean

    def clean_then_lose_the_connection(self, *args, **kwargs):
        real_full_clean(self, *args, **kwargs)
        database_away()

    monkeypatch.setattr(Project, "full_clean", clean_then_lose_the_connection)
    auth_api_client.raise_request_exception = False
    response = auth_api_client.patch(f"/api/projects/{project.pk}/", {"name": "After"}, format="json")
    assert response.status_code == 503
    project.refresh_from_db()
    assert project.name == "Before"


def test_a_page_while_the_database_is_away_is_a_503_page(monkeypatch, database_away):
    monkeypatch.setattr(public_views, "public_page", database_away)
    client = Client(raise_request_exception=False)
    response = client.get("/p/some-page/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert b"Unavailable for a moment" in response.content
    assert b"Try again in a few seconds" in response.content


def test_other_errors_stay_500(auth_api_client, monkeypatch):
    def bug(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(projects_api, "project_list_page", bug)
    auth_api_client.raise_request_exception = False
    response = auth_api_client.get("/api/projects/")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"


def _django(error_class, cause: BaseException) -> BaseException:
    """What Django's wrap_database_errors raises for a driver error: its own class, caused by it."""
    try:
        raise error_class(str(cause)) from cause
    except error_class as exc:
        return exc


@pytest.mark.parametrize(
    ("error", "unreachable"),
    [
        (_django(OperationalError, psycopg_pool.PoolTimeout("couldn't get a connection after 5.00 sec")), True),
        (_django(OperationalError, psycopg.OperationalError("connection refused")), True),
        (_django(OperationalError, psycopg.errors.AdminShutdown("terminating connection")), True),
        (_django(OperationalError, psycopg.errors.ConnectionFailure("server closed the connection")), True),
        (_django(InterfaceError, psycopg.InterfaceError("the connection is closed")), True),
        (_django(OperationalError, psycopg.errors.QueryCanceled("statement timeout")), False),
        (_django(OperationalError, psycopg.errors.LockNotAvailable("lock timeout")), False),
        (_django(IntegrityError, psycopg.errors.UniqueViolation("duplicate key")), False),
        (OperationalError("database is locked"), False),
        (OperationalError("unable to open database file"), True),
        (RuntimeError("a bug"), False),
        (None, False),
    ],
)
def test_what_counts_as_the_database_being_away(error, unreachable):
    assert database_unreachable(error) is unreachable


def test_a_refused_statement_stays_a_500(auth_api_client, monkeypatch):
    def timeout(*args, **kwargs):
        raise OperationalError("canceling statement due to statement timeout") from psycopg.errors.QueryCanceled()

    monkeypatch.setattr(projects_api, "project_list_page", timeout)
    auth_api_client.raise_request_exception = False
    assert auth_api_client.get("/api/projects/").status_code == 500


def test_nothing_more_is_asked_of_the_database_once_it_is_away(auth_api_client, monkeypatch, settings, database_away):
    """After the failure, the request's monitoring writes (its slow-request group here) would each
    wait out the pool again: they are left to the log, so the 503 is not held back."""
    from monitoring.models import SlowOperationGroup

    settings.SLOW_OPERATION_THRESHOLD_MS = 0  # every request is "slow", so each would be filed
    auth_api_client.raise_request_exception = False
    monkeypatch.setattr(projects_api, "project_list_page", database_away)
    assert auth_api_client.get("/api/projects/").status_code == 503
    assert not SlowOperationGroup.objects.exists()

    def bug(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(projects_api, "project_list_page", bug)
    assert auth_api_client.get("/api/projects/").status_code == 500
    assert SlowOperationGroup.objects.filter(kind="request").exists()  # filed as usual


# Requests in a process of its own, with the real settings' pool, against a PostgreSQL port
# where nothing listens (every connection is refused, as while a server restarts).
_REQUESTS_WHILE_AWAY = """
import json, time
import django
django.setup()
from django.test import Client
from mvpvalidator.db import server_refusing
client = Client(raise_request_exception=False, HTTP_HOST="localhost")
answers = []
for _ in range(4):
    started = time.monotonic()
    response = client.get("/p/some-page/")
    answers.append([response.status_code, time.monotonic() - started, server_refusing()])
print(json.dumps(answers))
"""


def test_while_the_server_refuses_connections_requests_fail_fast_not_after_the_pool_timeout():
    """The pool's timeout (5 s by default) is for a busy pool. While the server refuses
    connections, only the process's first request waits it out (nobody has been refused yet);
    the next ones are answered 503 within REFUSING_POOL_WAIT_SECONDS and a little work. Before,
    each waited the full timeout, and a sync worker's queue added them up: a soak measured
    8.1 s to a 503 with a 2 s timeout."""
    pool_timeout = 2.5
    inherited = ("DATABASE_", "REDIS_", "DJANGO_", "CACHE_", "CELERY_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(inherited)}
    env.update(
        DJANGO_SETTINGS_MODULE="mvpvalidator.settings",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/away",
        DATABASE_POOL_TIMEOUT_SECONDS=str(pool_timeout),
        # Production settings: the 503 page comes from the server-error handler, which DEBUG skips.
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="not-secret-" + "x" * 50,
        DJANGO_ALLOWED_HOSTS="localhost",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_LOG_LEVEL="CRITICAL",
    )
    result = subprocess.run(
        [sys.executable, "-c", _REQUESTS_WHILE_AWAY],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    assert [status for status, _, _ in answers] == [503] * 4
    first, *later = answers
    assert first[1] < pool_timeout + 3.0
    for _, seconds, _ in later:
        assert seconds < REFUSING_POOL_WAIT_SECONDS + 1.0 < pool_timeout
    assert all(refusing for _, _, refusing in answers)
