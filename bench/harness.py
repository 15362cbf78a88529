"""A production-like stack on loopback for benchmarks: PostgreSQL + Redis, gunicorn, wrk.

Every benchmark measures its workload and a reference in the same run, alternating them, and
reports ratios (these machines are noisy; absolute figures are printed for the record only).
"""

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_BASE_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
# The production guide's latency and reliability KPIs, held at every workload's concurrency.
KPI_P95_MS = 200.0
KPI_ERROR_RATE = 0.01
# `python -m bench` collects each benchmark's verdicts from this file (one JSON object a line).
SUMMARY_ENV = "BENCH_SUMMARY_FILE"


def stack_env(db_name: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "ENABLE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_LOG_LEVEL="WARNING",
        DATABASE_URL=f"{PG_ADMIN_URL}/{db_name}",
        REDIS_URL=REDIS_BASE_URL,
        CACHE_KEY_PREFIX=f"bench-{db_name}",
    )
    env.update(extra)  # a benchmark may override any of the above (its own Redis database, say)
    return env


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def recreate_database(db_name: str) -> None:
    for sql in (f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)', f'CREATE DATABASE "{db_name}"'):
        subprocess.run(["psql", f"{PG_ADMIN_URL}/postgres", "-qc", sql], check=True, capture_output=True)


def shell_json(env: dict[str, str], code: str) -> object:
    """Run `code` in `manage.py shell` and decode the JSON it prints last.

    The last line only: Django 5.2's shell first says what it imported.
    """
    return json.loads(manage(env, "shell", "-c", code).strip().splitlines()[-1])


def fresh_stack(db_name: str, *, static: bool = False, demo: bool = False, **extra: str) -> dict[str, str]:
    """An empty, migrated database of its own and a cache prefix cleared of earlier runs' keys."""
    recreate_database(db_name)
    env = stack_env(db_name, **extra)
    manage(env, "migrate", "--noinput", "-v", "0")
    if static:
        manage(env, "collectstatic", "--noinput", "-v", "0")
    manage(env, "clear_cache", "--all")  # this run's keys only (under its own prefix)
    if demo:
        manage(env, "seed_demo")
    return env


def load_arguments(doc: str | None, *, seconds: int = 5, rounds: int = 3) -> argparse.ArgumentParser:
    """The options every wrk benchmark takes; a benchmark adds its own to the parser returned."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument("--seconds", type=int, default=seconds, help="length of each measured run")
    parser.add_argument("--rounds", type=int, default=rounds, help="measured runs per server, interleaved")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    return parser


@dataclass
class Gunicorn:
    env: dict[str, str]
    workers: int = 2
    app: str = "mvpvalidator.wsgi"  # the WSGI application gunicorn serves
    # Recycle a worker after this many requests; None: the production configuration's. 0: never.
    max_requests: int | None = None
    port: int = 0
    proc: subprocess.Popen | None = None
    log: Path | None = None

    def __enter__(self) -> "Gunicorn":
        self.port = self.port or free_port()
        # The production configuration (preload, recycling, the access log with request ids),
        # with the benchmark's bind and worker count; its log goes to a file, not the terminal.
        self.log = Path(tempfile.mkstemp(prefix="bench-gunicorn-", suffix=".log")[1])
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [
                    PYTHON, "-m", "gunicorn", self.app,
                    "--config", str(ROOT / "gunicorn.conf.py"),
                    "--bind", f"127.0.0.1:{self.port}",
                    "--workers", str(self.workers),
                    "--worker-class", "sync",
                    "--log-level", "warning",
                    *(["--max-requests", str(self.max_requests)] if self.max_requests is not None else []),
                ],
                cwd=ROOT, env=self.env, start_new_session=True, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.base}/api/monitoring/live", timeout=1):
                    return self
            except OSError:
                time.sleep(0.2)
        log_tail = self.log.read_text()[-3000:]
        self.__exit__()
        raise RuntimeError(f"gunicorn did not start:\n{log_tail}")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        if self.log is not None:
            self.log.unlink(missing_ok=True)


@dataclass
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    requests: int


_P95_SCRIPT = ROOT / "bench" / "wrk_report.lua"


def wrk(url: str, *, seconds: int, connections: int = 8, threads: int = 2, script: Path = _P95_SCRIPT) -> WrkResult:
    """Load `url` for `seconds`. A custom `script` (requests built in Lua) must end with the
    `done` reporter of wrk_report.lua, see `report_script()`."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: run `make bench` (it installs it) or `apt-get install wrk`.")
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "-s", str(script), url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    values = dict(re.findall(r"^(\w+)=([\d.]+)$", out, re.MULTILINE))
    return WrkResult(
        requests_per_second=float(values["rps"]),
        p50_ms=float(values["p50"]) / 1000,
        p95_ms=float(values["p95"]) / 1000,
        p99_ms=float(values["p99"]) / 1000,
        errors=int(float(values["errors"])),
        requests=int(float(values["requests"])),
    )


def report_script() -> str:
    """The Lua reporter `wrk()` parses, for appending to a custom request script."""
    return _P95_SCRIPT.read_text()


def alternate(
    workloads: dict[str, str], *, rounds: int, seconds: int, connections: int = 8
) -> dict[str, list[WrkResult]]:
    """Measure each URL `rounds` times, interleaved, so drift on the machine hits all alike."""
    results: dict[str, list[WrkResult]] = {name: [] for name in workloads}
    for _ in range(rounds):
        for name, url in workloads.items():
            results[name].append(wrk(url, seconds=seconds, connections=connections))
    return results


def median_rps(results: list[WrkResult]) -> float:
    return statistics.median(r.requests_per_second for r in results)


def median_p95(results: list[WrkResult]) -> float:
    return statistics.median(r.p95_ms for r in results)


def print_results(results: dict[str, list[WrkResult]], *, column: str = "per run", decimals: int = 2) -> None:
    """The per-server table every benchmark prints: median req/s, p50, p95, errors, requests."""
    print(f"\n{'server':<10} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7} {'requests':>9}  req/s {column}")
    for name, runs in results.items():
        p50 = statistics.median(r.p50_ms for r in runs)
        errors, total = sum(r.errors for r in runs), sum(r.requests for r in runs)
        per_run = " ".join(f"{r.requests_per_second:.0f}" for r in runs)
        rps, p95 = median_rps(runs), median_p95(runs)
        print(f"{name:<10} {rps:>9.1f} {p50:>8.{decimals}f} {p95:>8.{decimals}f} {errors:>7} {total:>9}  {per_run}")


def error_rate(results: list[WrkResult]) -> float:
    """Failed requests (refused connections, timeouts, 4xx/5xx answers) over all attempted."""
    errors = sum(r.errors for r in results)
    answered = sum(r.requests for r in results)
    return errors / max(answered, errors, 1)


@dataclass(frozen=True)
class Verdict:
    """One line of `python -m bench`'s table: a ratio against its target, and the KPIs.

    `p95_ms` and `error_rate` are the measured workload's (not its reference's), median p95 of
    its runs and errors over all its runs; None where the workload is not served over HTTP.
    """

    workload: str
    compared: str
    ratio: float
    op: str  # ">=" or "<="
    target: float
    p95_ms: float | None = None
    error_rate: float | None = None
    note: str = ""

    @property
    def ratio_met(self) -> bool:
        return self.ratio >= self.target if self.op == ">=" else self.ratio <= self.target

    @property
    def kpis_met(self) -> bool:
        p95_ok = self.p95_ms is None or self.p95_ms < KPI_P95_MS
        return p95_ok and (self.error_rate is None or self.error_rate < KPI_ERROR_RATE)

    @property
    def met(self) -> bool:
        return self.ratio_met and self.kpis_met

    def line(self) -> str:
        kpis = ""
        if self.p95_ms is not None:
            kpis += f", p95 {self.p95_ms:.1f} ms (KPI < {KPI_P95_MS:.0f})"
        if self.error_rate is not None:
            kpis += f", errors {self.error_rate:.2%} (KPI < {KPI_ERROR_RATE:.0%})"
        status = "met" if self.met else "NOT MET"
        return f"{self.workload}: {self.ratio:.2f} (target {self.op} {self.target}){kpis}: {status}"


def load_verdict(
    workload: str, compared: str, *, ratio: float, op: str, target: float, runs: list[WrkResult], note: str = ""
) -> Verdict:
    return Verdict(
        workload, compared, ratio, op, target, p95_ms=median_p95(runs), error_rate=error_rate(runs), note=note
    )


def report(*verdicts: Verdict, checks_ok: bool = True) -> int:
    """Print each verdict, hand it to `python -m bench` when that runs us, and give the exit
    status: 0 when every target and KPI is met and the benchmark's own checks (`checks_ok`:
    counts, query counts) held."""
    summary = os.environ.get(SUMMARY_ENV)
    print()
    for verdict in verdicts:
        print(verdict.line())
        if summary:
            with open(summary, "a") as out:
                out.write(json.dumps(asdict(verdict)) + "\n")
    return 0 if checks_ok and all(v.met for v in verdicts) else 1
