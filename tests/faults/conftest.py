"""Servers that fault tests break on purpose: a private redis-server that can be killed and
restarted on the same port, and the platform served by gunicorn against it (a copy of a
freshly seeded SQLite file). The shared Redis on 6379 is never touched.

Every process starts in its own session and its whole process group is killed at teardown,
whatever the test did.
"""

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.services import require

ROOT = Path(__file__).resolve().parents[2]
REDIS_SOCKET_TIMEOUT_SECONDS = 0.25  # the settings default, set explicitly so a local .env cannot change it
START_TIMEOUT_SECONDS = 20.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kill_group(proc: subprocess.Popen | None, *, sig: signal.Signals = signal.SIGTERM, wait: float = 5.0) -> None:
    """Signal the process group; SIGKILL it if it is still there after `wait` seconds."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=wait)
    except ProcessLookupError:
        pass


def _tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class RedisServer:
    """One redis-server without persistence, always on the same port across restarts."""

    workdir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    # With an append-only file synced on every write, as a Redis holding the event buffer runs in
    # production: a stop and a restart lose nothing.
    persistent: bool = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log(self) -> Path:
        return self.workdir / "redis.log"

    def start(self) -> None:
        with self.log.open("a") as out:
            self.proc = subprocess.Popen(
                [
                    "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                    "--save", "", "--dir", str(self.workdir),
                    "--appendonly", "yes" if self.persistent else "no", "--appendfsync", "always",
                ],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}:\n{_tail(self.log)}")
            if self.ping():
                return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on port {self.port}:\n{_tail(self.log)}")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        """A crash: SIGKILL, no goodbye to the clients; connections are refused at once."""
        _kill_group(self.proc, sig=signal.SIGKILL)

    def freeze(self) -> None:
        """A hang (a stalled host, a partition): the port still accepts, nothing answers, so
        every call waits its socket timeout. `kill()` or `stop()` end it."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGSTOP)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):  # a frozen server cannot act on SIGTERM
                os.killpg(self.proc.pid, signal.SIGCONT)
        _kill_group(self.proc)


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
    inherited = ("DJANGO_", "DATABASE_", "REDIS_", "ENABLE_", "CACHE_", "OPENAI_", "SENTRY_", "SECURITY_")
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


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with the demo data, built once per module and copied per test.

    Seeded without Redis: each test's Redis starts empty, so there is nothing to invalidate."""
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
