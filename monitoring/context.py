"""What is known about the current request (or command): its id, route, user and project.

Context variables, so log lines, error groups, Sentry events and security events can all
name the request they belong to without threading it through every call.
"""

import contextlib
import random
import re
from collections.abc import Iterator
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import Any

# Accepted from an `X-Request-ID` header set by a proxy; anything else is replaced, so a
# client cannot inject newlines or huge values into logs.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$")


@dataclass(slots=True)  # one per request: slots make it cheaper to build and to read
class RequestContext:
    request_id: str
    route: str = ""
    method: str = ""
    user_id: int | None = None
    project_id: int | None = None
    client_ip: str = ""
    # Query timing for this request (filled by monitoring.queries).
    query_count: int = 0
    query_ms: float = 0.0
    slow_queries: list[dict[str, Any]] = field(default_factory=list)
    query_durations_ms: list[float] = field(default_factory=list)
    # Set while monitoring writes its own records, so they are not timed as the request's.
    recording: bool = False
    # For the request's trace (monitoring.traces): when it started (perf_counter), cache
    # lookups by family and outcome, and what happened on the way (external calls, security
    # events, errors). Created on first use: most requests never need them.
    started: float = 0.0
    cache_counts: dict[str, int] | None = None
    notes: list[dict[str, Any]] | None = None
    keep: str = ""  # why this request's trace must be kept, when it must
    # The request failed because the database is away: what is filed after the response (slow
    # queries, the slow request, the user) is left to the log, each write would wait out the pool.
    database_away: bool = False


_current: ContextVar[RequestContext | None] = ContextVar("monitoring_request_context", default=None)


def new_request_id() -> str:
    # A label to find a request by, not a secret: `random` (reseeded in every forked worker)
    # costs no system call, where `secrets` reads the kernel's generator on every request.
    return f"{random.getrandbits(128):032x}"


def valid_request_id(value: str) -> bool:
    return bool(_VALID_REQUEST_ID.match(value))


def accept_request_id(header_value: str | None) -> str:
    """The caller's request id when it is well formed, else a new one."""
    if header_value and _VALID_REQUEST_ID.match(header_value):
        return header_value
    return new_request_id()


def current() -> RequestContext | None:
    return _current.get()


def start(context: RequestContext) -> Token[RequestContext | None]:
    return _current.set(context)


def end(token: Token[RequestContext | None]) -> None:
    _current.reset(token)


def bind(**values: Any) -> None:
    """Add what becomes known later in the request (the user, the project)."""
    ctx = _current.get()
    if ctx is None:
        return
    for name, value in values.items():
        if hasattr(ctx, name):
            setattr(ctx, name, value)


@contextlib.contextmanager
def own_writes() -> Iterator[None]:
    """Monitoring's own database writes: not timed as part of the request they describe."""
    ctx = _current.get()
    if ctx is None or ctx.recording:
        yield
        return
    ctx.recording = True
    try:
        yield
    finally:
        ctx.recording = False


def request_id() -> str:
    ctx = _current.get()
    return ctx.request_id if ctx else ""


def as_log_fields() -> dict[str, Any]:
    ctx = _current.get()
    if ctx is None:
        return {}
    fields: dict[str, Any] = {"request_id": ctx.request_id}
    if ctx.route:
        fields["route"] = ctx.route
    if ctx.user_id is not None:
        fields["user_id"] = ctx.user_id
    if ctx.project_id is not None:
        fields["project_id"] = ctx.project_id
    return fields
