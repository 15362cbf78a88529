"""What compose.yaml and the Dockerfile say runs, runs.

No Docker engine runs on these machines, so the file is read as Compose reads it (its ${...}
filled from a `.env` made of `.env.production.example`, the image's ENV, then `env_file`, then
`environment`) and each application service's command is started as a process on loopback, from
the project folder (the image's WORKDIR), against the machine's PostgreSQL (a fresh database per
run), Redis (the test run's) and RabbitMQ (a fresh virtual host per run). The service host names
in the connection URLs become those local servers; nothing else in a command or a variable is
changed but the web port (a free one) and beat's schedule file (in the test's folder). Then each
process must do its job and each health check of the file must pass: the proof that a
`docker compose up` would get a working platform, short of the images themselves.
"""

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import yaml
from django.conf import settings

from tests.services import reachable, require

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENV_TEMPLATE = ROOT / ".env.production.example"

APP_SERVICES = ("migrate", "web", "events", "worker", "beat")
LONG_RUNNING = ("web", "events", "worker", "beat")
DATA_SERVICES = ("postgres", "cache-redis", "events-redis", "rabbitmq")
DEFAULT_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"
# Where the image keeps its virtualenv (Dockerfile); here, the one running the tests.
IMAGE_VENV = "/opt/venv"
IMAGE_VENV_BIN = f"{IMAGE_VENV}/bin"
BEAT_SCHEDULE_FLAG = "--schedule"
STARTUP_SECONDS = 40.0

# --- Reading the files as Compose and Docker read them ---------------------------------------

# `$$`, `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?error}`, `${NAME?error}`, `$NAME`
# (https://docs.docker.com/reference/compose-file/interpolation/).
_VARIABLE = re.compile(r"\$(?:(\$)|\{(\w+)(?:(:?[-?])([^}]*))?\}|(\w+))")


def interpolate(value: Any, variables: dict[str, str]) -> Any:
    """Compose's interpolation over every string of the file."""
    if isinstance(value, dict):
        return {k: interpolate(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, variables) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(1):
            return "$"
        name = match.group(2) or match.group(5)
        operator, argument = match.group(3) or "", match.group(4) or ""
        current = variables.get(name)
        unset = current is None or (operator.startswith(":") and current == "")
        if operator.endswith("?") and unset:
            raise ValueError(f"compose.yaml needs {name}: {argument}")
        if operator.endswith("-") and unset:
            return argument
        return current or ""

    return _VARIABLE.sub(substitute, value)


def read_dotenv(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's instructions (continuation lines joined), one list per stage."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((instruction, rest.strip()))
    return stages


def image_environment() -> dict[str, str]:
    """The runtime stage's ENV, with the image's virtualenv read as the one running these tests."""
    env: dict[str, str] = {}
    for instruction, rest in dockerfile_stages()[-1]:
        if instruction == "ENV":
            for name, value in re.findall(r"(\w+)=(\S+)", rest):
                value = value.replace("$PATH", os.environ.get("PATH", "/usr/bin:/bin"))
                env[name] = value.replace(IMAGE_VENV_BIN, str(Path(sys.executable).parent))
    return env


def json_form(rest: str) -> list[str]:
    return yaml.safe_load(rest)


def compose(variables: dict[str, str]) -> dict[str, Any]:
    return interpolate(yaml.safe_load(COMPOSE_FILE.read_text()), variables)


def operator_env() -> dict[str, str]:
    """The operator's `.env`: the template with its required values filled in."""
    values = read_dotenv(ENV_TEMPLATE)
    filled = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        # A production host name: the web health probe must send it (Django refuses other hosts).
        "DJANGO_ALLOWED_HOSTS": "mvp.example.com",
        "POSTGRES_PASSWORD": secrets.token_urlsafe(16),
        "RABBITMQ_PASSWORD": secrets.token_urlsafe(16),
    }
    missing = sorted(set(filled) - set(values))
    assert not missing, f".env.production.example does not list {missing}"
    return {**values, **filled}


# --- The files, read -------------------------------------------------------------------------


def test_compose_names_every_service_with_a_health_check_and_the_contract_commands():
    services = compose(operator_env())["services"]
    assert set(services) == {*APP_SERVICES, *DATA_SERVICES}
    assert services["web"]["command"] == ["gunicorn", "--config", "gunicorn.conf.py", "mvpvalidator.wsgi"]
    assert services["events"]["command"] == ["python", "manage.py", "run_worker"]
    assert services["worker"]["command"] == [
        "celery", "-A", "mvpvalidator", "worker", "--loglevel", "INFO", "--concurrency", "2",
    ]  # fmt: skip
    assert services["beat"]["command"][:5] == ["celery", "-A", "mvpvalidator", "beat", "--loglevel"]
    for name in (*LONG_RUNNING, *DATA_SERVICES):
        assert services[name]["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name
    for name in LONG_RUNNING:
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
    assert services["migrate"]["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["healthcheck"] == {"disable": True}


def test_compose_keeps_the_event_buffer_on_a_redis_that_never_evicts_and_the_cache_on_one_that_does():
    services = compose(operator_env())["services"]
    cache, events = services["cache-redis"]["command"], services["events-redis"]["command"]
    assert cache[cache.index("--maxmemory-policy") + 1] == "allkeys-lru"
    assert "--maxmemory" in cache and cache[cache.index("--appendonly") + 1] == "no"
    assert "volumes" not in services["cache-redis"]
    assert events[events.index("--maxmemory-policy") + 1] == "noeviction"
    assert events[events.index("--appendonly") + 1] == "yes"
    for name in ("postgres", "events-redis", "rabbitmq"):
        assert services[name]["volumes"], name
    web = services["web"]["environment"]
    assert urlsplit(web["REDIS_URL"]).hostname == "cache-redis"
    assert urlsplit(web["EVENTS_REDIS_URL"]).hostname == "events-redis"
    assert urlsplit(web["CELERY_BROKER_URL"]).hostname == "rabbitmq"


def test_compose_refuses_to_start_without_the_passwords():
    variables = operator_env()
    del variables["POSTGRES_PASSWORD"]
    with pytest.raises(ValueError, match="POSTGRES_PASSWORD"):
        compose(variables)


def test_dockerfile_installs_the_lock_file_with_hashes_and_runs_as_a_user_that_is_not_root():
    stages = dockerfile_stages()
    assert len(stages) >= 2, "a builder stage and a runtime stage"
    base = stages[0][0][1]
    builder, runtime = stages[0], stages[-1]
    image = re.search(r"PYTHON_IMAGE=(\S+)", DOCKERFILE.read_text())
    assert image is not None and re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?", image.group(1)), image
    assert base.endswith("AS builder")
    assert ("COPY", "requirements.lock /tmp/requirements.lock") in builder
    installs = [rest for instruction, rest in builder if instruction == "RUN" and "pip install" in rest]
    assert installs and "--require-hashes" in installs[0] and "--no-deps" in installs[0]
    assert "-r /tmp/requirements.lock" in installs[0]
    # The runtime stage takes the virtualenv, not pip's work.
    assert ("COPY", f"--from=builder {IMAGE_VENV} {IMAGE_VENV}") in runtime
    assert not [rest for instruction, rest in runtime if instruction == "RUN" and "pip install" in rest]
    users = [rest for instruction, rest in runtime if instruction == "USER"]
    assert users and users[-1] not in ("root", "0"), users
    names = [instruction for instruction, _ in runtime]
    assert names.index("USER") < names.index("CMD")
    assert any("collectstatic" in rest for instruction, rest in runtime if instruction == "RUN")


def test_dockerfile_runs_what_compose_runs_and_probes_as_compose_probes():
    runtime = dict(dockerfile_stages()[-1])
    web = compose(operator_env())["services"]["web"]
    assert json_form(runtime["CMD"]) == web["command"]
    healthcheck = runtime["HEALTHCHECK"]
    assert json_form(healthcheck[healthcheck.index("CMD ") + 4 :]) == web["healthcheck"]["test"][1:]
    assert "/api/monitoring/live" in healthcheck
    exposed = runtime["EXPOSE"]
    # Published on the host's loopback only: the TLS proxy is the one way in.
    assert web["ports"] == [f"127.0.0.1:8000:{exposed}"] and web["environment"]["PORT"] == exposed


def test_dockerfile_build_values_satisfy_production_settings():
    """collectstatic's build-only values load the production settings (DEBUG off) with nothing
    else set: the image builds without a secret, a database or a broker."""
    run = next(
        rest for instruction, rest in dockerfile_stages()[-1] if instruction == "RUN" and "collectstatic" in rest
    )
    build_env = dict(re.findall(r"(\w+)=(\S+)", run.split("python manage.py")[0]))
    assert build_env["DJANGO_DEBUG"] == "false"
    env = {**image_environment(), **build_env, "HOME": os.environ.get("HOME", "/tmp")}
    result = subprocess.run(
        ["python", "manage.py", "collectstatic", "--noinput", "--dry-run", "-v", "0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_dockerignore_keeps_secrets_and_local_state_out_and_the_build_inputs_in():
    patterns = {
        line.strip() for line in DOCKERIGNORE.read_text().splitlines() if line.strip() and not line.startswith("#")
    }
    assert {".env", ".git", ".venv", "db.sqlite3", "staticfiles"} <= patterns
    copied = [rest.split()[0] for instruction, rest in dockerfile_stages()[0] if instruction == "COPY"]
    assert copied == ["requirements.lock"]
    assert not patterns & {"requirements.lock", "manage.py", "gunicorn.conf.py", "mvpvalidator", "static", "templates"}
    require(None if (ROOT / "requirements.lock").exists() else "requirements.lock is not in this checkout")


# --- The processes, run --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def local_database() -> Iterator[str]:
    """A fresh database on the test run's PostgreSQL server, dropped afterwards."""
    import psycopg

    server = urlsplit(settings.DATABASE_URL)
    name = f"mvp_deploy_{uuid.uuid4().hex[:12]}"
    admin = urlunsplit(server._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(server._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def local_broker() -> Iterator[str]:
    """A virtual host of its own on the machine's RabbitMQ, so the worker under test neither takes
    nor answers anything of another test or process (queues and control messages are per vhost)."""
    url = os.environ.get("CELERY_BROKER_URL") or DEFAULT_BROKER_URL
    if not reachable(url, 5672):
        require(f"RabbitMQ at {urlsplit(url).hostname}:{urlsplit(url).port or 5672} is not reachable")
    if not shutil.which("rabbitmqctl"):
        require("rabbitmqctl is not installed (needed to create a virtual host for the test)")
    vhost = f"mvp-deploy-{uuid.uuid4().hex[:12]}"
    user = urlsplit(url).username or "guest"

    def ctl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=30, check=False)

    created = ctl("add_vhost", vhost)
    if created.returncode != 0:
        require(f"rabbitmqctl could not add a virtual host: {created.stderr.strip()}")
    try:
        assert ctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*").returncode == 0
        yield urlunsplit(urlsplit(url)._replace(path=f"/{vhost}"))
    finally:
        ctl("delete_vhost", vhost)


@dataclass
class Process:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)


@dataclass
class Stack:
    """compose.yaml's application services on loopback."""

    services: dict[str, Any]
    variables: dict[str, str]
    servers: dict[str, str]
    workdir: Path
    web_port: int = field(default_factory=free_port)
    processes: dict[str, Process] = field(default_factory=dict)

    @property
    def schedule_file(self) -> Path:
        return self.workdir / "celerybeat-schedule"

    def env(self, name: str) -> dict[str, str]:
        """The container's environment: the image's ENV, `env_file`, then `environment` (Compose's
        order of precedence), with the service host names pointing at the local servers."""
        service = self.services[name]
        assert service["env_file"] == ".env"
        env = {
            "HOME": os.environ.get("HOME", "/tmp"),
            "HOSTNAME": socket.gethostname(),  # Docker sets it to the container's host name
            **image_environment(),
            **self.variables,
            **{k: str(v) for k, v in service.get("environment", {}).items()},
        }
        for key, value in env.items():
            parts = urlsplit(value)
            if parts.scheme and parts.hostname in self.servers:
                local = self.servers[parts.hostname]
                assert urlsplit(local).scheme.rstrip("s") == parts.scheme.rstrip("s"), (key, value)
                env[key] = local
        if name == "web":
            env["PORT"] = str(self.web_port)
        return env

    def command(self, name: str) -> list[str]:
        command = list(self.services[name]["command"])
        if BEAT_SCHEDULE_FLAG in command:
            at = command.index(BEAT_SCHEDULE_FLAG) + 1
            # The image's non-root user can write there; here, the test's own folder.
            assert command[at].startswith("/tmp/"), command[at]
            command[at] = str(self.schedule_file)
        return command

    def healthcheck(self, name: str) -> list[str]:
        kind, *args = self.services[name]["healthcheck"]["test"]
        if name == "beat":
            args = [a.replace("/tmp/celerybeat-schedule", str(self.schedule_file)) for a in args]
        return args if kind == "CMD" else ["/bin/sh", "-c", args[0]]

    def run_healthcheck(self, name: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.healthcheck(name), cwd=ROOT, env=env or self.env(name),
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    def start(self, name: str) -> Process:
        log = self.workdir / f"{name}.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                self.command(name), cwd=ROOT, env=self.env(name),
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.processes[name] = Process(name, proc, log)
        return self.processes[name]

    def get(self, path: str) -> tuple[int, dict[str, str]]:
        host = self.variables["DJANGO_ALLOWED_HOSTS"].split(",")[0]
        request = urllib.request.Request(f"http://127.0.0.1:{self.web_port}{path}", headers={"Host": host})
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers)

    def stop(self) -> None:
        # All asked at once (SIGTERM), then each waited for: the graceful stops overlap.
        for process in self.processes.values():
            if process.running():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.proc.pid, signal.SIGTERM)
        for process in self.processes.values():
            process.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.output()[-3000:]}" for p in self.processes.values())


def wait_for(predicate: Callable[[], object], seconds: float, what: str, stack: Stack) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value:
            return value
        for process in stack.processes.values():
            if process.name in LONG_RUNNING and not process.running():
                pytest.fail(f"{process.name} exited with {process.proc.returncode}:\n{stack.logs()}")
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {seconds:g} s:\n{stack.logs()}")
        time.sleep(0.2)


@pytest.fixture
def stack(tmp_path: Path, local_database: str, local_broker: str) -> Iterator[Stack]:
    variables = operator_env()
    running = Stack(
        services=compose(variables)["services"],
        variables=variables,
        servers={
            "postgres": local_database,
            "cache-redis": settings.REDIS_URL,
            "events-redis": settings.REDIS_URL,
            "rabbitmq": local_broker,
        },
        workdir=tmp_path,
    )
    try:
        yield running
    finally:
        running.stop()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.rabbitmq
def test_every_compose_service_runs_on_loopback_and_passes_its_health_check(stack: Stack):
    # migrate first: every other application service waits for it to exit 0.
    migrate = stack.start("migrate")
    assert migrate.proc.wait(timeout=STARTUP_SECONDS) == 0, migrate.output()
    assert "Applying jobs.0001_initial... OK" in migrate.output()

    for name in LONG_RUNNING:
        stack.start(name)

    # web: gunicorn from the configuration file answers on the port PORT names, and the request id
    # the platform answers with is in gunicorn's access log.
    def live() -> tuple[int, dict[str, str]] | None:
        try:
            return stack.get("/api/monitoring/live")
        except (urllib.error.URLError, OSError):
            return None

    status, headers = wait_for(live, STARTUP_SECONDS, "web did not answer /api/monitoring/live", stack)
    assert status == 200
    request_id = headers["X-Request-ID"]
    wait_for(lambda: f"rid={request_id}" in stack.processes["web"].output(), 5, "no access-log line", stack)
    web_check = stack.run_healthcheck("web")
    assert web_check.returncode == 0, web_check.stderr
    # The probe is no formality: with a host the platform does not serve, it fails.
    foreign = {**stack.env("web"), "DJANGO_ALLOWED_HOSTS": "other.example.com"}
    assert stack.run_healthcheck("web", env=foreign).returncode != 0

    # events: the event worker started and its health check (the pipeline keeps up) passes.
    wait_for(lambda: "event worker" in stack.processes["events"].output(), STARTUP_SECONDS, "no worker start", stack)
    events_check = stack.run_healthcheck("events")
    assert events_check.returncode == 0, events_check.stderr

    # beat: it opened its schedule file, which is what its health check looks for.
    wait_for(lambda: list(stack.workdir.glob("celerybeat-schedule*")), STARTUP_SECONDS, "no schedule file", stack)
    beat_check = stack.run_healthcheck("beat")
    assert beat_check.returncode == 0, beat_check.stderr

    # worker: answers its health check's ping, then runs a task sent through the broker.
    worker_check = wait_for(
        lambda: (r := stack.run_healthcheck("worker")).returncode == 0 and r,
        STARTUP_SECONDS, "the Celery worker did not answer its ping", stack,
    )  # fmt: skip
    assert "pong" in worker_check.stdout
    token = uuid.uuid4().hex
    sent = subprocess.run(
        ["celery", "-A", "mvpvalidator", "call", "celery.accumulate", "--args", f'["{token}"]'],
        cwd=ROOT, env=stack.env("worker"), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    task_id = sent.stdout.strip().splitlines()[-1]
    ran = re.compile(rf"Task celery\.accumulate\[{task_id}\] succeeded in .*{token}")
    wait_for(lambda: ran.search(stack.processes["worker"].output()), 20, "the worker did not run the task", stack)

    # Everything is still up at the end.
    for name in LONG_RUNNING:
        assert stack.processes[name].running(), f"{name} stopped:\n{stack.logs()}"


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.rabbitmq
def test_data_services_health_checks_pass_against_the_local_servers():
    """The data services' probes, as written, against the machine's servers (their default
    addresses are the local ones), where the client binaries are installed."""
    services = compose(operator_env())["services"]
    ran = []
    for name in DATA_SERVICES:
        kind, *args = services[name]["healthcheck"]["test"]
        assert kind == "CMD", name
        if not shutil.which(args[0]):
            continue
        result = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, (name, result.stdout, result.stderr)
        ran.append(name)
    require(None if ran else "none of pg_isready, redis-cli, rabbitmq-diagnostics is installed")
