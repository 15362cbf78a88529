"""The mixed-traffic soak: the production-like stack driven like real traffic, with faults.

It starts its own PostgreSQL cluster and redis-server (own ports and data directories, so the
machine's shared services are untouched), a fake OpenAI-compatible provider that answers too
slowly, gunicorn (2 sync workers, production settings behind a trusted proxy on loopback) and
one event worker. Then, at once: visitors open the landing page (each a new browser from its own
address), visitors sign up (the real form: cookie, form token, the fill-time rule), a founder
uses the API (lists, details, edits, analytics, prototype generation against the slow
provider), staff keep the performance monitor open (refreshing its panels), a scanner probes
paths no visitor asks for, and a credential-stuffer sprays the token endpoint.

Faults, one after another while the load runs: Redis stopped and restarted; PostgreSQL stopped
and restarted; the event worker killed with SIGKILL and started again. The provider is slow
throughout.

Checked at the end (`Report.problems()`): no 5xx outside the database outage, and during it only
fast 503s with a clear message; health `degraded` while Redis is away and `ok` at the end; the
scanner and the stuffer blocked, with their audit rows; every accepted signup in the database
and none of the refused; views counted equal views served, each once, rolled up once; prototype
generation fell back within its time bound; the resident memory of every process flat.

    .venv/bin/python -m bench.soak              # the full form: 10 minutes of load
    .venv/bin/python -m bench.soak --minutes 2  # shorter
The test suite runs a short form (tests/faults/test_soak.py).
"""

import argparse
import http.cookiejar
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import psycopg

from bench.harness import PYTHON, ROOT, manage
from bench.servers import PostgresServer, RedisServer, free_port, kill_group, tail

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
SIGNUP_DOMAIN = "soak.example"

# The addresses the actors come from, behind the trusted proxy (loopback) as X-Forwarded-For.
# Visitors from the benchmarking range (RFC 2544), the rest from documentation ranges (RFC 5737):
# no packet is sent to any of them, they only name clients.
SCANNER_IP = "203.0.113.66"
STUFFER_IP = "203.0.113.77"
FOUNDER_IP = "192.0.2.10"
STAFF_IP = "192.0.2.20"

PROVIDER_DELAY_SECONDS = 3.0
PROVIDER_TIMEOUT_SECONDS = 1.0
# The provider client makes at most two attempts of PROVIDER_TIMEOUT_SECONDS each.
GENERATION_BOUND_SECONDS = 2 * PROVIDER_TIMEOUT_SECONDS + 1.5
# How long a request waits for a pooled connection before it is answered 503 (the production
# default is 5 s; behind a proxy that gives up sooner, set it below the proxy's timeout).
POOL_TIMEOUT_SECONDS = 2.0
# A request during the database outage must be answered within this. API reads fail after one
# pool wait (the error path asks nothing more of the database); a signup POST was measured at up
# to three (its transaction's setup, the write, the rollback each ask the pool once more), so the
# bound is three waits plus the app's own work on a loaded two-core machine.
FAIL_FAST_SECONDS = 3 * POOL_TIMEOUT_SECONDS + 1.5
# After PostgreSQL is back, requests may still fail for this long (pooled connections are
# replaced as they are found broken).
DB_RECOVERY_SECONDS = 5.0
# The cache breaker lets one probe through 5 s after opening.
REDIS_RECOVERY_SECONDS = 10.0
MAX_RSS_GROWTH_MIB = 64.0


@dataclass(frozen=True)
class Plan:
    """When each fault starts, in seconds from the start of the load."""

    seconds: float
    redis_stop_at: float
    redis_down_for: float
    postgres_stop_at: float
    postgres_down_for: float
    worker_kill_at: float
    worker_down_for: float
    visitors: int = 3
    signup_threads: int = 3

    @classmethod
    def short(cls) -> "Plan":
        return cls(
            seconds=70, redis_stop_at=12, redis_down_for=4, postgres_stop_at=32, postgres_down_for=3,
            worker_kill_at=48, worker_down_for=3,
        )  # fmt: skip

    @classmethod
    def full(cls, minutes: float) -> "Plan":
        seconds = minutes * 60
        return cls(
            seconds=seconds, redis_stop_at=seconds * 0.2, redis_down_for=10, postgres_stop_at=seconds * 0.45,
            postgres_down_for=5, worker_kill_at=seconds * 0.7, worker_down_for=5,
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


# --- The fake slow provider ---------------------------------------------------------------------


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


@contextmanager
def slow_provider() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowProvider)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


# --- The stack -----------------------------------------------------------------------------------


def stack_env(*, database_url: str, redis_url: str, provider_url: str) -> dict[str, str]:
    """Production settings on loopback, from a clean environment."""
    inherited = (
        "DJANGO_", "DATABASE_", "REDIS_", "ENABLE_", "CACHE_", "OPENAI_", "SENTRY_", "SECURITY_", "EVENT_", "EMAIL_",
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(inherited)}
    env.update(
        DJANGO_SETTINGS_MODULE="mvpvalidator.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_LOG_LEVEL="WARNING",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        # The stack sits behind a proxy on loopback that names each client in X-Forwarded-For.
        TRUSTED_PROXIES="127.0.0.1",
        # The founder and the staff member each send many times a person's rate from one address.
        MAX_REQUESTS_PER_HOUR="1000000",
        DATABASE_POOL_TIMEOUT_SECONDS=str(POOL_TIMEOUT_SECONDS),
        DATABASE_CONNECT_TIMEOUT_SECONDS="1",
        # A killed worker's claimed batch is taken over this soon.
        EVENT_CLAIM_IDLE_SECONDS="3",
        OPENAI_API_KEY="sk-soak-" + secrets.token_hex(8),
        OPENAI_BASE_URL=provider_url,
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


@dataclass
class Stack:
    workdir: Path
    provider_url: str
    postgres: PostgresServer = field(default_factory=PostgresServer)
    redis: RedisServer | None = None
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    gunicorn: subprocess.Popen | None = None
    worker: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

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

    def _start(self) -> None:
        self.postgres.init()
        self.postgres.start()
        self.postgres.create_database("mvpvalidator")
        redis_dir = self.workdir / "redis"
        redis_dir.mkdir()
        self.redis = RedisServer(redis_dir, persistent=True)
        self.redis.start()
        self.env = stack_env(database_url=self.database_url, redis_url=self.redis.url, provider_url=self.provider_url)
        manage(self.env, "migrate", "--noinput", "-v", "0")
        manage(self.env, "collectstatic", "--noinput", "-v", "0")
        manage(self.env, "seed_demo")
        log = (self.workdir / "gunicorn.log").open("a")
        self.gunicorn = subprocess.Popen(
            [
                PYTHON, "-m", "gunicorn", "mvpvalidator.wsgi", "--bind", f"127.0.0.1:{self.port}",
                "--workers", "2", "--worker-class", "sync", "--log-level", "warning",
            ],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.start_worker()
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.base_url}/api/monitoring/live", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if self.gunicorn.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start:\n{self.log_tail()}")
            time.sleep(0.1)

    def start_worker(self) -> None:
        log = (self.workdir / "worker.log").open("a")
        self.worker = subprocess.Popen(
            [PYTHON, "manage.py", "run_worker", "--interval", "0.5"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def kill_worker(self) -> None:
        kill_group(self.worker, sig=signal.SIGKILL)

    def stop_web(self) -> None:
        """SIGTERM: gunicorn's workers finish their request and send their event outbox on exit."""
        kill_group(self.gunicorn, wait=20)

    def processes(self) -> dict[str, int]:
        found = {}
        if self.gunicorn is not None:
            for pid in children(self.gunicorn.pid):
                found[f"gunicorn worker {pid}"] = pid
        if self.worker is not None and self.worker.poll() is None:
            found["event worker"] = self.worker.pid
        return found

    def log_tail(self) -> str:
        return "\n".join(f"--- {name}\n{tail(self.workdir / name, 30)}" for name in ("gunicorn.log", "worker.log"))

    def __exit__(self, *exc: object) -> None:
        kill_group(self.gunicorn, wait=10)
        kill_group(self.worker)
        if self.redis is not None:
            self.redis.stop()
        self.postgres.destroy()


# --- The actors ---------------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.samples: list[Sample] = []
        self.lock = threading.Lock()
        self.t0 = time.monotonic()
        self.stop = threading.Event()
        self.accepted_emails: set[str] = set()
        self.refused_emails: set[str] = set()

    def now(self) -> float:
        return time.monotonic() - self.t0

    def send(
        self, client: httpx.Client, actor: str, method: str, path: str, *, keep_body: bool = False, **kwargs: object
    ) -> httpx.Response | None:
        started = self.now()
        try:
            response = client.request(method, path, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            self._add(Sample(actor, method, path, started, self.now() - started, 0, f"{type(exc).__name__}: {exc}"))
            return None
        body = response.text[:4000] if (keep_body or response.status_code >= 500) else ""
        self._add(Sample(actor, method, path, started, self.now() - started, response.status_code, body))
        return response

    def _add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)


def visitor_ip(rng: random.Random) -> str:
    return f"198.{rng.randint(18, 19)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _client(base_url: str, ip: str, **kwargs: object) -> httpx.Client:
    """A browser behind the TLS-terminating proxy. The platform's cookies are `Secure` (production
    settings), which an http client keeps to itself, so each is also kept as a plain cookie: what
    the browser would send over https, the proxy passes on."""
    headers = {"User-Agent": BROWSER, "X-Forwarded-For": ip, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
    client = httpx.Client(base_url=base_url, headers=headers, timeout=15, **kwargs)  # type: ignore[arg-type]

    def keep_cookies(response: httpx.Response) -> None:
        for cookie in response.cookies.jar:
            client.cookies.jar.set_cookie(
                http.cookiejar.Cookie(
                    0,
                    cookie.name,
                    cookie.value,
                    None,
                    False,
                    "127.0.0.1",
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


def visitors(rec: Recorder, base_url: str, page: str, seed: int) -> None:
    rng = random.Random(seed)
    while not rec.stop.is_set():
        with _client(base_url, visitor_ip(rng)) as client:
            rec.send(client, "visitor", "GET", page)
        rec.stop.wait(rng.uniform(0.0, 0.02))


FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def signups(rec: Recorder, base_url: str, page: str, seed: int, fill_seconds: float = 2.2) -> None:
    """The real form: the page sets the visitor cookie and renders a form token, a person takes
    a couple of seconds to type, then posts."""
    rng = random.Random(seed)
    n = 0
    while not rec.stop.is_set():
        n += 1
        email = f"s{seed}-{n}-{secrets.token_hex(3)}@{SIGNUP_DOMAIN}"
        with _client(base_url, visitor_ip(rng)) as client:
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


def _token(client: httpx.Client, email: str, password: str) -> str:
    response = client.post("/api/auth/token", json={"email": email, "password": password})
    response.raise_for_status()
    return response.json()["access"]


def founder(rec: Recorder, base_url: str, email: str, password: str, generate_every: float) -> None:
    with _client(base_url, FOUNDER_IP) as client:
        client.headers["Authorization"] = f"Bearer {_token(client, email, password)}"
        projects = client.get("/api/projects/").json()["results"]
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
                rec.send(client, "generate", "POST", f"/api/projects/{pk}/generate-prototype", keep_body=True)
            rec.stop.wait(0.1)


def staff(rec: Recorder, base_url: str, email: str, password: str) -> None:
    """Signs in through the login form, then refreshes the monitor's panels as its page does."""
    with _client(base_url, STAFF_IP) as client:
        client.get("/accounts/login/")
        csrf = client.cookies.get("csrftoken", "")
        client.post(
            "/accounts/login/",
            data={"username": email, "password": password, "csrfmiddlewaretoken": csrf},
            headers={"Referer": f"{base_url}/accounts/login/"},
        )
        rec.send(client, "staff", "GET", "/performance-monitor/")
        while not rec.stop.wait(2.0):
            rec.send(client, "staff", "GET", "/performance-monitor/panels/")


SCANNER_PATHS = ("/wp-login.php", "/.env", "/phpmyadmin/", "/.git/config", "/wp-admin/", "/xmlrpc.php")


def scanner(rec: Recorder, base_url: str, start_at: float) -> None:
    if rec.stop.wait(start_at):
        return
    with _client(base_url, SCANNER_IP, headers={"User-Agent": "Mozilla/5.0 zgrab/0.x"}) as client:
        for i in range(24):
            if rec.stop.is_set():
                return
            rec.send(client, "scanner", "GET", SCANNER_PATHS[i % len(SCANNER_PATHS)])
            rec.stop.wait(0.25)


def stuffer(rec: Recorder, base_url: str, start_at: float) -> None:
    """Credential stuffing: a few accounts, several guesses each, from one address."""
    if rec.stop.wait(start_at):
        return
    # It goes on until it is refused outright (403) twice: whichever rule blocks it (lockouts or
    # the endpoint's rate limit), the block may land a request or two after the refusals that
    # earned it.
    refused = 0
    with _client(base_url, STUFFER_IP, headers={"User-Agent": "python-requests/2.32"}) as client:
        for i in range(120):
            if rec.stop.is_set() or refused >= 2:
                return
            body = {"email": f"user{i // 8}@{SIGNUP_DOMAIN}", "password": secrets.token_urlsafe(8)}
            answer = rec.send(client, "stuffer", "POST", "/api/auth/token", json=body)
            refused = refused + 1 if answer is not None and answer.status_code == 403 else 0
            rec.stop.wait(0.15)


def health(rec: Recorder, base_url: str) -> None:
    with _client(base_url, "127.0.0.1") as client:
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
    final_health: str
    # Confirmation emails of the stored signups (the page asks for double opt-in): sent by the
    # worker, still owed (due, or leased by the worker that was killed), or lost (neither).
    emails_sent: int = 0
    emails_owed: int = 0
    emails_lost: int = 0
    rss_lost: set[str] = field(default_factory=set)  # sampled after warm-up, gone at the end
    log_tail: str = ""

    def window(self, start: str, end: str, grace: float = 0.0) -> Callable[[Sample], bool]:
        lo, hi = self.timeline[start], self.timeline[end] + grace
        return lambda s: lo <= s.started + s.duration and s.started <= hi

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
        if not any('"degraded"' in s.body for s in health if in_redis_outage(s)):
            found.append("health never said degraded while Redis was away")
        if self.final_health != "ok":
            found.append(f"health at the end: {self.final_health}")
        # The stuffer trips whichever rule counts first: its lockouts, or the token endpoint's limit.
        for name, ip, rules, evidence in (
            ("scanner", SCANNER_IP, {"scanner"}, "scanner_path"),
            ("stuffer", STUFFER_IP, {"lockout", "rate_limit"}, "login_failed"),
        ):
            mine = [s for s in self.samples if s.actor == name]
            if self.blocked.get(ip) not in rules:
                found.append(f"the {name} ({ip}) is not blocked by {sorted(rules)}: {self.blocked.get(ip)}")
            if not mine or mine[-1].status != 403:
                found.append(f"the {name}'s last request was not refused: {mine[-1:]}")
            kinds = self.audit_kinds.get(ip, set())
            if not {"ip_blocked", evidence} <= kinds:
                found.append(f"the {name}'s audit rows lack ip_blocked or {evidence}: {sorted(kinds)}")
        not_signed_in = [s for s in self.samples if s.actor == "staff" and s.status != 200 and not in_db_outage(s)]
        if not_signed_in:
            found.append(f"{len(not_signed_in)} staff requests were not served the monitor, e.g. {not_signed_in[:3]}")
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
        generations = [s for s in self.samples if s.actor == "generate"]
        if not generations:
            found.append("no prototype generation ran against the slow provider")
        for s in generations:
            if s.status != 201 or '"fallback_reason":""' in s.body.replace(" ", ""):
                found.append(f"prototype generation did not fall back: {s}")
            elif s.duration > GENERATION_BOUND_SECONDS:
                found.append(f"prototype generation took {s.duration:.1f} s (bound {GENERATION_BOUND_SECONDS} s)")
        if self.rss_lost:
            found.append(f"processes gone or replaced during the soak: {sorted(self.rss_lost)}")
        for name, (before, after) in self.rss.items():
            if after - before > MAX_RSS_GROWTH_MIB:
                found.append(f"{name} grew from {before:.0f} to {after:.0f} MiB")
        return found

    def summary(self) -> str:
        lines = [f"soak: {self.plan.seconds:.0f} s of load, {len(self.samples)} requests"]
        by_actor: dict[str, list[Sample]] = {}
        for s in self.samples:
            by_actor.setdefault(s.actor, []).append(s)
        lines.append(f"{'actor':<12} {'requests':>8} {'2xx/3xx':>8} {'4xx':>6} {'5xx':>5} {'p50 ms':>8} {'p95 ms':>8}")
        for actor, samples in sorted(by_actor.items()):
            durations = sorted(s.duration for s in samples)
            p95 = durations[min(len(durations) - 1, int(0.95 * len(durations)))]
            ok = sum(1 for s in samples if 200 <= s.status < 400)
            client = sum(1 for s in samples if 400 <= s.status < 500)
            server = sum(1 for s in samples if s.status >= 500)
            lines.append(
                f"{actor:<12} {len(samples):>8} {ok:>8} {client:>6} {server:>5} "
                f"{statistics.median(durations) * 1000:>8.1f} {p95 * 1000:>8.1f}"
            )
        t = self.timeline
        outage = [s for s in self.samples if s.status == 503 and s.actor != "health"]
        lines.append(
            f"faults: Redis down {t['redis_stop']:.0f}-{t['redis_start']:.0f} s, PostgreSQL down "
            f"{t['postgres_stop']:.0f}-{t['postgres_start']:.0f} s ({len(outage)} requests answered 503, slowest "
            f"{max((s.duration for s in outage), default=0) * 1000:.0f} ms), worker killed at {t['worker_kill']:.0f} s"
        )
        lines.append(
            f"signups accepted {len(self.accepted_emails)}, refused {len(self.refused_emails)}, "
            f"stored {len(self.stored_emails)}; views served {self.views_served}, stored {self.views_stored} "
            f"({self.views_distinct} distinct), rolled up {self.views_rolled_up}; confirmation emails sent "
            f"{self.emails_sent}, owed {self.emails_owed}, lost {self.emails_lost}"
        )
        lines.append(f"blocked: {self.blocked}; final health {self.final_health}")
        lines.append(
            "memory (RSS MiB, after warm-up -> end): "
            + ", ".join(f"{name} {a:.0f} -> {b:.0f} ({b - a:+.1f})" for name, (a, b) in self.rss.items())
        )
        return "\n".join(lines)


def _sample_rss(stack: Stack) -> dict[str, float]:
    return {name: mib for name, pid in stack.processes().items() if (mib := rss_mib(pid)) is not None}


def _wait_drained(stack: Stack, timeout: float = 60.0) -> None:
    """Until the buffer is empty, every stored event is rolled up and no confirmation email is
    due (the worker still runs; a batch the killed worker had leased waits out its lease)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        manage(stack.env, "flush_events")
        with psycopg.connect(stack.database_url) as conn:
            waiting = conn.execute(
                "SELECT (SELECT COUNT(*) FROM projects_event WHERE NOT rolled_up)"
                " + (SELECT COUNT(*) FROM projects_signup WHERE confirmation_due_at <= now())"
            ).fetchone()[0]
        if waiting == 0:
            return
        time.sleep(1)


def run(plan: Plan, *, workdir: Path, log: Callable[[str], None] = print) -> Report:
    import django

    # Only for the demo accounts' names (the stack itself runs in its own processes).
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mvpvalidator.settings")
    django.setup()
    from projects.demo import DEMO_FOUNDER, DEMO_PAGE_PATH, DEMO_STAFF

    with slow_provider() as provider_url, Stack(workdir=workdir, provider_url=provider_url) as stack:
        rec = Recorder()
        actors = [
            threading.Thread(target=visitors, args=(rec, stack.base_url, DEMO_PAGE_PATH, i))
            for i in range(plan.visitors)
        ]
        actors += [
            threading.Thread(target=signups, args=(rec, stack.base_url, DEMO_PAGE_PATH, 100 + i))
            for i in range(plan.signup_threads)
        ]
        actors += [
            threading.Thread(
                target=founder, args=(rec, stack.base_url, DEMO_FOUNDER.email, DEMO_FOUNDER.password, 20.0)
            ),
            threading.Thread(target=staff, args=(rec, stack.base_url, DEMO_STAFF.email, DEMO_STAFF.password)),
            threading.Thread(target=scanner, args=(rec, stack.base_url, 5.0)),
            threading.Thread(target=stuffer, args=(rec, stack.base_url, 8.0)),
            threading.Thread(target=health, args=(rec, stack.base_url)),
        ]
        timeline: dict[str, float] = {}
        for thread in actors:
            thread.daemon = True
            thread.start()

        def at(moment: float) -> None:
            rec.stop.wait(max(0.0, moment - rec.now()))

        warm = min(plan.redis_stop_at, 10.0)
        at(warm)
        rss_before = _sample_rss(stack)
        log(f"[{rec.now():5.1f} s] warmed up; {len(rec.samples)} requests so far")
        at(plan.redis_stop_at)
        timeline["redis_stop"] = rec.now()
        assert stack.redis is not None
        stack.redis.stop()
        log(f"[{rec.now():5.1f} s] Redis stopped")
        at(plan.redis_stop_at + plan.redis_down_for)
        stack.redis.start()
        timeline["redis_start"] = rec.now()
        log(f"[{rec.now():5.1f} s] Redis started")
        at(plan.postgres_stop_at)
        timeline["postgres_stop"] = rec.now()
        stack.postgres.stop("fast")
        log(f"[{rec.now():5.1f} s] PostgreSQL stopped")
        at(plan.postgres_stop_at + plan.postgres_down_for)
        stack.postgres.start()
        timeline["postgres_start"] = rec.now()
        log(f"[{rec.now():5.1f} s] PostgreSQL started")
        at(plan.worker_kill_at)
        timeline["worker_kill"] = rec.now()
        stack.kill_worker()
        log(f"[{rec.now():5.1f} s] event worker killed (SIGKILL)")
        at(plan.worker_kill_at + plan.worker_down_for)
        stack.start_worker()
        timeline["worker_start"] = rec.now()
        log(f"[{rec.now():5.1f} s] event worker started")
        at(plan.seconds)
        rss_after = _sample_rss(stack)
        rec.stop.set()
        for thread in actors:
            thread.join(timeout=30)
        timeline["end"] = rec.now()
        log(f"[{rec.now():5.1f} s] load stopped; {len(rec.samples)} requests")

        # Each process keeps its report a few seconds: wait out that window for the answer after
        # the faults, not a report cached during the last of them.
        final_health = ""
        deadline = time.monotonic() + 15
        with httpx.Client(base_url=stack.base_url, timeout=15) as client:
            while final_health != "ok" and time.monotonic() < deadline:
                final_health = client.get("/api/monitoring/health").json().get("status", "")
                if final_health != "ok":
                    time.sleep(0.5)
        stack.stop_web()
        _wait_drained(stack)
        served = sum(
            1 for s in rec.samples if s.actor in ("visitor", "signup-view") and s.method == "GET" and s.status == 200
        )
        with psycopg.connect(stack.database_url) as conn:
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
            views_stored, views_distinct = conn.execute(
                "SELECT COUNT(*), COUNT(DISTINCT key) FROM projects_event WHERE kind = 'view' AND traffic = 'human'"
            ).fetchone()
            views_rolled_up = conn.execute(
                "SELECT COALESCE(SUM(views), 0) FROM projects_dailyrollup WHERE traffic = 'human'"
            ).fetchone()[0]
            blocked = dict(
                conn.execute("SELECT ip::text, rule FROM security_blockedip WHERE unblocked_at IS NULL").fetchall()
            )
            audit: dict[str, set[str]] = {}
            for ip, kind in conn.execute(
                "SELECT DISTINCT ip::text, kind FROM security_securityevent WHERE ip IN (%s, %s)",
                (SCANNER_IP, STUFFER_IP),
            ).fetchall():
                audit.setdefault(ip, set()).add(kind)
        blocked = {ip.split("/")[0]: rule for ip, rule in blocked.items()}
        audit = {ip.split("/")[0]: kinds for ip, kinds in audit.items()}
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
            emails_sent=emails_sent,
            emails_owed=emails_owed,
            emails_lost=emails_lost,
            # The event worker is killed on purpose (and started again under another pid).
            rss_lost={name for name in rss_before if name not in rss_after and name != "event worker"},
            log_tail=stack.log_tail(),
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="Minutes of load (default 10).")
    args = parser.parse_args()
    missing = PostgresServer.missing() or (None if shutil.which("redis-server") else "redis-server is not installed")
    if missing:
        raise SystemExit(missing)
    workdir = Path(tempfile.mkdtemp(prefix="mvp-soak-"))
    try:
        report = run(Plan.full(args.minutes), workdir=workdir)
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
