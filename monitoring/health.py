"""Health checks: each returns a result with its status and how long it took.

`ok` means working; `degraded` means serving with reduced capacity (the platform keeps
answering); `down` means a request that needs this part will fail.

`report()` is what the endpoint serves. The checks run concurrently, each bounded by
`HEALTH_CHECK_TIMEOUT_SECONDS`, so the answer comes back within about that time even when a
dependency hangs; the report is kept in process memory for `HEALTH_CACHE_SECONDS`, so a probe
hammering the endpoint costs at most one round of checks per few seconds per process.
"""

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import wait as wait_for
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, cast

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from monitoring import metrics
from mvpvalidator import background
from mvpvalidator import cache as app_cache
from mvpvalidator.db import pool_stats

logger = logging.getLogger(__name__)

Status = Literal["ok", "degraded", "down"]
_RANK: dict[str, int] = {"ok": 0, "degraded": 1, "down": 2}

# Building the migration loader reads every migration module: keep its answer this long.
MIGRATIONS_CACHE_SECONDS = 60.0
MAX_LISTED_MIGRATIONS = 10


@dataclass
class CheckResult:
    status: Status
    latency_ms: float
    detail: dict[str, Any] = field(default_factory=dict)


def timed(fn: Callable[[], tuple[Status, dict[str, Any]]]) -> CheckResult:
    """Run `fn` (which answers a status and its detail) and time it: how every check is built."""
    started = time.perf_counter()
    status, detail = fn()
    elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
    return CheckResult(status=status, latency_ms=elapsed_ms, detail=detail)


def check_database() -> CheckResult:
    def run() -> tuple[Status, dict[str, Any]]:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except DatabaseError as exc:
            return "down", {"vendor": connection.vendor, "error": type(exc).__name__}
        return "ok", {"vendor": connection.vendor}

    return timed(run)


def check_cache() -> CheckResult:
    """A set/get round trip through the breaker. While the breaker is open the platform serves
    from the local tier and the database: `degraded`, never `down`."""
    backend = "redis" if app_cache.is_shared() else "local-memory"

    def run() -> tuple[Status, dict[str, Any]]:
        detail: dict[str, Any] = {"backend": backend, "breaker": app_cache.breaker.state}
        if backend == "local-memory":
            detail["note"] = "per-process cache: counters are not shared between processes"
        # A key of its own per probe: with one shared key, two processes probing at once read
        # each other's token and each reported the cache degraded.
        token = uuid.uuid4().hex
        key = f"health:probe:{token}"
        try:
            app_cache.call(cache.set, key, token, 10)
            round_trip = app_cache.call(cache.get, key) == token
        except app_cache.CacheUnavailable as exc:
            detail.update(breaker=app_cache.breaker.state, error=str(exc)[:200])
            return "degraded", detail
        detail["breaker"] = app_cache.breaker.state
        return ("ok" if round_trip else "degraded"), detail

    return timed(run)


def check_pool() -> CheckResult:
    """Connection pool capacity: degraded when requests queue for a connection."""

    def run() -> tuple[Status, dict[str, Any]]:
        stats = pool_stats()
        if stats is None:
            return "ok", {"pooled": False}
        status: Status = "degraded" if stats["waiting"] > 0 else "ok"
        return status, {"pooled": True, **stats}

    return timed(run)


_migrations_state: tuple[float, list[str]] | None = None  # (monotonic time, unapplied names)


def _unapplied_migrations() -> list[str]:
    """`app_label.name` of every migration not yet applied, in the order migrate would run them."""
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def check_migrations() -> CheckResult:
    """Every migration applied; otherwise `degraded` with the first few pending. The answer is
    kept for a minute because building the loader costs tens of milliseconds."""

    def run() -> tuple[Status, dict[str, Any]]:
        global _migrations_state
        state = _migrations_state
        if state is None or time.monotonic() - state[0] >= MIGRATIONS_CACHE_SECONDS:
            try:
                unapplied = _unapplied_migrations()
            except DatabaseError as exc:  # the database check reports the outage itself
                return "degraded", {"error": type(exc).__name__}
            state = _migrations_state = (time.monotonic(), unapplied)
        unapplied = state[1]
        if unapplied:
            return "degraded", {"unapplied": len(unapplied), "migrations": unapplied[:MAX_LISTED_MIGRATIONS]}
        return "ok", {"unapplied": 0}

    return timed(run)


def check_jobs() -> CheckResult:
    """The job system. With a broker: whether it answers (on a connection of its own, bounded by
    the check timeout), how many messages wait in the default queue, and how long the oldest
    queued job has waited; `degraded` when the broker is unreachable (jobs wait in their rows
    and are sent again when it is back), that wait passes JOBS_BACKLOG_WARN_SECONDS (no worker
    takes them) or a running job outlived its worker (`stuck_running`: until the event worker's
    recovery pass fails it, its owner waits on it). In-process (no broker) the jobs run beside
    the requests: `ok` unless a job is late or stuck, with the same figures."""
    from jobs.broker import broker_probe
    from jobs.selectors import queue_facts

    def run() -> tuple[Status, dict[str, Any]]:
        facts = queue_facts()
        oldest = facts.oldest_waiting_seconds
        detail: dict[str, Any] = {
            "queued": facts.queued,
            "unsent": facts.unsent,
            "oldest_waiting_seconds": round(oldest, 1) if oldest is not None else None,
            "stuck_running": facts.stuck_running,
        }
        late = (oldest is not None and oldest > settings.JOBS_BACKLOG_WARN_SECONDS) or facts.stuck_running > 0
        if settings.JOBS_IN_PROCESS:
            detail["mode"] = "in-process"
            return ("degraded" if late else "ok"), detail
        probe = broker_probe(timeout=float(settings.HEALTH_CHECK_TIMEOUT_SECONDS))
        detail.update(mode="broker", transport=probe.transport, broker_reachable=probe.reachable, queue=probe.queue)
        if probe.reachable:
            detail["queue_depth"] = probe.depth
        else:
            detail["error"] = probe.error
        return ("degraded" if late or not probe.reachable else "ok"), detail

    return timed(run)


# --- Running the checks -----------------------------------------------------------------------


@dataclass(frozen=True)
class HealthCheck:
    """A check the report runs: its name in the report, what runs it, whether it needs the
    database (see `_runs_inline`) and what a timeout or a crash of it reports."""

    name: str
    run: Callable[[], CheckResult]
    uses_db: bool
    failing: Status


_BUILT_IN = ("database", "pool", "cache", "migrations", "jobs")  # the platform's own checks, first
# Checks the apps register in their `AppConfig.ready` (the domain's backlogs, ...), reported
# after the platform's own, in registration order.
_registered: dict[str, HealthCheck] = {}


def register(name: str, run: Callable[[], CheckResult], *, uses_db: bool, failing: Status = "degraded") -> None:
    """Add a check to the report. Registering a name again replaces its check in place, so a
    `ready()` that runs twice neither duplicates nor reorders it. Only the database check makes
    the platform `down` (`_overall`), whatever `failing` says."""
    if name in _BUILT_IN:
        raise ValueError(f"{name!r} is one of the platform's own checks")
    _registered[name] = HealthCheck(name, run, uses_db=uses_db, failing=failing)


def _checks() -> tuple[HealthCheck, ...]:
    """The checks, in report order: the platform's own, then the registered ones. Built per
    call so a replaced check function is picked up. Only the database can make the platform
    `down`; everything else degrades it."""
    return (
        HealthCheck("database", check_database, uses_db=True, failing="down"),
        HealthCheck("pool", check_pool, uses_db=False, failing="degraded"),
        HealthCheck("cache", check_cache, uses_db=False, failing="degraded"),
        HealthCheck("migrations", check_migrations, uses_db=True, failing="degraded"),
        HealthCheck("jobs", check_jobs, uses_db=True, failing="degraded"),
        *_registered.values(),
    )


# Checks run on this process's executor for background one-offs (`mvpvalidator.background`).
# One thread per check is enough: a check still running from an earlier round is waited on
# again instead of being started twice, so a hung dependency never piles up threads or queues.
_inflight: dict[str, Future[CheckResult]] = {}
_executor_lock = threading.Lock()


def forget_inflight() -> None:
    """Stop waiting on the checks still running. A forked worker inherits the parent's running
    checks but none of their threads (the background flusher calls this in the child)."""
    with _executor_lock:
        _inflight.clear()


def _in_thread(run: Callable[[], CheckResult]) -> CheckResult:
    try:
        return run()
    finally:
        # The ORM opened a connection for this thread: close it (back to the pool on
        # PostgreSQL) so idle health threads hold no database connection between rounds.
        connection.close()


def _submit(check: HealthCheck) -> Future[CheckResult]:
    with _executor_lock:
        running = _inflight.get(check.name)
        if running is not None and not running.done():
            return running
        future = background.submit(_in_thread, check.run)
        _inflight[check.name] = future
        return future


def _runs_inline(check: HealthCheck, timeout: float) -> bool:
    """Whether `check` runs in the calling thread (unbounded) rather than in the pool.

    A timeout of 0 or less turns the pool off. Otherwise only checks that use the database run
    inline, and only when the database is in-memory SQLite (the embedded test database): such a
    database lives inside the calling thread's connection, so a pool thread's own connection
    would see another, empty database or block on this connection's open test transaction. An
    in-memory database cannot hang on the network, so nothing is lost by not bounding it. Every
    real database (PostgreSQL, a SQLite file) is checked from the pool on its own connection.
    """
    if timeout <= 0:
        return True
    return check.uses_db and connection.vendor == "sqlite" and cast(Any, connection).is_in_memory_db()


def _failed(check: HealthCheck, exc: Exception) -> CheckResult:
    """A broken check is reported, never raised: the health endpoint must answer."""
    logger.warning("health check %s failed", check.name, exc_info=exc)
    return CheckResult(status=check.failing, latency_ms=0.0, detail={"error": type(exc).__name__})


def _run_inline(check: HealthCheck) -> CheckResult:
    try:
        return check.run()
    except Exception as exc:  # noqa: BLE001 - reported as the check's failure, with a log line
        return _failed(check, exc)


def _collect(check: HealthCheck, future: Future[CheckResult], timeout: float) -> CheckResult:
    if not future.done():
        return CheckResult(
            status=check.failing,
            latency_ms=round(timeout * 1000, 2),
            detail={"error": f"timeout after {timeout:g}s"},
        )
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - reported as the check's failure, with a log line
        return _failed(check, exc)


def _overall(results: dict[str, CheckResult]) -> Status:
    """The worst status, except that only the database can make the platform `down`."""
    worst: Status = "ok"
    for name, result in results.items():
        status: Status = "degraded" if result.status == "down" and name != "database" else result.status
        if _RANK[status] > _RANK[worst]:
            worst = status
    return worst


def run_checks() -> dict[str, Any]:
    """Run every check now, concurrently, and return within about HEALTH_CHECK_TIMEOUT_SECONDS."""
    timeout = float(settings.HEALTH_CHECK_TIMEOUT_SECONDS)
    deadline = time.monotonic() + timeout
    checks = _checks()
    pending = {check.name: _submit(check) for check in checks if not _runs_inline(check, timeout)}
    results = {check.name: _run_inline(check) for check in checks if check.name not in pending}
    wait_for(pending.values(), timeout=max(0.0, deadline - time.monotonic()))
    for check in checks:
        if check.name in pending:
            results[check.name] = _collect(check, pending[check.name], timeout)
    ordered = {check.name: results[check.name] for check in checks}
    return {
        "status": _overall(ordered),
        "checked_at": timezone.now().isoformat(),
        "checks": {name: asdict(result) for name, result in ordered.items()},
    }


# --- The cached report --------------------------------------------------------------------------

_report_lock = threading.Lock()
# (monotonic time, the cache breaker's state when the round began, report)
_cached_report: tuple[float, str, dict[str, Any]] | None = None


def report() -> dict[str, Any]:
    """The health report, at most HEALTH_CACHE_SECONDS old; `cached` says whether the checks
    ran for this call. Concurrent callers wait for one round instead of each running their own.

    A change of the cache breaker's state (read from memory, free) ends the window early: the
    report never says the cache is fine while this process already serves around it, and it
    says so again as soon as the breaker closes.

    The report is kept with the state the round began in, not the one it ended in: another
    thread of this process (the event outbox, a request) may hold the half-open probe while the
    cache check runs, so the check sees "circuit open" and the probe closes the breaker a moment
    later. Kept under "closed", that stale `degraded` would be served for the whole window after
    Redis is back; kept under "half_open", the next call sees the change and checks again."""
    global _cached_report
    with _report_lock:
        kept = _cached_report
        state = app_cache.breaker.state
        if kept is not None and time.monotonic() - kept[0] < float(settings.HEALTH_CACHE_SECONDS) and kept[1] == state:
            return {**kept[2], "cached": True}
        fresh = run_checks()
        _cached_report = (time.monotonic(), state, fresh)
    # The "health-check success" KPI counts evaluations, not the cached answers.
    metrics.record({metrics.field("h", "all", "n"): 1, metrics.field("h", "all", "ok"): int(fresh["status"] != "down")})
    return {**fresh, "cached": False}


def reset_cache() -> None:
    """Forget the cached report and migration state, and stop waiting on checks still running
    (tests; the threads finish on their own)."""
    global _cached_report, _migrations_state
    with _report_lock:
        _cached_report = None
    _migrations_state = None
    forget_inflight()
