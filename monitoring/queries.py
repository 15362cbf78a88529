"""Query timing: an `execute_wrapper` on every database alias, for a request or a command.

Each query adds to the request's count and time (and to the query-latency histogram); one
slower than `SLOW_QUERY_THRESHOLD_MS` is remembered with its call site and, once the request
is over, upserted into its `SlowQueryGroup`. On PostgreSQL a plain `EXPLAIN` of a slow SELECT
is captured by a background thread, at most once per fingerprint every few minutes.
"""

import contextlib
import hashlib
import logging
import re
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from monitoring import context, metrics
from monitoring.models import SlowQueryGroup
from mvpvalidator import background

logger = logging.getLogger(__name__)

EXPLAIN_EVERY_SECONDS = 600
MAX_SQL_LENGTH = 4000
_PROJECT_ROOT = str(Path(settings.BASE_DIR).resolve())
_SKIP_IN_CALL_SITE = ("/monitoring/queries.py", "/.venv/", "/site-packages/")

_IN_LIST = re.compile(r"\(\s*(?:%s|\?)(?:\s*,\s*(?:%s|\?))+\s*\)")
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")
_STRING = re.compile(r"'(?:[^']|'')*'")
_SPACE = re.compile(r"\s+")


def fingerprint_sql(sql: str) -> tuple[str, str]:
    """(normalised SQL, its hash): literals and IN-lists of any length collapse to one shape."""
    normalised = _STRING.sub("?", sql)
    normalised = _NUMBER.sub("?", normalised)
    normalised = _IN_LIST.sub("(...)", normalised)
    normalised = _SPACE.sub(" ", normalised).strip()
    return normalised, hashlib.sha256(normalised.encode()).hexdigest()[:32]


def call_site() -> str:
    """The innermost frame of the project's own code that led to the query."""
    for frame in reversed(traceback.extract_stack()):
        filename = frame.filename
        if filename.startswith(_PROJECT_ROOT) and not any(s in filename for s in _SKIP_IN_CALL_SITE):
            return f"{filename[len(_PROJECT_ROOT) + 1 :]}:{frame.lineno} in {frame.name}"
    return ""


class QueryTimer:
    """The wrapper installed with `connection.execute_wrapper`."""

    def __init__(self, alias: str) -> None:
        self.alias = alias

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, ctx: dict[str, Any]) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, ctx)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            request = context.current()
            if request is not None and not request.recording:
                request.query_count += 1
                request.query_ms += elapsed_ms
                request.query_durations_ms.append(elapsed_ms)
                if elapsed_ms >= settings.SLOW_QUERY_THRESHOLD_MS:
                    request.slow_queries.append(
                        {
                            "sql": sql[:MAX_SQL_LENGTH],
                            "params": params if not many else None,
                            "ms": elapsed_ms,
                            "alias": self.alias,
                            "vendor": connections[self.alias].vendor,
                            "call_site": call_site(),
                        }
                    )


def install(sender: Any = None, connection: Any = None, **kwargs: Any) -> None:
    """Put a `QueryTimer` on a database connection, once (`connection_created` receiver).

    Installed for good rather than per request: entering `execute_wrapper` for every alias on
    every request costs more than the timer itself, and the timer records nothing outside a
    request or command context anyway.
    """
    if connection is not None and not any(isinstance(w, QueryTimer) for w in connection.execute_wrappers):
        connection.execute_wrappers.append(QueryTimer(connection.alias))


@contextlib.contextmanager
def timing_queries() -> Iterator[None]:
    """Make sure every open connection carries the timer (connections opened later get it from
    the `connection_created` signal)."""
    for alias in connections:
        conn = connections[alias]
        if conn.connection is not None:
            install(connection=conn)
    yield


def record_query_metrics(request: context.RequestContext) -> None:
    """Per-query latency histogram for the whole platform (the KPI "DB query p95")."""
    if not request.query_durations_ms:
        return
    from monitoring import histogram

    counts: dict[str, int] = {
        metrics.field("q", "all", "n"): len(request.query_durations_ms),
        metrics.field("q", "all", "us"): int(sum(request.query_durations_ms) * 1000),
    }
    for ms in request.query_durations_ms:
        name = metrics.field("q", "all", f"b{histogram.bucket_of(ms)}")
        counts[name] = counts.get(name, 0) + 1
    if request.slow_queries:
        counts[metrics.field("q", "all", "slow")] = len(request.slow_queries)
    metrics.record(counts)


def record_slow_queries(request: context.RequestContext) -> None:
    """Upsert the request's slow queries into their groups (after the response; these writes
    are not timed as the request's). Never raises: monitoring must not break what it watches."""
    slow_queries, request.slow_queries = request.slow_queries, []
    with context.own_writes():
        for slow in slow_queries:
            try:
                _upsert(slow, request.request_id)
            except Exception:  # a monitoring write failing is logged, not raised
                logger.warning("could not record a slow query", exc_info=True)


def _upsert(slow: dict[str, Any], request_id: str) -> None:
    normalised, fp = fingerprint_sql(slow["sql"])
    now = timezone.now()
    ms = float(slow["ms"])
    with transaction.atomic():
        updated = SlowQueryGroup.objects.filter(fingerprint=fp).update(
            count=F("count") + 1,
            total_ms=F("total_ms") + ms,
            max_ms=Greatest(F("max_ms"), ms),
            last_seen=now,
            call_site=slow["call_site"][:300],
            last_request_id=request_id,
        )
        if not updated:
            try:
                with transaction.atomic():
                    SlowQueryGroup.objects.create(
                        fingerprint=fp,
                        sql=normalised,
                        vendor=slow["vendor"],
                        total_ms=ms,
                        max_ms=ms,
                        first_seen=now,
                        last_seen=now,
                        call_site=slow["call_site"][:300],
                        last_request_id=request_id,
                    )
            except DatabaseError:  # created by another process meanwhile
                SlowQueryGroup.objects.filter(fingerprint=fp).update(count=F("count") + 1, last_seen=now)
    if slow["vendor"] == "postgresql" and slow["sql"].lstrip()[:6].upper() == "SELECT":
        schedule_explain(fp, slow["sql"], slow["params"], slow["alias"])


# --- EXPLAIN off the request path ------------------------------------------------------------


def _may_explain(fp: str) -> bool:
    """One plan per fingerprint per `EXPLAIN_EVERY_SECONDS`, across processes."""
    from django.core.cache import cache

    from mvpvalidator.cache import CacheUnavailable, call

    try:
        return bool(call(cache.add, f"mon:explain:{fp}", 1, EXPLAIN_EVERY_SECONDS))
    except CacheUnavailable:
        return False


_last_explain = 0.0
EXPLAIN_MIN_INTERVAL_SECONDS = 1.0


def schedule_explain(fp: str, sql: str, params: Any, alias: str) -> Any:
    """At most one plan per fingerprint per `EXPLAIN_EVERY_SECONDS` (across processes) and one
    per second in this process, so a storm of slow queries cannot become a storm of EXPLAINs."""
    global _last_explain
    now = time.monotonic()
    if now - _last_explain < EXPLAIN_MIN_INTERVAL_SECONDS or not _may_explain(fp):
        return None
    _last_explain = now
    return background.submit(capture_plan, fp, sql, params, alias)


def capture_plan(fp: str, sql: str, params: Any, alias: str) -> str:
    """Run `EXPLAIN` (never ANALYZE: the query is not executed) and store the plan."""
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        SlowQueryGroup.objects.filter(fingerprint=fp).update(plan=plan[:20000], plan_captured_at=timezone.now())
        return plan
    except Exception:
        logger.info("EXPLAIN failed for slow query %s", fp, exc_info=True)
        return ""
    finally:
        connection.close()
