"""Slow operations: requests, service calls, commands and external calls slower than
`SLOW_OPERATION_THRESHOLD_MS`, grouped by (kind, name).

    from monitoring.operations import timed

    @timed("projects.prototype_generate")
    def prototype_generate(...): ...

    with timed("import spend", kind="command"):
        ...
"""

import contextlib
import functools
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from monitoring import context, metrics
from monitoring.models import SlowOperationGroup

logger = logging.getLogger(__name__)
F_ = TypeVar("F_", bound=Callable[..., Any])


def record_slow(kind: str, name: str, ms: float) -> None:
    """Upsert the operation's group. Never raises."""
    now = timezone.now()
    request_id = context.request_id()
    try:
        with context.own_writes(), transaction.atomic():
            updated = SlowOperationGroup.objects.filter(kind=kind, name=name[:300]).update(
                count=F("count") + 1,
                total_ms=F("total_ms") + ms,
                max_ms=Greatest(F("max_ms"), ms),
                last_seen=now,
                last_request_id=request_id,
            )
            if not updated:
                try:
                    with transaction.atomic():
                        SlowOperationGroup.objects.create(
                            kind=kind, name=name[:300], total_ms=ms, max_ms=ms, first_seen=now, last_seen=now,
                            last_request_id=request_id,
                        )  # fmt: skip
                except DatabaseError:
                    SlowOperationGroup.objects.filter(kind=kind, name=name[:300]).update(
                        count=F("count") + 1, last_seen=now
                    )
    except Exception:
        logger.warning("could not record slow %s %s", kind, name, exc_info=True)


class _Timed(contextlib.ContextDecorator):
    def __init__(self, name: str, kind: str) -> None:
        self.name = name
        self.kind = kind
        self._started: list[float] = []

    def __enter__(self) -> "_Timed":
        self._started.append(time.perf_counter())
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        ms = (time.perf_counter() - self._started.pop()) * 1000
        metrics.observe(("o", self.kind, self.name), ms, errors=1 if exc_type else 0)
        if ms >= settings.SLOW_OPERATION_THRESHOLD_MS:
            record_slow(self.kind, self.name, ms)


def timed(name: str, *, kind: str = "service") -> _Timed:
    """Time a block or a function: counted per (kind, name), grouped when slow."""
    return _Timed(name, kind)


def timed_service(fn: F_) -> F_:
    """Decorator for service functions, named after their module and function."""
    name = f"{fn.__module__.split('.')[0]}.{fn.__name__}"

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _Timed(name, "service"):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@contextlib.contextmanager
def command_context(name: str) -> Iterator[context.RequestContext]:
    """For management commands: a request-like context (an id for the log lines), query
    timing, and the command's own duration recorded as an operation."""
    from monitoring import queries

    ctx = context.RequestContext(request_id=context.new_request_id(), route=f"command:{name}", method="CMD")
    token = context.start(ctx)
    try:
        with queries.timing_queries(), _Timed(name, "command"):
            yield ctx
        queries.record_query_metrics(ctx)
        if ctx.slow_queries:
            queries.record_slow_queries(ctx)
    finally:
        context.end(token)


class MonitoredCommand(BaseCommand):
    """Base for the project's management commands: each run is timed as an operation, and its
    queries are timed like a request's."""

    def execute(self, *args: Any, **options: Any) -> Any:
        with command_context(self.__module__.rsplit(".", 1)[-1]):
            return super().execute(*args, **options)
