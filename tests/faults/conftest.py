"""Servers that fault tests break on purpose: a private redis-server that can be killed and
restarted on the same port, and the platform served by gunicorn against it (a copy of a
freshly seeded SQLite file). The shared Redis on 6379 is never touched.

Every process starts in its own session and its whole process group is killed at teardown,
whatever the test did.
"""

import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bench.servers import RedisServer, free_port
from bench.servers import kill_group as _kill_group
from bench.servers import tail as _tail
from tests.services import require

ROOT = Path(__file__).resolve().parents[2]
REDIS_SOCKET_TIMEOUT_SECONDS = 0.25  # the settings default, set explicitly so a local .env cannot change it
START_TIMEOUT_SECONDS = 20.0

__all__ = ["Platform", "RedisServer", "manage"]


@pytest.fixture
def redis_persistent() -> bool:
    """Override to True in a module whose Redis must survive a restart with its data."""
    return False


@pytest.fixture
def redis_server(tmp_path: Path, redis_persistent: bool) -> Iterator[RedisServer]:
    require(None if shutil.which("redis-server") else "redis-server is not installed (apt-get install redis-server)")
    workdir = tmp_path / "redis"
    workdir.mkdir()
    server = RedisServer(workdir, persistent=redis_persistent)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def platform_env(*, database_url: str, redis_url: str | None) -> dict[str, str]:
    """Production settings on loopback, from a clean environment (nothing inherited that
    would point the platform at another database, cache or provider). Without `redis_url`
    the cache is the per-process local memory."""
    inherited = ("DJANGO_", "DATABASE_", "REDIS_", "ENABLE_", "CACHE_", "OPENAI_", "SENTRY_", "SECURITY_", "CELERY_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(inherited)}
    env.update(
        DJANGO_SETTINGS_MODULE="mvpvalidator.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50)[:50],
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_LOG_LEVEL="WARNING",
        DATABASE_URL=database_url,
        REDIS_SOCKET_TIMEOUT_SECONDS=str(REDIS_SOCKET_TIMEOUT_SECONDS),
        # The load comes from loopback alone; these tests are about outages, not about limiting
        # one address (which tests/security covers).
        SECURITY_ALLOWLIST="127.0.0.1,::1",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def manage(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with the demo data, built once per run and copied per test.

    Seeded without Redis: each test's Redis starts empty, so there is nothing to invalidate. No
    test writes to it (each serves its own copy), and it depends on nothing a module overrides,
    so one build serves every module: building it (three manage.py runs) costs about 20 s."""
    path = tmp_path_factory.mktemp("demo-db") / "db.sqlite3"
    env = platform_env(database_url=f"sqlite:///{path}", redis_url=None)
    manage(env, "migrate", "--noinput", "-v", "0")
    # DEBUG is off: pages need the static manifest (idempotent; STATIC_ROOT is not per test).
    manage(env, "collectstatic", "--noinput", "-v", "0")
    manage(env, "seed_demo")
    return path


@dataclass
class Platform:
    base_url: str
    log: Path
    database: Path
    env: dict[str, str]

    def log_tail(self) -> str:
        return _tail(self.log)


@pytest.fixture
def platform_settings() -> dict[str, str]:
    """Override in a module to add environment variables to the platform's."""
    return {}


@pytest.fixture
def platform(
    tmp_path: Path, demo_database: Path, redis_server: RedisServer, platform_settings: dict[str, str]
) -> Iterator[Platform]:
    """gunicorn (2 sync workers) on a free loopback port, on a copy of the demo database,
    caching in `redis_server`."""
    database = tmp_path / "db.sqlite3"
    shutil.copyfile(demo_database, database)
    env = {**platform_env(database_url=f"sqlite:///{database}", redis_url=redis_server.url), **platform_settings}
    port = free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("a") as out:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "mvpvalidator.wsgi",
                "--bind", f"127.0.0.1:{port}", "--workers", "2", "--worker-class", "sync",
                "--log-level", "warning",
            ],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{_tail(log)}")
            try:
                if httpx.get(f"{base_url}/api/monitoring/live", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer on port {port}:\n{_tail(log)}")
            time.sleep(0.1)
        yield Platform(base_url, log, database, env)
    finally:
        _kill_group(proc, wait=10)
