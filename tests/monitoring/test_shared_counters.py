"""Request counters are shared by every process: two gunicorn workers, one Redis.

Each worker tallies its requests in memory and a background thread adds the tally to Redis
every second (monitoring/metrics.py). N requests served by both workers of a real gunicorn
must add up to exactly N, while it runs, in the all-time totals, the per-minute buckets and
the hour buckets: no request lost, none counted twice (also once every worker has exited and
flushed what it still held).

gunicorn runs the project settings on its own SQLite file and on the test session's Redis
database under a key prefix of its own, deleted afterwards.
"""

import http.client
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache.backends.base import default_key_func

from monitoring import metrics
from mvpvalidator.cache import redis_client
from tests.faults.conftest import ROOT, free_port, manage, platform_env

pytestmark = pytest.mark.redis

REQUESTS = 200
CONCURRENCY = 8
ROUTE = "/api/monitoring/live"
# A JSON 404 filed under another route ("<unmatched>"): probing readiness adds nothing to ROUTE.
PROBE_PATH = "/api/monitoring/not-a-route"
START_TIMEOUT_SECONDS = 20.0
# Tallies reach Redis within FLUSH_EVERY_SECONDS (1 s); the rest is slack for a loaded box.
SETTLE_TIMEOUT_SECONDS = 5.0
ACCESS_LOG_FORMAT = "%(p)s %(m)s %(U)s %(s)s"  # gunicorn writes the worker's pid as <pid>
ACCESS_LINE = re.compile(r"^<(\d+)> (\S+) (\S+) (\d{3})$")


@dataclass
class Server:
    port: int
    prefix: str
    proc: subprocess.Popen
    access_log: Path
    error_log: Path

    def get(self, path: str) -> int:
        """One GET on a fresh connection (sync workers close it anyway); the status code."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path, headers={"Connection": "close"})
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    def served_by(self, path: str) -> Counter[int]:
        """Requests to `path` per worker pid, from the access log."""
        pids: Counter[int] = Counter()
        text = self.access_log.read_text() if self.access_log.exists() else ""
        for line in text.splitlines():
            match = ACCESS_LINE.match(line.strip())
            if match and match.group(3) == path:
                pids[int(match.group(1))] += 1
        return pids

    def stop(self) -> None:
        """SIGTERM: workers finish, flush their tallies at exit, and the group is gone."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)

    def log_tail(self) -> str:
        return "\n".join(self.error_log.read_text(errors="replace").splitlines()[-30:])


def _key(prefix: str, name: str) -> str:
    """The Redis name of `mon:<name>` under `prefix`, as the server's `raw_key` builds it."""
    return default_key_func(f"mon:{name}", prefix, 1)


def _delete_keys(prefix: str) -> None:
    client = redis_client()
    keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
    if keys:
        client.unlink(*keys)


def _wait_for(predicate: Callable[[], bool], timeout: float, pause: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(pause)
    return predicate()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """gunicorn, two sync workers on a free loopback port, both booted before the test starts."""
    prefix = f"mvptest-shared-{uuid.uuid4().hex[:12]}"
    env = platform_env(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", redis_url=settings.REDIS_URL)
    env["CACHE_KEY_PREFIX"] = prefix
    env["ENABLE_PERFORMANCE_MONITORING"] = "true"
    if settings.REDIS_PASSWORD:
        env["REDIS_PASSWORD"] = settings.REDIS_PASSWORD
    manage(env, "migrate", "--noinput", "-v", "0")

    port = free_port()
    access_log, error_log = tmp_path / "access.log", tmp_path / "gunicorn.log"
    with error_log.open("a") as out:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "mvpvalidator.wsgi",
                "--bind", f"127.0.0.1:{port}", "--workers", "2", "--worker-class", "sync",
                "--log-level", "warning",
                "--access-logfile", str(access_log), "--access-logformat", ACCESS_LOG_FORMAT,
            ],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    running = Server(port, prefix, proc, access_log, error_log)
    try:
        # Probe concurrently until both workers have answered: only then can both take load.
        def both_answered() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{running.log_tail()}")
            with ThreadPoolExecutor(4) as pool:
                list(pool.map(lambda _: _probe(running), range(4)))
            return len(running.served_by(PROBE_PATH)) >= 2

        if not _wait_for(both_answered, START_TIMEOUT_SECONDS, pause=0.05):
            raise RuntimeError(f"both gunicorn workers did not answer within {START_TIMEOUT_SECONDS} s")
        yield running
    finally:
        running.stop()
        _delete_keys(prefix)


def _probe(server: Server) -> int:
    try:
        return server.get(PROBE_PATH)
    except OSError:  # not listening yet
        return 0


def _request_counts(server: Server) -> dict[str, int]:
    """n of GET ROUTE 2xx in the totals, summed over the minute buckets and over the hour buckets."""
    client = redis_client()
    label = ("GET", ROUTE, "2xx")

    def stats_of(raw: dict[bytes, bytes]) -> dict[str, int]:
        fields = {k.decode(): int(v) for k, v in raw.items()}
        return metrics.group(fields, "r").get(label, {})

    totals = stats_of(client.hgetall(_key(server.prefix, "t")))
    counts = {"totals": totals.get("n", 0), "minutes": 0, "hours": 0}
    for scope, name in (("m", "minutes"), ("h", "hours")):
        for key in client.scan_iter(match=_key(server.prefix, f"{scope}:*"), count=500):
            counts[name] += stats_of(client.hgetall(key)).get("n", 0)
    counts["histogram"] = sum(metrics.histogram_of(totals))
    counts["errors"] = totals.get("err", 0)
    return counts


def test_requests_served_by_two_workers_add_up_exactly_in_redis(server: Server):
    started = time.monotonic()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        statuses = Counter(pool.map(lambda _: server.get(ROUTE), range(REQUESTS)))
    assert statuses == {200: REQUESTS}, statuses

    expected = {"totals": REQUESTS, "minutes": REQUESTS, "hours": REQUESTS, "histogram": REQUESTS, "errors": 0}
    seen: dict[str, int] = {}

    def settled() -> bool:
        seen.update(_request_counts(server))
        return seen == expected

    arrived = _wait_for(settled, SETTLE_TIMEOUT_SECONDS)
    waited = time.monotonic() - started
    assert arrived, f"Redis counted {seen} for {REQUESTS} requests after {waited:.1f} s\n{server.log_tail()}"

    workers = server.served_by(ROUTE)
    assert sum(workers.values()) == REQUESTS, workers
    assert len(workers) == 2, f"one worker served everything: {workers}"
    assert all(n > 0 for n in workers.values()), workers

    # Whatever a worker still held is flushed when it exits: nothing more may arrive.
    server.stop()
    assert _request_counts(server) == expected
