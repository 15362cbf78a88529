"""The database KPIs: index coverage (PostgreSQL's statistics views) and connection efficiency
(connections opened per request, and the pool's waits).

Index coverage is idx_scan ÷ (idx_scan + seq_scan) summed over the tables that matter, from
`pg_stat_user_tables`. A table matters once it holds at least MIN_LIVE_ROWS live rows or
MIN_PAGES pages of heap: the planner rightly reads a tiny table sequentially (one page read beats
an index descent), so counting those would only punish correct plans. Tables under the bar are
named with their size (`pg_total_relation_size`: heap, indexes and TOAST).

The counters are cumulative since the statistics were last reset (`pg_stat_database.stats_reset`,
shown as `since`; NULL there means since the cluster was created), so the figure is a long-run
average: a new sequential-scan habit shows slowly on an old database. Resetting the counters
(`SELECT pg_stat_reset()`) after fixing a query starts a fresh measure. The history (sparkline)
is not kept for this KPI: per-hour deltas would need one process to snapshot the counters each
hour (the hourly roll-up is where that belongs), since every process subtracting its own last
reading would count the same scans several times.

On SQLite there is no planner statistics view: the value is None with a note.

Connection efficiency: every time Django gets a database connection (`connection_created`), this
module counts a KPI counter: "db.connections_opened" when the underlying connection is new to
this process (a fresh server connection: every request with CONN_MAX_AGE=0 and no pool), or
"db.connections_reused" when the psycopg pool lent one it already had. Connections opened outside
a request (health-check threads, commands, tasks) are counted apart as
"db.connections_opened_outside_requests", so the figure per request is the requests' own. The
requests are the ones the request metrics count (`monitoring.metrics`, series "r"); the pool's
waits come from psycopg's pool statistics (this process's, since it started).
"""

import weakref
from typing import Any

from django.db import DatabaseError, connection
from django.db.backends.signals import connection_created

from monitoring import context, kpi_counters, kpi_readers, kpis
from mvpvalidator.db import pool_stats

BAR = 0.95
# A table matters from this many live rows, or this many heap pages (8 kB each).
MIN_LIVE_ROWS = 1000
MIN_PAGES = 8

OPENED = "db.connections_opened"
REUSED = "db.connections_reused"
OPENED_OUTSIDE = "db.connections_opened_outside_requests"

_TABLES_SQL = """
SELECT s.relname,
       s.seq_scan,
       COALESCE(s.idx_scan, 0),
       s.n_live_tup,
       pg_relation_size(s.relid) / current_setting('block_size')::int,
       pg_total_relation_size(s.relid)
  FROM pg_stat_user_tables s
 WHERE s.schemaname = current_schema()
"""
_RESET_SQL = "SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()"


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"  # pragma: no cover - the loop returns


def index_coverage() -> kpis.Reading:
    """The share of scans of the tables that matter that used an index, with the tables under
    the bar (coverage, scans, rows, size) in `detail["tables"]`."""
    if connection.vendor != "postgresql":
        return kpis.Reading(None, note="not measured on SQLite (no planner statistics)")
    try:
        with connection.cursor() as cursor:
            cursor.execute(_TABLES_SQL)
            rows = cursor.fetchall()
            cursor.execute(_RESET_SQL)
            reset = cursor.fetchone()
    except DatabaseError as exc:
        return kpis.Reading(None, note=f"statistics not readable ({type(exc).__name__})")
    seq_total = idx_total = 0
    under: list[dict[str, Any]] = []
    counted = 0
    for name, seq_scan, idx_scan, live_rows, pages, total_bytes in rows:
        if live_rows < MIN_LIVE_ROWS and pages < MIN_PAGES:
            continue
        counted += 1
        seq_total += seq_scan
        idx_total += idx_scan
        scans = seq_scan + idx_scan
        coverage = idx_scan / scans if scans else None
        if coverage is not None and coverage < BAR:
            under.append(
                {
                    "table": name,
                    "coverage": round(coverage, 4),
                    "seq_scan": seq_scan,
                    "idx_scan": idx_scan,
                    "live_rows": live_rows,
                    "size_bytes": total_bytes,
                    "size": _size(total_bytes),
                }
            )
    under.sort(key=lambda t: (t["coverage"], -t["size_bytes"]))
    since = reset[0].isoformat() if reset and reset[0] else None
    scans = seq_total + idx_total
    detail = {
        "tables": under,
        "tables_counted": counted,
        "idx_scan": idx_total,
        "seq_scan": seq_total,
        "since": since,
        "rule": f"tables with at least {MIN_LIVE_ROWS} live rows or {MIN_PAGES} pages",
    }
    note = "cumulative since the statistics were last reset" + ("" if since else " (never: since the cluster began)")
    if not scans:
        return kpis.Reading(None, detail, note="no scans of a table that matters yet")
    return kpis.Reading(idx_total / scans, detail, note=note)


@kpis.reader("index_coverage")
def read_index_coverage(hours: int) -> kpis.Reading:
    return index_coverage()


# --- Connection efficiency ---------------------------------------------------------------------

# The driver connections this process has seen: a pooled one lent again is not a new connection.
_seen: "weakref.WeakSet[Any]" = weakref.WeakSet()


def connection_opened(sender: Any = None, connection: Any = None, **kwargs: Any) -> None:
    """`connection_created` receiver: count the connection as opened or reused."""
    raw = getattr(connection, "connection", None)
    try:
        reused = raw is not None and raw in _seen
        if raw is not None and not reused:
            _seen.add(raw)
    except TypeError:  # a driver connection without weak references: count it as new
        reused = False
    if reused:
        kpi_counters.count(REUSED)
        return
    ctx = context.current()
    kpi_counters.count(OPENED if ctx is not None and ctx.method else OPENED_OUTSIDE)


connection_created.connect(connection_opened, dispatch_uid="monitoring.db_kpis.connection_opened")


def _requests_per_hour(hours: int) -> list[int]:
    """Requests the request metrics counted per hour (static files left out, as in the other
    request KPIs), oldest first."""
    # The evaluation's own read of the hour buckets (one for every KPI), not one more per reader.
    return [kpi_readers.requests_overall(fields).get("n", 0) for fields in kpi_counters.hour_fields(hours)]


def _pool_waits() -> dict[str, Any] | None:
    stats = pool_stats()
    if stats is None:
        return None
    return {
        "waiting_now": stats["waiting"],
        "requests": stats["requests"],
        "requests_queued": stats["requests_queued"],
        "requests_wait_ms": stats["requests_wait_ms"],
        "requests_errors": stats["requests_errors"],
        "size": stats["size"],
        "max_size": stats["max_size"],
        "scope": "this process, since it started",
    }


@kpis.reader("connection_efficiency")
def read_connection_efficiency(hours: int) -> kpis.Reading:
    requests = sum(_requests_per_hour(hours))
    opened = kpi_counters.counter_total(OPENED, hours=hours)
    detail: dict[str, Any] = {
        "requests": requests,
        "connections_opened": opened,
        "connections_reused": kpi_counters.counter_total(REUSED, hours=hours),
        "connections_opened_outside_requests": kpi_counters.counter_total(OPENED_OUTSIDE, hours=hours),
        "pool": _pool_waits(),
    }
    if not requests:
        return kpis.Reading(None, detail, note="no requests in the window")
    return kpis.Reading(opened / requests, detail, note="new database connections per request")


@kpis.history("connection_efficiency")
def read_connection_efficiency_hourly(hours: int) -> list[float | None]:
    opened = kpi_counters.counter_hourly(OPENED, hours=hours)
    return [o / r if r else None for o, r in zip(opened, _requests_per_hour(hours), strict=True)]
