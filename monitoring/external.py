"""External API monitoring: wrap each outbound call to count it per service (calls, errors,
timeouts, latency histogram) and remember the last error.

    from monitoring import external

    with external.track("openai") as call:
        response = client.post(...)
        call.status_code = response.status_code

An exception leaving the block counts as an error (a timeout when it is one); an HTTP status of
429 or 5xx counts as an error too. Set `call.outcome = "timeout"` when the caller detects a
timeout itself (a deadline on a trickled body).
"""

import contextlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from monitoring import context, kpi_readers, metrics, traces

logger = logging.getLogger(__name__)

LAST_ERROR_TTL_SECONDS = 7 * 24 * 3600


def _last_error_key(service: str) -> str:
    return f"mon:xlast:{service}"


def _is_timeout(exc: BaseException) -> bool:
    if isinstance(exc, TimeoutError):
        return True
    try:
        import httpx

        return isinstance(exc, httpx.TimeoutException)
    except ImportError:  # pragma: no cover - httpx is a requirement
        return False


@dataclass
class ExternalCall:
    service: str
    status_code: int | None = None
    outcome: str | None = None  # "ok", "error" or "timeout"; decided on exit when left None
    error: str = ""
    _started: float = field(default=0.0, repr=False)

    def __enter__(self) -> "ExternalCall":
        self._started = time.perf_counter()
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        ms = (time.perf_counter() - self._started) * 1000
        if exc is not None:
            self.outcome = "timeout" if (self.outcome == "timeout" or _is_timeout(exc)) else (self.outcome or "error")
            failed_status = self.status_code is not None and (self.status_code == 429 or self.status_code >= 500)
            self.error = self.error or (
                f"HTTP {self.status_code}" if failed_status else f"{type(exc).__name__}: {str(exc)[:200]}"
            )
        elif self.outcome is None:
            failed = self.status_code is not None and (self.status_code == 429 or self.status_code >= 500)
            self.outcome = "error" if failed else "ok"
            if failed:
                self.error = self.error or f"HTTP {self.status_code}"
        elif self.outcome != "ok" and not self.error:
            self.error = self.outcome
        failed = self.outcome != "ok"
        try:
            traces.note(
                "external", service=self.service, ms=round(ms, 2), outcome=self.outcome,
                status_code=self.status_code, error=self.error,
            )  # fmt: skip
            metrics.observe(
                ("x", self.service),
                ms,
                errors=1 if failed else 0,
                extra={"to": 1} if self.outcome == "timeout" else None,
            )
            kpi_readers.count_external_call(self.service, failed=failed)
            if failed:
                self._remember_error(ms)
            if ms >= settings.SLOW_OPERATION_THRESHOLD_MS:
                from monitoring.operations import record_slow

                record_slow("external", self.service, ms)
        except Exception:
            logger.warning("could not record external call to %s", self.service, exc_info=True)
        return False

    def _remember_error(self, ms: float) -> None:
        from mvpvalidator.cache import CacheUnavailable, call

        entry = {
            "at": timezone.now().isoformat(),
            "error": self.error,
            "outcome": self.outcome,
            "status_code": self.status_code,
            "ms": round(ms, 1),
            "request_id": context.request_id(),
        }
        with contextlib.suppress(CacheUnavailable):
            call(cache.set, _last_error_key(self.service), json.dumps(entry), LAST_ERROR_TTL_SECONDS)


def track(service: str) -> ExternalCall:
    return ExternalCall(service=service)


def last_error(service: str) -> dict[str, Any] | None:
    from mvpvalidator.cache import CacheUnavailable, call

    try:
        raw = call(cache.get, _last_error_key(service))
    except CacheUnavailable:
        return None
    return json.loads(raw) if raw else None
