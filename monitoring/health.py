"""Health checks: each returns a result with its status and how long it took.

`ok` means working; `degraded` means serving with reduced capacity (the platform keeps
answering); `down` means a request that needs this part will fail.
"""

import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.utils import timezone

from mvpvalidator import cache as app_cache
from mvpvalidator.db import pool_stats

Status = Literal["ok", "degraded", "down"]
_RANK: dict[str, int] = {"ok": 0, "degraded": 1, "down": 2}


@dataclass
class CheckResult:
    status: Status
    latency_ms: float
    detail: dict[str, Any] = field(default_factory=dict)


def _timed(fn) -> CheckResult:  # type: ignore[no-untyped-def]
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

    return _timed(run)


def check_cache() -> CheckResult:
    """A set/get round trip through the breaker. While the breaker is open the platform serves
    from the local tier and the database: `degraded`, never `down`."""
    backend = "redis" if app_cache.is_shared() else "local-memory"

    def run() -> tuple[Status, dict[str, Any]]:
        detail: dict[str, Any] = {"backend": backend, "breaker": app_cache.breaker.state}
        if backend == "local-memory":
            detail["note"] = "per-process cache: counters are not shared between processes"
        key = "health:probe"
        token = uuid.uuid4().hex
        try:
            app_cache.call(cache.set, key, token, 10)
            round_trip = app_cache.call(cache.get, key) == token
        except app_cache.CacheUnavailable as exc:
            detail.update(breaker=app_cache.breaker.state, error=str(exc)[:200])
            return "degraded", detail
        detail["breaker"] = app_cache.breaker.state
        return ("ok" if round_trip else "degraded"), detail

    return _timed(run)


def check_pool() -> CheckResult:
    """Connection pool capacity: degraded when requests queue for a connection."""

    def run() -> tuple[Status, dict[str, Any]]:
        stats = pool_stats()
        if stats is None:
            return "ok", {"pooled": False}
        status: Status = "degraded" if stats["waiting"] > 0 else "ok"
        return status, {"pooled": True, **stats}

    return _timed(run)


def run_checks() -> dict[str, Any]:
    """Run every check; the overall status is the worst one."""
    checks = {"database": check_database(), "pool": check_pool(), "cache": check_cache()}
    overall = max((c.status for c in checks.values()), key=_RANK.__getitem__)
    return {
        "status": overall,
        "checked_at": timezone.now().isoformat(),
        "checks": {name: asdict(result) for name, result in checks.items()},
    }
