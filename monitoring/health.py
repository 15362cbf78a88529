"""Health checks: each returns a result with its status and how long it took.

`ok` means working; `degraded` means serving with reduced capacity (the platform keeps
answering); `down` means a request that needs this part will fail.
"""

import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.utils import timezone

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
    backend = "redis" if settings.ENABLE_REDIS_CACHE else "local-memory"

    def run() -> tuple[Status, dict[str, Any]]:
        key = "health:probe"
        token = uuid.uuid4().hex
        try:
            cache.set(key, token, timeout=10)
            round_trip = cache.get(key) == token
        except Exception as exc:  # noqa: BLE001 - any cache failure means the cache is degraded
            return "degraded", {"backend": backend, "error": type(exc).__name__}
        detail: dict[str, Any] = {"backend": backend}
        if backend == "local-memory":
            detail["note"] = "per-process cache: counters are not shared between processes"
        return ("ok" if round_trip else "degraded"), detail

    return _timed(run)


def run_checks() -> dict[str, Any]:
    """Run every check; the overall status is the worst one."""
    checks = {"database": check_database(), "cache": check_cache()}
    overall = max((c.status for c in checks.values()), key=_RANK.__getitem__)
    return {
        "status": overall,
        "checked_at": timezone.now().isoformat(),
        "checks": {name: asdict(result) for name, result in checks.items()},
    }
