"""Real Celery workers for the job tests: `celery -A mvpvalidator worker` started as a
subprocess against a broker of the test's own (a RabbitMQ virtual host made for the test, or a
private redis-server) and the test's PostgreSQL database, so the worker and the test share the
job rows. Every process starts in its own session and its whole group is killed at teardown."""

import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

from bench.servers import RedisServer, kill_group, tail
from jobs.models import Job, JobStatus
from tests.services import rabbitmq_url, require

ROOT = Path(__file__).resolve().parents[2]
WORKER_START_TIMEOUT_SECONDS = 30.0


@pytest.fixture
def rabbitmq_vhost() -> Iterator[str]:
    """A RabbitMQ virtual host of this test's own (its queues are seen by nobody else), deleted
    after; yields its broker URL."""
    ctl = shutil.which("rabbitmqctl")
    require(None if ctl else "rabbitmqctl is not installed (needed to make a virtual host per test)")
    vhost = f"mvp-test-{secrets.token_hex(6)}"

    def run(*args: str) -> None:
        subprocess.run([ctl, *args], check=True, capture_output=True, timeout=60)

    run("add_vhost", vhost)
    try:
        user = urlsplit(rabbitmq_url()).username or "guest"
        run("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
        parts = urlsplit(rabbitmq_url())
        yield urlunsplit((parts.scheme, parts.netloc, f"/{vhost}", "", ""))
    finally:
        run("delete_vhost", vhost)


def shared_database_url() -> str:
    """The test database (pytest-django's `test_...` one), for processes outside the test."""
    settings = connection.settings_dict
    user = settings["USER"] or "postgres"
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    host, port = settings["HOST"] or "127.0.0.1", settings["PORT"] or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"


@dataclass
class Worker:
    proc: subprocess.Popen
    log: Path

    def log_tail(self) -> str:
        return tail(self.log)


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """`start_worker(broker_url, **env)`: a Celery worker (one process, the test tasks included)
    on the test database, ready when it says so in its log."""
    started: list[Worker] = []

    def start(broker_url: str, **extra_env: str) -> Worker:
        inherited = ("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "OPENAI_", "SENTRY_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(inherited)}
        env.update(
            DJANGO_SETTINGS_MODULE="mvpvalidator.test_settings",
            MVP_TEST_CELERY_WORKER="1",  # publishes through its broker (mvpvalidator/test_settings.py)
            DATABASE_URL=shared_database_url(),
            CELERY_BROKER_URL=broker_url,
            **extra_env,
        )
        log = tmp_path / f"worker-{len(started)}.log"
        with log.open("a") as out:
            proc = subprocess.Popen(
                [
                    sys.executable, "-m", "celery", "-A", "mvpvalidator", "worker",
                    "--include", "tests.jobs.tasks", "--pool", "solo", "--loglevel", "INFO",
                    "--without-heartbeat", "--without-gossip", "--without-mingle",
                ],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        worker = Worker(proc, log)
        started.append(worker)
        deadline = time.monotonic() + WORKER_START_TIMEOUT_SECONDS
        while "ready." not in log.read_text():
            if proc.poll() is not None:
                raise RuntimeError(f"the worker exited with {proc.returncode}:\n{worker.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start:\n{worker.log_tail()}")
            time.sleep(0.1)
        return worker

    try:
        yield start
    finally:
        for worker in started:
            kill_group(worker.proc, wait=10)


def openai_env(settings) -> dict[str, str]:
    """The fake OpenAI server the test started, for a worker in another process."""
    return {
        "OPENAI_API_KEY": settings.OPENAI_API_KEY,
        "OPENAI_BASE_URL": settings.OPENAI_BASE_URL,
        "OPENAI_MODEL": settings.OPENAI_MODEL,
        "OPENAI_TIMEOUT_SECONDS": str(settings.OPENAI_TIMEOUT_SECONDS),
    }


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[RedisServer]:
    """A private redis-server as the broker (kept on disk across a restart), which a test stops
    and starts to play a broker outage."""
    require(None if shutil.which("redis-server") else "redis-server is not installed (apt-get install redis-server)")
    workdir = tmp_path / "broker"
    workdir.mkdir()
    server = RedisServer(workdir, persistent=True)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def use_broker(settings) -> Callable[[str], None]:
    """`use_broker(url)`: this test process sends its jobs to that broker (restored after)."""

    def use(url: str) -> None:
        settings.CELERY_BROKER_URL = url
        settings.JOBS_IN_PROCESS = False
        settings.CELERY_TASK_ALWAYS_EAGER = False

    return use


def wait_for_job(job: Job, *, timeout: float = 20.0, worker: Worker | None = None) -> Job:
    """The job once it has finished (succeeded or failed)."""
    deadline = time.monotonic() + timeout
    while True:
        job.refresh_from_db()
        if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job.pk} still {job.status}" + (f":\n{worker.log_tail()}" if worker else ""))
        time.sleep(0.05)
