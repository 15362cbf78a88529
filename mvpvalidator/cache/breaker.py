"""A circuit breaker for the shared cache.

django-redis alone waits a socket timeout on every call while Redis is down. After a few
consecutive failures the breaker opens: calls stop touching the socket and the caller falls
back (local tier, database, skipped write). After a pause one probe is let through; its
success closes the breaker again.
"""

import threading
import time
from dataclasses import dataclass
from typing import Literal

State = Literal["closed", "open", "half_open"]


@dataclass
class BreakerSnapshot:
    state: State
    consecutive_failures: int
    opened_at: float | None
    last_error: str
    trips: int


class CircuitBreaker:
    def __init__(self, *, failure_threshold: int = 3, reset_after_seconds: float = 5.0) -> None:
        self.failure_threshold = failure_threshold
        self.reset_after_seconds = reset_after_seconds
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False
        self._last_error = ""
        self._trips = 0

    def allow(self) -> bool:
        """Whether a call may touch the backend now (one probe at a time once the pause is over)."""
        with self._lock:
            if self._opened_at is None:
                return True
            if self._probing or time.monotonic() - self._opened_at < self.reset_after_seconds:
                return False
            self._probing = True
            return True

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._probing = False

    def record_failure(self, error: BaseException) -> None:
        with self._lock:
            self._failures += 1
            self._last_error = f"{type(error).__name__}: {error}"[:200]
            if self._probing or (self._opened_at is None and self._failures >= self.failure_threshold):
                if self._opened_at is None:
                    self._trips += 1
                self._opened_at = time.monotonic()
            self._probing = False

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    @property
    def state(self) -> State:
        with self._lock:
            if self._opened_at is None:
                return "closed"
            if time.monotonic() - self._opened_at >= self.reset_after_seconds:
                return "half_open"
            return "open"

    def snapshot(self) -> BreakerSnapshot:
        state = self.state
        with self._lock:
            return BreakerSnapshot(state, self._failures, self._opened_at, self._last_error, self._trips)

    def reset(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._probing = False
            self._last_error = ""
