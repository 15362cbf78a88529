"""The mixed-traffic soak: the production-like stack on two hosts, driven like real traffic, with
faults.

It starts its own PostgreSQL cluster and redis-server (own ports and data directories, so the
machine's shared services are untouched), a RabbitMQ virtual host of its own on the machine's
RabbitMQ, a fake OpenAI-compatible provider that answers too slowly and a webhook receiver for
the platform's alerts. Then two hosts (network namespaces joined by veth pairs where the machine
allows, else loopback with a port each) run, each, gunicorn (2 sync workers, production settings
behind a trusted proxy), an event worker and a celery beat (two beats: the operator's mistake of
one per host); the first also runs the Celery worker. At once, spread over both web instances
(each actor alternates between them): visitors open the landing page (each a new browser from
its own address), visitors sign up (the real form: cookie, form token, the fill-time rule), a
founder uses the API (lists, details, edits, analytics, prototype generation: a 202 job against
the slow provider, polled), staff keep the performance monitor open (refreshing its panels), a
scanner probes paths no visitor asks for, and a credential-stuffer sprays the token endpoint.

Faults, one after another while the load runs: the alert webhook refusing (503) for a while (the
scanner's block raises its alert then); Redis stopped and restarted; PostgreSQL stopped and
restarted; one event worker killed with SIGKILL (the other runs on) and started again. The
provider is slow throughout. The visitors come to two pages whose events belong to different
rollup shards, so the two event workers roll up side by side. And a partition boundary is crossed
mid-run: today's events partition is taken away before the load (today's events then land in the
DEFAULT partition, as when the daily task has fallen behind) and made mid-run by
`manage.py event_partitions --ensure`, which moves them into it while the workers roll up.

Checked at the end (`Report.problems()`): no 5xx outside the database outage, and during it only
fast 503s with a clear message; health `degraded` while Redis is away and `ok` at the end on
each instance; the scanner and the stuffer blocked, with their audit rows, and refused by both
instances once blocked; every accepted signup in the database and none of the refused; views
counted equal views served, each once, rolled up once, by both event workers, with nothing left
in DEFAULT after the partition was made; prototype generation answered 202 within
a second, its job succeeded with a fallback saying why, and pages stayed fast meanwhile; the
alert raised while the webhook refused was delivered after; each beat entry ran once for its
period although both beats sent it; the resident memory of every process flat.

    .venv/bin/python -m bench.soak              # the full form: 10 minutes of load
    .venv/bin/python -m bench.soak --minutes 2  # shorter
The test suite runs a short form (tests/faults/test_soak.py).
"""

import argparse
import http.cookiejar
import itertools
import json
import os
import random
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.harness import PYTHON, ROOT, manage, shell_json
from bench.servers import (
    Host,
    PostgresServer,
    RabbitVhost,
    RedisServer,
    TcpForwarder,
    free_port,
    hosts,
    kill_group,
    kill_groups,
    tail,
)

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
SIGNUP_DOMAIN = "soak.example"
HOSTS = 2

# The addresses the actors come from, behind the trusted proxy (the stack's gateway) as
# X-Forwarded-For. Visitors from the benchmarking range (RFC 2544), the rest from documentation
# ranges (RFC 5737): no packet is sent to any of them, they only name clients.
SCANNER_IP = "203.0.113.66"
STUFFER_IP = "203.0.113.77"
FOUNDER_IP = "192.0.2.10"
STAFF_IP = "192.0.2.20"

PROVIDER_DELAY_SECONDS = 3.0
PROVIDER_TIMEOUT_SECONDS = 1.0
# A generation request is answered 202 with its job within this (the provider runs in the job).
GENERATION_ACCEPT_SECONDS = 1.0
# A generation job ends (polled every half second) within this after its request: two provider
# attempts and the fallback, behind whatever else the Celery worker has queued.
GENERATION_JOB_SECONDS = 30.0
# The landing page's p95 while generations are running (outside the fault windows): the provider
# must hold no web worker. A page queued behind a generation held in a worker would wait its two
# provider attempts (2 s); a loaded two-core machine running a dozen processes was measured at a
# 0.7 s p95 with no generation at all.
PAGE_P95_DURING_GENERATION_SECONDS = 1.5
# How long a request waits for a pooled connection before it is answered 503 (the production
# default is 5 s; behind a proxy that gives up sooner, set it below the proxy's timeout).
POOL_TIMEOUT_SECONDS = 2.0
# A request during the database outage must be answered within this. Once a process has been
# refused a connection, its requests wait REFUSING_POOL_WAIT_SECONDS (mvpvalidator/db.py, 0.5 s)
# per ask; only its first request after the stop waits out the pool timeout (nobody had been
# refused yet), so the bound is one pool wait plus the app's own work on a loaded machine.
FAIL_FAST_SECONDS = POOL_TIMEOUT_SECONDS + 1.5
# After PostgreSQL is back, requests may still fail for this long (pooled connections are
# replaced as they are found broken).
DB_RECOVERY_SECONDS = 5.0
# The cache breaker lets one probe through 5 s after opening.
REDIS_RECOVERY_SECONDS = 10.0
# After the load, how long the soak waits for the alert raised during the webhook outage and for
# the jobs still running (the alert's retries back off exponentially).
SETTLE_SECONDS = 180.0
MAX_RSS_GROWTH_MIB = 64.0


@dataclass(frozen=True)
class Plan:
    """When each fault starts, in seconds from the start of the load."""

    seconds: float
    webhook_down_at: float
    webhook_down_for: float
    redis_stop_at: float
    redis_down_for: float
    postgres_stop_at: float
    postgres_down_for: float
    worker_kill_at: float
    worker_down_for: float
    partition_take_at: float
    partition_at: float
    visitors: int = 3
    signup_threads: int = 3

    @property
    def scanner_at(self) -> float:
        """The scanner starts once the webhook refuses, so its block's alert is raised then."""
        return self.webhook_down_at + 2

    @classmethod
    def short(cls) -> "Plan":
        return cls(
            seconds=50, webhook_down_at=3, webhook_down_for=15, redis_stop_at=10, redis_down_for=4,
            postgres_stop_at=22, postgres_down_for=3, worker_kill_at=32, worker_down_for=3, partition_take_at=5,
            partition_at=37,
        )  # fmt: skip

    @classmethod
    def full(cls, minutes: float) -> "Plan":
        seconds = minutes * 60
        return cls(
            seconds=seconds, webhook_down_at=seconds * 0.05, webhook_down_for=60, redis_stop_at=seconds * 0.2,
            redis_down_for=10, postgres_stop_at=seconds * 0.45, postgres_down_for=5, worker_kill_at=seconds * 0.7,
            worker_down_for=5, partition_take_at=seconds * 0.1, partition_at=seconds * 0.8,
        )  # fmt: skip


@dataclass(frozen=True)
class Sample:
    actor: str
    method: str
    path: str
    started: float  # seconds since the load began
    duration: float
    status: int  # 0: no response
    body: str = ""
    instance: int = 0  # which web instance answered


@dataclass
class JobRun:
    """A generation job as its client saw it."""

    id: str
    sent: float  # seconds since the load began
    status: str = "queued"
    finished: float | None = None
    generator: str = ""
    fallback_reason: str = ""
    error: str = ""


# --- The fake servers: a slow provider, a webhook receiver that is down for a while -------------


class _SlowProvider(BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint that answers only after PROVIDER_DELAY_SECONDS."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(PROVIDER_DELAY_SECONDS)
        body = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": "{}"}}]}).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client gave up long ago
            pass

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass
class AlertReceiver:
    """The alert webhook: records each JSON it takes; while `down`, answers 503 and records the
    refusal instead. Times are seconds since the load began (`clock`)."""

    clock: Callable[[], float] = time.monotonic
    down: threading.Event = field(default_factory=threading.Event)
    received: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    refused: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    payload = json.loads(body or b"{}")
                except ValueError:
                    payload = {"unreadable": body[:200].decode(errors="replace")}
                refused = receiver.down.is_set()
                with receiver.lock:
                    (receiver.refused if refused else receiver.received).append((receiver.clock(), payload))
                try:
                    self.send_response(503 if refused else 200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


@contextmanager
def serve(handler: type[BaseHTTPRequestHandler], addresses: Sequence[str]) -> Iterator[int]:
    """One HTTP server per address, all on the same port (the hosts reach it at their gateway)."""
    servers: list[ThreadingHTTPServer] = []
    port = 0
    try:
        for address in dict.fromkeys(addresses):
            server = ThreadingHTTPServer((address, port), handler)
            server.daemon_threads = True
            port = server.server_address[1]
            servers.append(server)
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        yield port
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


# --- The stack -----------------------------------------------------------------------------------


def base_env(*, secret_key: str, addresses: Sequence[str], gateways: Sequence[str]) -> dict[str, str]:
    """Production settings, from a clean environment; each host adds its service addresses."""
    inherited = (
        "DJANGO_", "DATABASE_", "REDIS_", "ENABLE_", "CACHE_", "OPENAI_", "SENTRY_", "SECURITY_", "EVENT_", "EMAIL_",
        "CELERY_", "ERROR_WEBHOOK", "PERFORMANCE_WEBHOOK", "EVENTS_REDIS_",
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(inherited)}
    env.update(
        DJANGO_SETTINGS_MODULE="mvpvalidator.settings",
        DJANGO_DEBUG="false",
        # One key on every host: a cookie, a form token or a session from one instance is good on
        # the other, as behind a load balancer.
        DJANGO_SECRET_KEY=secret_key,
        DJANGO_ALLOWED_HOSTS=",".join(dict.fromkeys(("127.0.0.1", "localhost", *addresses))),
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_LOG_LEVEL="WARNING",
        # The stack sits behind a proxy (here the hosts' gateway) that names each client in
        # X-Forwarded-For.
        TRUSTED_PROXIES=",".join(dict.fromkeys(("127.0.0.1", *gateways))),
        # The founder and the staff member each send many times a person's rate from one address.
        MAX_REQUESTS_PER_HOUR="1000000",
        DATABASE_POOL_TIMEOUT_SECONDS=str(POOL_TIMEOUT_SECONDS),
        DATABASE_CONNECT_TIMEOUT_SECONDS="1",
        # A killed worker's claimed batch is taken over this soon.
        EVENT_CLAIM_IDLE_SECONDS="3",
        OPENAI_API_KEY="sk-soak-" + secrets.token_hex(8),
        OPENAI_TIMEOUT_SECONDS=str(PROVIDER_TIMEOUT_SECONDS),
        # The worker sends the signups' confirmation emails through Django's mail framework to
        # its dummy backend: the soak counts them in the database (sent, owed, lost), and no
        # address under the soak's domain reaches a real relay configured in the environment.
        EMAIL_URL="dummymail://",
    )
    return env


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


# Run by `manage.py shell` before the beats start: each beat's schedule file says every entry
# last ran 40 days ago, so each beat sends every entry (daily, weekly, monthly) as soon as it
# starts, within the soak's minutes. Prints the schedule: entry name -> task name.
# A second published page of the demo project, in another rollup shard than the demo page (page
# ids in a row: consecutive shards), for the visitors to share with it.
_SECOND_PAGE = """
import json
from projects.demo import DEMO_PROJECTS
from projects.events.shards import shard_of
from projects.models import LandingPage
from projects.services.pages import landing_page_create, landing_page_publish
demo = LandingPage.objects.get(slug=DEMO_PROJECTS[0]["slug"])
page = landing_page_publish(page=landing_page_create(project=demo.project, slug="invoice-chaser-soak"))
print(json.dumps({"paths": [f"/p/{p.slug}/" for p in (demo, page)], "shards": [shard_of(demo.pk), shard_of(page.pk)]}))
"""

EVENT_DEFAULT_PARTITION = "projects_event_default"


def _todays_partition() -> str:
    from projects.events.partitions import partition_name

    return partition_name(datetime.now(UTC).date())


def _take_todays_partition(conn: psycopg.Connection, timeout: float = 30.0) -> str:
    """Take today's events partition away, its rows into DEFAULT, as if the daily task had fallen
    behind: today's events land in DEFAULT until the soak makes the partition again. First waits
    for the day's run of that task, which the beats send as they start (their schedules are
    backdated) and which would make it again. Returns its name."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = conn.execute(
            "SELECT COUNT(*) FROM jobs_scheduledrun WHERE name LIKE %s AND finished_at IS NOT NULL", ("%partitions%",)
        ).fetchone()[0]
        if done:
            break
        time.sleep(0.5)
    else:
        raise RuntimeError("the daily run of events_partitions_ensure did not end")
    name = _todays_partition()
    with conn.transaction():
        conn.execute(f"ALTER TABLE projects_event DETACH PARTITION {name}")
        conn.execute(f"INSERT INTO projects_event SELECT * FROM {name}")  # noqa: S608 - a table name
        conn.execute(f"DROP TABLE {name}")
    return name


def _partition_exists(conn: psycopg.Connection, name: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]


def _default_rows(conn: psycopg.Connection) -> int:
    return conn.execute(f"SELECT COUNT(*) FROM {EVENT_DEFAULT_PARTITION}").fetchone()[0]  # noqa: S608


_BACKDATE_BEAT_SCHEDULES = """
import datetime, json
from celery.beat import PersistentScheduler
from django.utils import timezone
from mvpvalidator.celery import app
for path in %(paths)r:
    scheduler = PersistentScheduler(app=app, schedule_filename=path)
    for entry in scheduler.schedule.values():
        entry.last_run_at = timezone.now() - datetime.timedelta(days=40)
    scheduler.sync()
    scheduler.close()
# The tasks' modules register how each one claims its period (jobs.schedule).
app.loader.import_default_modules()
from jobs.schedule import claims_period
print(json.dumps({
    name: {"task": entry["task"], "claims": claims_period(entry["task"])}
    for name, entry in app.conf.beat_schedule.items()
}))
"""


@dataclass
class Stack:
    workdir: Path
    hosts: list[Host]
    vhost: RabbitVhost
    provider_port: int
    webhook_port: int
    broker_port: int
    postgres: PostgresServer = field(default_factory=PostgresServer)
    redis: RedisServer | None = None
    env: dict[str, str] = field(default_factory=dict)  # the soak's own (loopback)
    host_envs: list[dict[str, str]] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    web: list[subprocess.Popen | None] = field(default_factory=list)
    event_workers: list[subprocess.Popen | None] = field(default_factory=list)
    celery: subprocess.Popen | None = None
    beats: list[subprocess.Popen | None] = field(default_factory=list)
    beat_schedule: dict[str, str] = field(default_factory=dict)  # entry -> task
    beat_unclaimed: set[str] = field(default_factory=set)  # entries whose task claims no period
    page_paths: list[str] = field(default_factory=list)  # the visitors' pages, in two rollup shards
    # The demo's views before the load (`_human_views`), and since when stored rows are counted.
    history_views: tuple[int, int, int] = (0, 0, 0)
    views_since: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def base_urls(self) -> list[str]:
        return [f"http://{host.address}:{port}" for host, port in zip(self.hosts, self.ports, strict=True)]

    @property
    def database_url(self) -> str:
        return f"{self.postgres.url}/mvpvalidator"

    def __enter__(self) -> "Stack":
        try:
            self._start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _host_env(self, common: dict[str, str], host: Host) -> dict[str, str]:
        assert self.redis is not None
        return {
            **common,
            "DATABASE_URL": f"{self.postgres.url_at(host.gateway)}/mvpvalidator",
            "REDIS_URL": self.redis.url_at(host.gateway),
            "OPENAI_BASE_URL": f"http://{host.gateway}:{self.provider_port}/v1",
            "SECURITY_WEBHOOK_URL": f"http://{host.gateway}:{self.webhook_port}/security",
            "CELERY_BROKER_URL": self.vhost.url_at(host.gateway, self.broker_port),
        }

    def _start(self) -> None:
        gateways = [h.gateway for h in self.hosts if h.netns]
        self.postgres.also_on = gateways
        self.postgres.clients = [h.address for h in self.hosts if h.netns]
        self.postgres.init()
        self.postgres.start()
        self.postgres.create_database("mvpvalidator")
        redis_dir = self.workdir / "redis"
        redis_dir.mkdir()
        self.redis = RedisServer(redis_dir, persistent=True, also_on=gateways)
        self.redis.start()
        common = base_env(
            secret_key=secrets.token_urlsafe(50),
            addresses=[h.address for h in self.hosts],
            gateways=[h.gateway for h in self.hosts],
        )
        self.env = self._host_env(common, Host(name="soak", address="127.0.0.1", gateway="127.0.0.1"))
        self.env["CELERY_BROKER_URL"] = self.vhost.url_at("127.0.0.1")
        self.host_envs = [self._host_env(common, host) for host in self.hosts]
        manage(self.env, "migrate", "--noinput", "-v", "0")
        manage(self.env, "collectstatic", "--noinput", "-v", "0")
        manage(self.env, "seed_demo")
        # The demo's history is stored and rolled up by now: the views the soak serves are counted
        # on top of it.
        self.views_since = datetime.now(UTC) - timedelta(days=1)
        with psycopg.connect(self.database_url) as conn:
            self.history_views = _human_views(conn, self.views_since)
        second = shell_json(self.env, _SECOND_PAGE)
        assert isinstance(second, dict)
        if len(set(second["shards"])) != 2:
            raise RuntimeError(f"the soak's two pages share a rollup shard: {second}")
        self.page_paths = second["paths"]
        schedules = [str(self.workdir / f"celerybeat-schedule-{i}") for i in range(len(self.hosts))]
        out = manage(self.env, "shell", "-c", _BACKDATE_BEAT_SCHEDULES % {"paths": schedules})
        entries = json.loads(out.strip().splitlines()[-1])
        self.beat_schedule = {name: entry["task"] for name, entry in entries.items()}
        # A task that keeps claims of its own (the signup digest, one per founder) leaves no run
        # for its period: only its sends are checked.
        self.beat_unclaimed = {name for name, entry in entries.items() if not entry["claims"]}
        # On loopback each instance needs a port of its own; in namespaces one would do.
        self.ports = [free_port() for _ in self.hosts]
        config = ["--config", "gunicorn.conf.py"] if (ROOT / "gunicorn.conf.py").exists() else []
        for i, host in enumerate(self.hosts):
            self.web.append(
                self._spawn(
                    f"web-{i}.log",
                    i,
                    [
                        PYTHON,
                        "-m",
                        "gunicorn",
                        *config,
                        "mvpvalidator.wsgi",
                        "--bind",
                        f"{host.address}:{self.ports[i]}",
                        "--workers",
                        "2",
                        "--worker-class",
                        "sync",
                        "--log-level",
                        "warning",
                    ],
                )  # fmt: skip
            )
            self.event_workers.append(None)
            self.start_event_worker(i)
            self.beats.append(
                self._spawn(
                    f"beat-{i}.log",
                    i,
                    [
                        PYTHON,
                        "-m",
                        "celery",
                        "-A",
                        "mvpvalidator",
                        "beat",
                        "--loglevel",
                        "INFO",
                        "--schedule",
                        schedules[i],
                    ],
                )  # fmt: skip
            )
        self.celery = self._spawn(
            "celery-worker.log", 0,
            [
                PYTHON, "-m", "celery", "-A", "mvpvalidator", "worker", "--loglevel", "INFO", "--concurrency", "2",
                "--hostname", f"soak@{self.hosts[0].name}",
            ],
        )  # fmt: skip
        deadline = time.monotonic() + 60
        for i, base_url in enumerate(self.base_urls):
            while True:
                try:
                    if httpx.get(f"{base_url}/api/monitoring/live", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                web = self.web[i]
                if (web is not None and web.poll() is not None) or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn on {self.hosts[i].name} did not start:\n{self.log_tail()}")
                time.sleep(0.1)

    def _spawn(self, log_name: str, host: int, argv: list[str]) -> subprocess.Popen:
        log = (self.workdir / log_name).open("a")
        return subprocess.Popen(
            self.hosts[host].command(argv), cwd=ROOT, env=self.host_envs[host], stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def start_event_worker(self, host: int) -> None:
        argv = [PYTHON, "manage.py", "run_worker", "--interval", "0.5"]
        self.event_workers[host] = self._spawn(f"event-worker-{host}.log", host, argv)

    def kill_event_worker(self, host: int) -> None:
        kill_group(self.event_workers[host], sig=signal.SIGKILL)

    def stop_event_workers(self) -> dict[int, int]:
        """SIGTERM (each ends its batch in hand); what each rolled up since it last started, from
        the line it writes when it stops."""
        kill_groups(self.event_workers, wait=30)
        rolled: dict[int, int] = {}
        for host in range(len(self.event_workers)):
            log = (self.workdir / f"event-worker-{host}.log").read_text(errors="replace")
            found = re.findall(r"event worker \S+ stopped: \d+ moved, (\d+) rolled up", log)
            rolled[host] = int(found[-1]) if found else -1
        return rolled

    def stop_web(self) -> None:
        """SIGTERM: gunicorn's workers finish their request and send their event outbox on exit."""
        kill_groups(self.web, wait=20)

    def processes(self) -> dict[str, int]:
        found = {}
        for i, web in enumerate(self.web):
            if web is not None:
                for pid in children(web.pid):
                    found[f"web-{i} worker {pid}"] = pid
        for i, worker in enumerate(self.event_workers):
            if worker is not None and worker.poll() is None:
                found[f"event worker {i}"] = worker.pid
        if self.celery is not None and self.celery.poll() is None:
            found["celery worker"] = self.celery.pid
        for i, beat in enumerate(self.beats):
            if beat is not None and beat.poll() is None:
                found[f"beat {i}"] = beat.pid
        return found

    def log_names(self) -> list[str]:
        return sorted(p.name for p in self.workdir.glob("*.log"))

    def log_tail(self) -> str:
        return "\n".join(f"--- {name}\n{tail(self.workdir / name, 30)}" for name in self.log_names())

    def __exit__(self, *exc: object) -> None:
        kill_groups([*self.web, self.celery, *self.beats, *self.event_workers], wait=10)
        if self.redis is not None:
            self.redis.stop()
        self.postgres.destroy()


@contextmanager
def stack(workdir: Path, *, receiver: AlertReceiver, namespaces: bool = True) -> Iterator[Stack]:
    """The fake servers, the hosts, the broker's virtual host and the stack on them."""
    tag = f"soak{os.getpid()}"
    with ExitStack() as resources:
        found = resources.enter_context(hosts(HOSTS, tag=tag, namespaces=namespaces))
        gateways = ["127.0.0.1", *(h.gateway for h in found if h.netns)]
        provider_port = resources.enter_context(serve(_SlowProvider, gateways))
        webhook_port = resources.enter_context(serve(receiver.handler(), gateways))
        vhost = resources.enter_context(RabbitVhost(tag))
        broker_port = vhost.port
        if any(h.netns for h in found):
            # The machine's RabbitMQ listens on loopback only, which a namespace cannot reach.
            forwarder = TcpForwarder(("127.0.0.1", vhost.port), gateways[1:])
            resources.callback(forwarder.close)
            broker_port = forwarder.port
        yield resources.enter_context(
            Stack(
                workdir=workdir,
                hosts=found,
                vhost=vhost,
                provider_port=provider_port,
                webhook_port=webhook_port,
                broker_port=broker_port,
            )  # fmt: skip
        )


# --- The actors ---------------------------------------------------------------------------------


class Recorder:
    def __init__(self, base_urls: Sequence[str]) -> None:
        self.base_urls = list(base_urls)
        self.samples: list[Sample] = []
        self.lock = threading.Lock()
        self.t0 = time.monotonic()
        self.stop = threading.Event()
        self.accepted_emails: set[str] = set()
        self.refused_emails: set[str] = set()
        self.jobs: list[JobRun] = []
        self._turns: dict[str, Iterator[int]] = {}

    def now(self) -> float:
        return time.monotonic() - self.t0

    def turn(self, actor: str) -> int:
        """Each actor alternates between the web instances, as behind a round-robin balancer."""
        with self.lock:
            turns = self._turns.setdefault(actor, itertools.cycle(range(len(self.base_urls))))
            return next(turns)

    def send(
        self,
        client: httpx.Client,
        actor: str,
        method: str,
        path: str,
        *,
        keep_body: bool = False,
        instance: int | None = None,
        **kwargs: object,
    ) -> httpx.Response | None:
        instance = self.turn(actor) if instance is None else instance
        url = self.base_urls[instance] + path
        started = self.now()
        try:
            response = client.request(method, url, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            failed = Sample(actor, method, path, started, self.now() - started, 0, f"{type(exc).__name__}: {exc}")
            self._add(failed, instance)
            return None
        body = response.text[:4000] if (keep_body or response.status_code >= 500) else ""
        self._add(Sample(actor, method, path, started, self.now() - started, response.status_code, body), instance)
        return response

    def _add(self, sample: Sample, instance: int) -> None:
        sample = Sample(**{**sample.__dict__, "instance": instance})
        with self.lock:
            self.samples.append(sample)


def visitor_ip(rng: random.Random) -> str:
    return f"198.{rng.randint(18, 19)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _client(rec: Recorder, ip: str, **kwargs: object) -> httpx.Client:
    """A browser behind the TLS-terminating proxy. The platform's cookies are `Secure` (production
    settings), which an http client keeps to itself, so each is also kept as a plain cookie for
    every instance: what the browser would send over https, the proxy passes on to either."""
    headers = {"User-Agent": BROWSER, "X-Forwarded-For": ip, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
    client = httpx.Client(headers=headers, timeout=15, **kwargs)  # type: ignore[arg-type]
    domains = sorted({httpx.URL(u).host for u in rec.base_urls})

    def keep_cookies(response: httpx.Response) -> None:
        for cookie in response.cookies.jar:
            for domain in domains:
                client.cookies.jar.set_cookie(
                    http.cookiejar.Cookie(
                        0,
                        cookie.name,
                        cookie.value,
                        None,
                        False,
                        domain,
                        False,
                        False,
                        "/",
                        True,
                        False,
                        None,
                        False,
                        None,
                        None,
                        {},
                    )  # fmt: skip
                )

    client.event_hooks["response"] = [keep_cookies]
    return client


def visitors(rec: Recorder, page: str, seed: int) -> None:
    rng = random.Random(seed)
    while not rec.stop.is_set():
        with _client(rec, visitor_ip(rng)) as client:
            rec.send(client, "visitor", "GET", page)
        rec.stop.wait(rng.uniform(0.0, 0.02))


FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def signups(rec: Recorder, page: str, seed: int, fill_seconds: float = 2.2) -> None:
    """The real form: the page sets the visitor cookie and renders a form token, a person takes
    a couple of seconds to type, then posts (to whichever instance the balancer picks)."""
    rng = random.Random(seed)
    n = 0
    while not rec.stop.is_set():
        n += 1
        email = f"s{seed}-{n}-{secrets.token_hex(3)}@{SIGNUP_DOMAIN}"
        with _client(rec, visitor_ip(rng)) as client:
            response = rec.send(client, "signup-view", "GET", page, keep_body=True)
            match = FORM_TOKEN.search(response.text) if response is not None and response.status_code == 200 else None
            if match is None:
                rec.stop.wait(0.5)
                continue
            if rec.stop.wait(fill_seconds):
                return
            data = {"email": email, "name": "Soak", "consent": "on", "website": "", "form_token": match.group(1)}
            answer = rec.send(client, "signup", "POST", f"{page}signup", data=data)
        if answer is not None and answer.status_code == 302 and "already" not in answer.headers.get("location", ""):
            rec.accepted_emails.add(email)
        elif answer is not None:
            rec.refused_emails.add(email)


def _token(rec: Recorder, client: httpx.Client, email: str, password: str) -> str:
    response = client.post(f"{rec.base_urls[0]}/api/auth/token", json={"email": email, "password": password})
    response.raise_for_status()
    return response.json()["access"]


def _job_id(response: httpx.Response) -> str | None:
    if response.status_code != 202:
        return None
    try:
        return str(response.json()["id"])
    except (ValueError, KeyError):
        return None


def founder(rec: Recorder, email: str, password: str, generate_every: float) -> None:
    with _client(rec, FOUNDER_IP) as client:
        client.headers["Authorization"] = f"Bearer {_token(rec, client, email, password)}"
        projects = client.get(f"{rec.base_urls[0]}/api/projects/").json()["results"]
        ids = [p["id"] for p in projects]
        last_generation = rec.now() - generate_every + 5  # the first one 5 s in
        i = 0
        while not rec.stop.is_set():
            pk = ids[i % len(ids)]
            i += 1
            rec.send(client, "founder", "GET", "/api/projects/")
            rec.send(client, "founder", "GET", f"/api/projects/{pk}/")
            rec.send(client, "founder", "GET", f"/api/projects/{pk}/analytics")
            rec.send(client, "founder", "GET", f"/api/projects/{pk}/signups?pagination=cursor")
            if i % 5 == 0:
                price = f"{19 + i % 20}.00"
                rec.send(client, "founder", "PATCH", f"/api/projects/{pk}/", json={"price_point": price})
            if rec.now() - last_generation >= generate_every:
                last_generation = rec.now()
                sent = rec.now()
                answer = rec.send(client, "generate", "POST", f"/api/projects/{pk}/generate-prototype", keep_body=True)
                job_id = _job_id(answer) if answer is not None else None
                if job_id is not None:
                    with rec.lock:
                        rec.jobs.append(JobRun(id=job_id, sent=sent))
            rec.stop.wait(0.1)


def job_poller(rec: Recorder, token: str, until: threading.Event) -> None:
    """Polls each generation job (GET /api/jobs/<id>, alternating instances) until it ends."""
    with _client(rec, FOUNDER_IP, headers={"Authorization": f"Bearer {token}"}) as client:
        while not until.wait(0.5):
            with rec.lock:
                pending = [job for job in rec.jobs if job.finished is None]
            for job in pending:
                answer = rec.send(client, "job-poll", "GET", f"/api/jobs/{job.id}", keep_body=True)
                if answer is None or answer.status_code != 200:
                    continue
                state = answer.json()
                job.status = state.get("status", "")
                if job.status in ("succeeded", "failed"):
                    job.finished = rec.now()
                    prototype = (state.get("result") or {}).get("prototype") or {}
                    job.generator = prototype.get("generator", "")
                    job.fallback_reason = prototype.get("fallback_reason", "")
                    job.error = state.get("error", "")


def staff(rec: Recorder, email: str, password: str) -> None:
    """Signs in through the login form, then refreshes the monitor's panels as its page does (the
    session is good on both instances)."""
    base_url = rec.base_urls[0]
    with _client(rec, STAFF_IP) as client:
        client.get(f"{base_url}/accounts/login/")
        csrf = client.cookies.get("csrftoken", "", domain=httpx.URL(base_url).host)
        client.post(
            f"{base_url}/accounts/login/",
            data={"username": email, "password": password, "csrfmiddlewaretoken": csrf},
            headers={"Referer": f"{base_url}/accounts/login/"},
        )
        rec.send(client, "staff", "GET", "/performance-monitor/")
        while not rec.stop.wait(2.0):
            rec.send(client, "staff", "GET", "/performance-monitor/panels/")


SCANNER_PATHS = ("/wp-login.php", "/.env", "/phpmyadmin/", "/.git/config", "/wp-admin/", "/xmlrpc.php")


def scanner(rec: Recorder, start_at: float) -> None:
    """Alternating between the instances, so that after its block each refuses it in turn."""
    if rec.stop.wait(start_at):
        return
    with _client(rec, SCANNER_IP, headers={"User-Agent": "Mozilla/5.0 zgrab/0.x"}) as client:
        for i in range(24):
            if rec.stop.is_set():
                return
            rec.send(client, "scanner", "GET", SCANNER_PATHS[i % len(SCANNER_PATHS)])
            rec.stop.wait(0.25)


def stuffer(rec: Recorder, start_at: float) -> None:
    """Credential stuffing: a few accounts, several guesses each, from one address."""
    if rec.stop.wait(start_at):
        return
    # It goes on until both instances have refused it outright (403) twice in a row: whichever
    # rule blocks it (lockouts or the endpoint's rate limit), the block may land a request or two
    # after the refusals that earned it.
    refused = 0
    with _client(rec, STUFFER_IP, headers={"User-Agent": "python-requests/2.32"}) as client:
        for i in range(120):
            if rec.stop.is_set() or refused >= 2 * len(rec.base_urls):
                return
            body = {"email": f"user{i // 8}@{SIGNUP_DOMAIN}", "password": secrets.token_urlsafe(8)}
            answer = rec.send(client, "stuffer", "POST", "/api/auth/token", json=body)
            refused = refused + 1 if answer is not None and answer.status_code == 403 else 0
            rec.stop.wait(0.15)


def health(rec: Recorder) -> None:
    with _client(rec, "127.0.0.1") as client:
        while not rec.stop.wait(0.5):
            rec.send(client, "health", "GET", "/api/monitoring/health", keep_body=True)


# --- The run ------------------------------------------------------------------------------------


@dataclass
class Report:
    plan: Plan
    samples: list[Sample]
    timeline: dict[str, float]
    accepted_emails: set[str]
    refused_emails: set[str]
    stored_emails: set[str]
    views_served: int
    views_stored: int
    views_distinct: int
    views_rolled_up: int
    blocked: dict[str, str]  # ip -> rule of its open block
    audit_kinds: dict[str, set[str]]  # ip -> security event kinds recorded
    rss: dict[str, tuple[float, float]]  # process -> (MiB after warm-up, MiB at the end)
    final_health: dict[int, str]  # instance -> status
    hosts: list[Host] = field(default_factory=list)
    jobs: list[JobRun] = field(default_factory=list)
    # The alert webhook: what it took (seconds since the load began, payload) and what it refused.
    alerts_received: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    alerts_refused: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    # The beat schedule (entry -> task), how often the beats sent each entry, and the runs the
    # tasks claimed (name -> period -> (rows, finished rows, errors)).
    beat_schedule: dict[str, str] = field(default_factory=dict)
    beat_unclaimed: set[str] = field(default_factory=set)
    beat_sends: dict[str, int] = field(default_factory=dict)
    scheduled_runs: dict[str, dict[str, tuple[int, int, str]]] = field(default_factory=dict)
    # Confirmation emails of the stored signups (the page asks for double opt-in): sent by the
    # worker, still owed (due, or leased by the worker that was killed), or lost (neither).
    emails_sent: int = 0
    emails_owed: int = 0
    emails_lost: int = 0
    rss_lost: set[str] = field(default_factory=set)  # sampled after warm-up, gone at the end
    # What each event worker rolled up since it last started (-1: it never said); the rows that
    # waited in DEFAULT when today's partition was made, whether it was, and DEFAULT at the end.
    rolled_up_by_worker: dict[int, int] = field(default_factory=dict)
    partition_moved: int = 0
    partition_made: bool = False
    default_rows_end: int = 0
    log_tail: str = ""

    def window(self, start: str, end: str, grace: float = 0.0) -> Callable[[Sample], bool]:
        lo, hi = self.timeline[start], self.timeline[end] + grace
        return lambda s: lo <= s.started + s.duration and s.started <= hi

    def in_fault(self, s: Sample) -> bool:
        return any(
            self.window(start, end, grace)(s)
            for start, end, grace in (
                ("redis_stop", "redis_start", REDIS_RECOVERY_SECONDS),
                ("postgres_stop", "postgres_start", DB_RECOVERY_SECONDS),
                ("worker_kill", "worker_start", 0.0),
            )
        )

    def problems(self) -> list[str]:
        found: list[str] = []
        in_db_outage = self.window("postgres_stop", "postgres_start", DB_RECOVERY_SECONDS)
        in_redis_outage = self.window("redis_stop", "redis_start", REDIS_RECOVERY_SECONDS)
        no_answer = [s for s in self.samples if s.status == 0]
        if no_answer:
            found.append(f"{len(no_answer)} requests got no answer, e.g. {no_answer[:3]}")
        server_errors = [s for s in self.samples if s.status >= 500 and s.actor != "health" and not in_db_outage(s)]
        if server_errors:
            found.append(f"{len(server_errors)} 5xx outside the database outage, e.g. {server_errors[:3]}")
        outage_errors = [s for s in self.samples if s.status >= 500 and s.actor != "health" and in_db_outage(s)]
        wrong = [s for s in outage_errors if s.status != 503 or "unavailable" not in s.body.lower()]
        if wrong:
            found.append(f"{len(wrong)} errors during the database outage were not a clear 503, e.g. {wrong[:3]}")
        slow = [s for s in outage_errors if s.duration > FAIL_FAST_SECONDS]
        if slow:
            found.append(f"{len(slow)} requests during the database outage waited > {FAIL_FAST_SECONDS} s: {slow[:3]}")
        health = [s for s in self.samples if s.actor == "health"]
        for instance in range(len(self.hosts)):
            mine = [s for s in health if s.instance == instance and in_redis_outage(s)]
            if not any('"degraded"' in s.body for s in mine):
                found.append(f"health on instance {instance} never said degraded while Redis was away")
            if self.final_health.get(instance) != "ok":
                found.append(f"health at the end on instance {instance}: {self.final_health.get(instance)}")
        found += self._attackers()
        not_signed_in = [s for s in self.samples if s.actor == "staff" and s.status != 200 and not in_db_outage(s)]
        if not_signed_in:
            found.append(f"{len(not_signed_in)} staff requests were not served the monitor, e.g. {not_signed_in[:3]}")
        found += self._signups_and_views()
        found += self._rollup_and_partitions()
        found += self._generation(in_db_outage)
        found += self._alert()
        found += self._schedule()
        if self.rss_lost:
            found.append(f"processes gone or replaced during the soak: {sorted(self.rss_lost)}")
        for name, (before, after) in self.rss.items():
            if after - before > MAX_RSS_GROWTH_MIB:
                found.append(f"{name} grew from {before:.0f} to {after:.0f} MiB")
        return found

    def _attackers(self) -> list[str]:
        """Blocked, audited, and refused by every instance once blocked (the block list is shared)."""
        found: list[str] = []
        # The stuffer trips whichever rule counts first: its lockouts, or the token endpoint's limit.
        for name, ip, rules, evidence in (
            ("scanner", SCANNER_IP, {"scanner"}, "scanner_path"),
            ("stuffer", STUFFER_IP, {"lockout", "rate_limit"}, "login_failed"),
        ):
            mine = [s for s in self.samples if s.actor == name]
            if self.blocked.get(ip) not in rules:
                found.append(f"the {name} ({ip}) is not blocked by {sorted(rules)}: {self.blocked.get(ip)}")
            for instance in range(len(self.hosts)):
                last = [s for s in mine if s.instance == instance][-1:]
                if not last or last[0].status != 403:
                    found.append(f"the {name}'s last request to instance {instance} was not refused: {last}")
            kinds = self.audit_kinds.get(ip, set())
            if not {"ip_blocked", evidence} <= kinds:
                found.append(f"the {name}'s audit rows lack ip_blocked or {evidence}: {sorted(kinds)}")
        return found

    def _signups_and_views(self) -> list[str]:
        found: list[str] = []
        if not self.accepted_emails:
            found.append("no signup was accepted")
        lost = self.accepted_emails - self.stored_emails
        if lost:
            found.append(f"{len(lost)} accepted signups are not in the database, e.g. {sorted(lost)[:3]}")
        half_written = self.refused_emails & self.stored_emails
        if half_written:
            found.append(f"{len(half_written)} refused signups were stored anyway, e.g. {sorted(half_written)[:3]}")
        if self.emails_lost:
            found.append(f"{self.emails_lost} stored signups will never get their confirmation email")
        unknown = self.stored_emails - self.accepted_emails - self.refused_emails
        if unknown:
            found.append(f"{len(unknown)} stored signups were never answered, e.g. {sorted(unknown)[:3]}")
        if not self.views_served == self.views_stored == self.views_distinct == self.views_rolled_up:
            found.append(
                f"views served {self.views_served}, stored {self.views_stored} ({self.views_distinct} distinct), "
                f"rolled up {self.views_rolled_up}"
            )
        return found

    def _rollup_and_partitions(self) -> list[str]:
        """Both event workers rolled up (their pages' shards side by side), and the events that
        waited in DEFAULT moved into today's partition, counted once all the same."""
        found: list[str] = []
        if len(self.rolled_up_by_worker) != len(self.hosts):
            found.append(f"not every event worker said what it rolled up: {self.rolled_up_by_worker}")
        idle = {host: n for host, n in self.rolled_up_by_worker.items() if n <= 0}
        if idle:
            found.append(f"event workers that rolled up nothing: {idle} (of {self.rolled_up_by_worker})")
        if self.partition_moved <= 0:
            found.append("no event waited in the DEFAULT partition: the partition boundary was not crossed")
        if not self.partition_made:
            found.append("today's events partition was not made during the run")
        if self.default_rows_end:
            found.append(f"{self.default_rows_end} events left in the DEFAULT partition after today's was made")
        return found

    def _generation(self, in_db_outage: Callable[[Sample], bool]) -> list[str]:
        """A slow provider never blocks a page: the request answers 202 at once (outside the
        database outage), the job ends with the built-in fallback saying why, and the landing
        page stays fast while jobs run."""
        found: list[str] = []
        requests = [s for s in self.samples if s.actor == "generate" and not in_db_outage(s)]
        if not any(s.status == 202 for s in requests):
            found.append("no prototype generation was accepted (202) outside the database outage")
        for s in requests:
            # The founder asks more often than the per-user quota (API_THROTTLES
            # generate_prototype, 20 an hour) allows over a full run: past it, a fast 429 shared
            # by both instances is the right answer, not a failure.
            throttled = s.status == 429 and '"throttled"' in s.body
            if s.status != 202 and not throttled:
                found.append(f"a prototype generation was not answered 202 with a job: {s}")
            elif s.duration > GENERATION_ACCEPT_SECONDS:
                found.append(
                    f"a prototype generation took {s.duration:.2f} s to its 202 (bound {GENERATION_ACCEPT_SECONDS} s)"
                )
        for job in self.jobs:
            if job.finished is None:
                found.append(f"generation job {job.id} never ended (last seen {job.status})")
            elif job.status != "succeeded" or not job.fallback_reason:
                found.append(f"generation job {job.id} did not succeed with a fallback saying why: {job}")
            elif job.finished - job.sent > GENERATION_JOB_SECONDS:
                found.append(
                    f"generation job {job.id} took {job.finished - job.sent:.1f} s (bound {GENERATION_JOB_SECONDS} s)"
                )
        during = self.pages_during_generation()
        if during and (p95 := _p95([s.duration for s in during])) > PAGE_P95_DURING_GENERATION_SECONDS:
            found.append(
                f"landing page p95 {p95 * 1000:.0f} ms while generations ran "
                f"(bound {PAGE_P95_DURING_GENERATION_SECONDS} s)"
            )
        return found

    def pages_during_generation(self) -> list[Sample]:
        windows = [(job.sent, job.finished) for job in self.jobs if job.finished is not None]
        return [
            s for s in self.samples
            if s.actor == "visitor" and s.status == 200 and not self.in_fault(s)
            and any(lo <= s.started <= hi for lo, hi in windows)
        ]  # fmt: skip

    def raised_during_outage(self) -> list[tuple[float, dict[str, Any]]]:
        """Security alerts about the scanner raised while the webhook refused, as delivered."""
        return _raised_during_outage(self.alerts_received, self.alerts_refused, self.timeline)

    def _alert(self) -> list[str]:
        """An alert raised while its webhook was down is delivered once the webhook is back."""
        if not self.raised_during_outage():
            refused = [p.get("rule") for _, p in self.alerts_refused]
            received = [(round(t, 1), p.get("rule"), p.get("at")) for t, p in self.alerts_received]
            return [
                f"no security alert about the scanner raised during the webhook outage was delivered after it "
                f"(refused meanwhile: {refused[:5]}; received: {received[:5]})"
            ]
        return []

    def _schedule(self) -> list[str]:
        """Each beat entry sent by both beats, its run claimed once for its period, finished."""
        found: list[str] = []
        if not self.beat_schedule:
            return ["the beat schedule is empty (CELERY_BEAT_SCHEDULE): no maintenance was scheduled"]
        beats = len(self.hosts)
        for entry, task in self.beat_schedule.items():
            if self.beat_sends.get(entry, 0) < beats:
                found.append(
                    f"beat entry {entry} was sent {self.beat_sends.get(entry, 0)} times, not by each of {beats} beats"
                )
            if entry in self.beat_unclaimed:
                continue
            runs = self._runs_of(entry, task)
            if not runs:
                found.append(f"beat entry {entry} ({task}) left no scheduled run")
            for period, (rows, finished, errors) in runs.items():
                if rows != 1:
                    found.append(f"beat entry {entry} ran {rows} times for {period}")
                if finished != rows or errors:
                    found.append(
                        f"beat entry {entry}'s run for {period} did not finish cleanly: {errors or 'unfinished'}"
                    )
        return found

    def _runs_of(self, entry: str, task: str) -> dict[str, tuple[int, int, str]]:
        """The runs a scheduled task claimed, under its entry's name or its task's."""
        for name in (entry, task, task.rsplit(".", 1)[-1]):
            if name in self.scheduled_runs:
                return self.scheduled_runs[name]
        return {}

    def summary(self) -> str:
        where = ", ".join(f"{h.name} {h.address}" + (f" (netns {h.netns})" if h.netns else "") for h in self.hosts)
        lines = [f"soak: {self.plan.seconds:.0f} s of load, {len(self.samples)} requests; hosts: {where}"]
        by_actor: dict[str, list[Sample]] = {}
        for s in self.samples:
            by_actor.setdefault(s.actor, []).append(s)
        lines.append(f"{'actor':<12} {'requests':>8} {'2xx/3xx':>8} {'4xx':>6} {'5xx':>5} {'p50 ms':>8} {'p95 ms':>8}")
        for actor, samples in sorted(by_actor.items()):
            durations = [s.duration for s in samples]
            ok = sum(1 for s in samples if 200 <= s.status < 400)
            client = sum(1 for s in samples if 400 <= s.status < 500)
            server = sum(1 for s in samples if s.status >= 500)
            lines.append(
                f"{actor:<12} {len(samples):>8} {ok:>8} {client:>6} {server:>5} "
                f"{statistics.median(durations) * 1000:>8.1f} {_p95(durations) * 1000:>8.1f}"
            )
        per_instance = {i: sum(1 for s in self.samples if s.instance == i) for i in range(len(self.hosts))}
        lines.append(f"requests per instance: {per_instance}")
        t = self.timeline
        outage = [s for s in self.samples if s.status == 503 and s.actor != "health"]
        lines.append(
            f"faults: webhook down {t['webhook_down']:.0f}-{t['webhook_up']:.0f} s, Redis down {t['redis_stop']:.0f}-"
            f"{t['redis_start']:.0f} s, PostgreSQL down {t['postgres_stop']:.0f}-{t['postgres_start']:.0f} s "
            f"({len(outage)} requests answered 503, slowest {max((s.duration for s in outage), default=0) * 1000:.0f} "
            "ms), "
            f"event worker 0 killed at {t['worker_kill']:.0f} s"
        )
        lines.append(
            f"signups accepted {len(self.accepted_emails)}, refused {len(self.refused_emails)}, "
            f"stored {len(self.stored_emails)}; views served {self.views_served}, stored {self.views_stored} "
            f"({self.views_distinct} distinct), rolled up {self.views_rolled_up}; confirmation emails sent "
            f"{self.emails_sent}, owed {self.emails_owed}, lost {self.emails_lost}"
        )
        lines.append(
            f"rolled up per event worker (since its last start): {self.rolled_up_by_worker}; today's partition made "
            f"mid-run: {'yes' if self.partition_made else 'NO'}, moving {self.partition_moved} events out of DEFAULT "
            f"({self.default_rows_end} there at the end)"
        )
        refusals = {
            name: {i: sum(1 for s in self.samples if s.actor == name and s.instance == i and s.status == 403)
                   for i in range(len(self.hosts))}
            for name in ("scanner", "stuffer")
        }  # fmt: skip
        lines.append(f"blocked: {self.blocked}; 403s per instance: {refusals}; final health {self.final_health}")
        accepts = [s.duration for s in self.samples if s.actor == "generate"]
        job_times = [job.finished - job.sent for job in self.jobs if job.finished is not None]
        during = self.pages_during_generation()
        lines.append(
            f"generation: {len(accepts)} requests answered in "
            f"{', '.join(f'{d * 1000:.0f}' for d in accepts)} ms; jobs {len(self.jobs)}, "
            f"{sum(1 for j in self.jobs if j.status == 'succeeded')} succeeded, in "
            f"{', '.join(f'{d:.1f}' for d in job_times)} s; "
            f"fallbacks {sorted({j.fallback_reason for j in self.jobs})}; "
            f"landing page p95 meanwhile {(_p95([s.duration for s in during]) * 1000) if during else 0:.0f} ms "
            f"({len(during)} pages)"
        )
        raised = self.raised_during_outage()
        delivered = f"{raised[0][0] - t['webhook_up']:.1f} s after the webhook came back" if raised else "never"
        lines.append(
            f"alerts: {len(self.alerts_received)} delivered, {len(self.alerts_refused)} attempts refused during "
            f"the outage; the scanner's alert raised during the outage delivered {delivered}"
        )
        lines.append(
            f"schedule: {len(self.beat_schedule)} entries, sends {self.beat_sends}, runs "
            + json.dumps(
                {
                    name: {p: rows for p, (rows, _, _) in periods.items()}
                    for name, periods in self.scheduled_runs.items()
                }
            )
        )
        lines.append(
            "memory (RSS MiB, after warm-up -> end): "
            + ", ".join(f"{name} {a:.0f} -> {b:.0f} ({b - a:+.1f})" for name, (a, b) in self.rss.items())
        )
        return "\n".join(lines)


def _raised_during_outage(
    received: Sequence[tuple[float, dict[str, Any]]],
    refused: Sequence[tuple[float, dict[str, Any]]],
    timeline: dict[str, float],
) -> list[tuple[float, dict[str, Any]]]:
    """The delivered security alerts about the scanner that were raised during the webhook's
    outage: stamped (`at`) within it, or refused by it (the receiver refuses only then)."""
    lo, hi = timeline.get("webhook_down_wall", 0.0), timeline.get("webhook_up_wall", 0.0)
    refused_rules = {payload.get("rule") for _, payload in refused}
    return [
        (t, payload) for t, payload in received
        if payload.get("channel") == "security" and SCANNER_IP in str(payload.get("rule", ""))
        and (lo <= _epoch(payload.get("at")) <= hi or payload.get("rule") in refused_rules)
    ]  # fmt: skip


def _p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else 0.0


def _epoch(iso: object) -> float:
    try:
        return datetime.fromisoformat(str(iso)).timestamp()
    except ValueError:
        return float("nan")


def _sample_rss(stack: Stack) -> dict[str, float]:
    return {name: mib for name, pid in stack.processes().items() if (mib := rss_mib(pid)) is not None}


def _human_views(conn: psycopg.Connection, since: datetime) -> tuple[int, int, int]:
    """People's page views: (stored since `since`, their distinct event keys, in the daily rollups).

    Stored rows are counted from `since` only: the demo's oldest history reaches the retention's
    edge, and the day's prune, sent by the beats as they start, may delete some of it at any
    moment of the run (the rollups keep it). No row younger than a day is pruned."""
    stored, distinct = conn.execute(
        "SELECT COUNT(*), COUNT(DISTINCT key) FROM projects_event"
        " WHERE kind = 'view' AND traffic = 'human' AND occurred_at >= %s",
        (since,),
    ).fetchone()
    rolled_up = conn.execute(
        "SELECT COALESCE(SUM(views), 0) FROM projects_dailyrollup WHERE traffic = 'human'"
    ).fetchone()[0]
    return stored, distinct, rolled_up


def _wait_drained(stack: Stack, timeout: float = 60.0) -> None:
    """Until the buffer is empty, every stored event is rolled up and no confirmation email is
    due (the workers still run; a batch the killed worker had leased waits out its lease)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        manage(stack.env, "flush_events")
        with psycopg.connect(stack.database_url) as conn:
            waiting = conn.execute(
                "SELECT (SELECT COUNT(*) FROM projects_event e LEFT JOIN projects_eventworkerstate s"
                " ON s.shard = e.shard WHERE e.seq > COALESCE(s.rolled_up_to, 0))"
                " + (SELECT COUNT(*) FROM projects_signup WHERE confirmation_due_at <= now())"
            ).fetchone()[0]
        if waiting == 0:
            return
        time.sleep(1)


def _settle(rec: Recorder, receiver: AlertReceiver, report_timeline: dict[str, float], timeout: float) -> None:
    """After the load: until every generation job has ended and the scanner's alert raised while
    the webhook refused has arrived, within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with rec.lock:
            jobs_done = all(job.finished is not None for job in rec.jobs)
        with receiver.lock:
            alert_in = bool(_raised_during_outage(receiver.received, receiver.refused, report_timeline))
        if jobs_done and alert_in:
            return
        time.sleep(0.5)


def _beat_sends(stack: Stack) -> dict[str, int]:
    """How often the beats sent each entry ("Scheduler: Sending due task <entry> (<task>)")."""
    sends: dict[str, int] = {}
    for log in stack.workdir.glob("beat-*.log"):
        for entry in re.findall(r"Sending due task (\S+) \(", log.read_text(errors="replace")):
            sends[entry] = sends.get(entry, 0) + 1
    return sends


def _wait_scheduled_runs(stack: Stack, timeout: float = 60.0) -> None:
    """Until no claimed scheduled run is still running (the maintenance tasks take a moment)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with psycopg.connect(stack.database_url) as conn:
            running = conn.execute("SELECT COUNT(*) FROM jobs_scheduledrun WHERE finished_at IS NULL").fetchone()[0]
        if running == 0:
            return
        time.sleep(1)


def run(
    plan: Plan,
    *,
    workdir: Path,
    log: Callable[[str], None] = print,
    settle_seconds: float = SETTLE_SECONDS,
    namespaces: bool = True,
) -> Report:
    import django

    # Only for the demo accounts' names (the stack itself runs in its own processes).
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mvpvalidator.settings")
    django.setup()
    from projects.demo import DEMO_FOUNDER, DEMO_PAGE_PATH, DEMO_STAFF

    clock_origin = [time.monotonic()]
    receiver = AlertReceiver(clock=lambda: time.monotonic() - clock_origin[0])
    with stack(workdir, receiver=receiver, namespaces=namespaces) as st:
        rec = Recorder(st.base_urls)
        clock_origin[0] = rec.t0
        log(f"[{rec.now():5.1f} s] stack up on {', '.join(f'{h.name} {h.address}' for h in st.hosts)}")
        # The visitors share the two pages (two rollup shards); the signups go to the demo page.
        paths = st.page_paths
        actors = [threading.Thread(target=visitors, args=(rec, paths[i % len(paths)], i)) for i in range(plan.visitors)]
        actors += [
            threading.Thread(target=signups, args=(rec, DEMO_PAGE_PATH, 100 + i)) for i in range(plan.signup_threads)
        ]
        actors += [
            threading.Thread(target=founder, args=(rec, DEMO_FOUNDER.email, DEMO_FOUNDER.password, 20.0)),
            threading.Thread(target=staff, args=(rec, DEMO_STAFF.email, DEMO_STAFF.password)),
            threading.Thread(target=scanner, args=(rec, plan.scanner_at)),
            threading.Thread(target=stuffer, args=(rec, 8.0)),
            threading.Thread(target=health, args=(rec,)),
        ]
        polling_done = threading.Event()
        with _client(rec, FOUNDER_IP) as client:
            founder_token = _token(rec, client, DEMO_FOUNDER.email, DEMO_FOUNDER.password)
        poller = threading.Thread(target=job_poller, args=(rec, founder_token, polling_done), daemon=True)
        timeline: dict[str, float] = {}
        for thread in [*actors, poller]:
            thread.daemon = True
            thread.start()

        def at(moment: float) -> None:
            rec.stop.wait(max(0.0, moment - rec.now()))

        def mark(name: str, what: str) -> None:
            timeline[name] = rec.now()
            log(f"[{rec.now():5.1f} s] {what}")

        # The faults in the order of their start; the webhook outage overlaps the others.
        events: list[tuple[float, Callable[[], None]]] = []

        def webhook_down() -> None:
            receiver.down.set()
            timeline["webhook_down_wall"] = time.time()
            mark("webhook_down", "alert webhook refusing (503)")

        def webhook_up() -> None:
            receiver.down.clear()
            timeline["webhook_up_wall"] = time.time()
            mark("webhook_up", "alert webhook back")

        # A fault's window opens as it is set off (a stop takes a moment, and requests fail
        # meanwhile) and closes once the service is back.
        def redis_stop() -> None:
            assert st.redis is not None
            mark("redis_stop", "Redis stopping")
            st.redis.stop()

        def redis_start() -> None:
            assert st.redis is not None
            st.redis.start()
            mark("redis_start", "Redis started")

        def postgres_stop() -> None:
            mark("postgres_stop", "PostgreSQL stopping")
            st.postgres.stop("fast")

        def postgres_start() -> None:
            st.postgres.start()
            mark("postgres_start", "PostgreSQL started")

        def worker_kill() -> None:
            mark("worker_kill", "event worker 0 killed (SIGKILL); event worker 1 runs on")
            st.kill_event_worker(0)

        def worker_start() -> None:
            st.start_event_worker(0)
            mark("worker_start", "event worker 0 started")

        partition: dict[str, Any] = {"name": "", "moved": 0, "made": False}

        def partition_take() -> None:
            with psycopg.connect(st.database_url, autocommit=True) as conn:
                partition["name"] = _take_todays_partition(conn)
            mark("partition_taken", f"today's events partition {partition['name']} taken away: events go to DEFAULT")

        def partition_make() -> None:
            # As the hourly task would, again if its lock wait timed out under the load.
            with psycopg.connect(st.database_url) as conn:
                partition["moved"] = _default_rows(conn)
            for _ in range(3):
                manage(st.env, "event_partitions", "--ensure", "--days-ahead", "0")
                with psycopg.connect(st.database_url) as conn:
                    if _partition_exists(conn, partition["name"]):
                        partition["made"] = True
                        break
            made = "made" if partition["made"] else "NOT made (its lock wait timed out three times)"
            mark("partition", f"today's events partition {made}: {partition['moved']} events were in DEFAULT")

        events = sorted(
            [
                (plan.webhook_down_at, webhook_down),
                (plan.webhook_down_at + plan.webhook_down_for, webhook_up),
                (plan.redis_stop_at, redis_stop),
                (plan.redis_stop_at + plan.redis_down_for, redis_start),
                (plan.postgres_stop_at, postgres_stop),
                (plan.postgres_stop_at + plan.postgres_down_for, postgres_start),
                (plan.worker_kill_at, worker_kill),
                (plan.worker_kill_at + plan.worker_down_for, worker_start),
                (plan.partition_take_at, partition_take),
                (plan.partition_at, partition_make),
            ],
            key=lambda e: e[0],
        )
        warm = min(plan.redis_stop_at, 10.0)
        rss_before: dict[str, float] = {}
        for moment, action in events:
            if not rss_before and moment >= warm:
                at(warm)
                rss_before = _sample_rss(st)
                log(f"[{rec.now():5.1f} s] warmed up; {len(rec.samples)} requests so far")
            at(moment)
            action()
        at(plan.seconds)
        rss_after = _sample_rss(st)
        rec.stop.set()
        for thread in actors:
            thread.join(timeout=30)
        timeline["end"] = rec.now()
        log(f"[{rec.now():5.1f} s] load stopped; {len(rec.samples)} requests")
        _settle(rec, receiver, timeline, settle_seconds)
        polling_done.set()
        poller.join(timeout=30)
        log(f"[{rec.now():5.1f} s] jobs ended and alerts in (or gave up waiting)")

        # Each process keeps its report a few seconds: wait out that window for the answer after
        # the faults, not a report cached during the last of them.
        final_health: dict[int, str] = {}
        for i, base_url in enumerate(st.base_urls):
            deadline = time.monotonic() + 15
            with httpx.Client(base_url=base_url, timeout=15) as client:
                while final_health.get(i) != "ok" and time.monotonic() < deadline:
                    final_health[i] = client.get("/api/monitoring/health").json().get("status", "")
                    if final_health[i] != "ok":
                        time.sleep(0.5)
        st.stop_web()
        _wait_drained(st)
        _wait_scheduled_runs(st)
        rolled_up_by_worker = st.stop_event_workers()
        served = sum(
            1 for s in rec.samples if s.actor in ("visitor", "signup-view") and s.method == "GET" and s.status == 200
        )
        with psycopg.connect(st.database_url) as conn:
            stored_emails = {
                row[0]
                for row in conn.execute(
                    "SELECT email FROM projects_signup WHERE email LIKE %s", (f"%@{SIGNUP_DOMAIN}",)
                ).fetchall()
            }
            emails_sent, emails_owed, emails_lost = conn.execute(
                "SELECT COUNT(*) FILTER (WHERE confirmation_sent_at IS NOT NULL),"
                " COUNT(*) FILTER (WHERE confirmation_due_at IS NOT NULL),"
                " COUNT(*) FILTER (WHERE confirmation_sent_at IS NULL AND confirmation_due_at IS NULL)"
                " FROM projects_signup WHERE email LIKE %s",
                (f"%@{SIGNUP_DOMAIN}",),
            ).fetchone()
            views_stored, views_distinct, views_rolled_up = (
                now - before for now, before in zip(_human_views(conn, st.views_since), st.history_views, strict=True)
            )
            default_rows_end = _default_rows(conn)
            blocked = dict(
                conn.execute("SELECT ip::text, rule FROM security_blockedip WHERE unblocked_at IS NULL").fetchall()
            )
            audit: dict[str, set[str]] = {}
            for ip, kind in conn.execute(
                "SELECT DISTINCT ip::text, kind FROM security_securityevent WHERE ip IN (%s, %s)",
                (SCANNER_IP, STUFFER_IP),
            ).fetchall():
                audit.setdefault(ip, set()).add(kind)
            scheduled: dict[str, dict[str, tuple[int, int, str]]] = {}
            for name, period, rows, finished, errors in conn.execute(
                "SELECT name, period, COUNT(*), COUNT(finished_at), string_agg(NULLIF(error, ''), '; ')"
                " FROM jobs_scheduledrun GROUP BY name, period"
            ).fetchall():
                scheduled.setdefault(name, {})[period] = (rows, finished, errors or "")
        blocked = {ip.split("/")[0]: rule for ip, rule in blocked.items()}
        audit = {ip.split("/")[0]: kinds for ip, kinds in audit.items()}
        with receiver.lock:
            alerts_received, alerts_refused = list(receiver.received), list(receiver.refused)
        return Report(
            plan=plan,
            samples=rec.samples,
            timeline=timeline,
            accepted_emails=rec.accepted_emails,
            refused_emails=rec.refused_emails,
            stored_emails=stored_emails,
            views_served=served,
            views_stored=views_stored,
            views_distinct=views_distinct,
            views_rolled_up=int(views_rolled_up),
            blocked=blocked,
            audit_kinds=audit,
            rss={name: (rss_before[name], rss_after[name]) for name in rss_before if name in rss_after},
            final_health=final_health,
            hosts=st.hosts,
            jobs=list(rec.jobs),
            alerts_received=alerts_received,
            alerts_refused=alerts_refused,
            beat_schedule=st.beat_schedule,
            beat_unclaimed=st.beat_unclaimed,
            beat_sends=_beat_sends(st),
            scheduled_runs=scheduled,
            emails_sent=emails_sent,
            emails_owed=emails_owed,
            emails_lost=emails_lost,
            # Event worker 0 is killed on purpose (and started again under another pid).
            rss_lost={name for name in rss_before if name not in rss_after and name != "event worker 0"},
            rolled_up_by_worker=rolled_up_by_worker,
            partition_moved=partition["moved"],
            partition_made=partition["made"],
            default_rows_end=default_rows_end,
            log_tail=st.log_tail(),
        )


def missing() -> str | None:
    """What the soak needs that this machine lacks, or None."""
    if reason := PostgresServer.missing():
        return reason
    if not shutil.which("redis-server"):
        return "redis-server is not installed"
    return RabbitVhost.missing()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="Minutes of load (default 10).")
    parser.add_argument(
        "--loopback", action="store_true", help="Both hosts on loopback (a port each), even where namespaces work."
    )
    args = parser.parse_args()
    if reason := missing():
        raise SystemExit(reason)
    workdir = Path(tempfile.mkdtemp(prefix="mvp-soak-"))
    try:
        report = run(Plan.full(args.minutes), workdir=workdir, namespaces=not args.loopback)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(report.summary())
    problems = report.problems()
    for problem in problems:
        print(f"FAILED: {problem}")
    print("soak: every check held" if not problems else f"soak: {len(problems)} checks failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
