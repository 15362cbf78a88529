"""Database facts the monitoring layer reports (the connection pool's usage), what tells a
database that is away from one that refused a statement, and the pool's short wait while the
server refuses connections."""

import threading
from typing import Any, Self, cast

import psycopg
from django.db import InterfaceError, OperationalError, connections

# How long a request waits for a pooled connection while the server refuses new ones (down,
# restarting). The configured pool timeout is for a busy pool, where a connection is about to
# be returned; a refusing server returns none, so waiting it out only holds the worker: under a
# sync gunicorn worker every request queued behind it waits it out too (a soak measured 8.1 s to
# a 503 with a 2 s pool timeout). Long enough for a connection the pool opens as the server
# comes back.
REFUSING_POOL_WAIT_SECONDS = 0.5

# SQLSTATE classes of a lost or refused connection: 08 (connection exception) and 57P
# (operator intervention: admin shutdown, crash shutdown, cannot connect now).
# https://www.postgresql.org/docs/current/errcodes-appendix.html
_UNREACHABLE_SQLSTATE_PREFIXES = ("08", "57P")


def database_unreachable(exc: BaseException | None) -> bool:
    """Whether `exc` says the database server cannot be used right now (down, restarting,
    no pooled connection in time), as opposed to a statement it refused (a timeout, a lock, a
    constraint). Only the former is worth a 503 and a retry, and only then is every further
    query of the request pointless."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    module = type(cause).__module__
    if module.startswith(("psycopg", "psycopg_pool")):
        # psycopg's client-side failures (connection refused, lost, pool timeout) carry no SQLSTATE.
        sqlstate = getattr(cause, "sqlstate", None)
        return sqlstate is None or sqlstate.startswith(_UNREACHABLE_SQLSTATE_PREFIXES)
    # SQLite: a file that cannot be opened; "database is locked" is contention, not absence.
    return "unable to open database" in str(exc)


def pool_stats(alias: str = "default") -> dict[str, Any] | None:
    """Usage of Django's psycopg pool for `alias`, or None when the database is not pooled."""
    connection = connections[alias]
    if connection.vendor != "postgresql" or not connection.settings_dict.get("OPTIONS", {}).get("pool"):
        return None
    pool = cast(Any, connection).pool  # only PostgreSQL's wrapper has one (checked above)
    if pool is None:
        return None
    raw = pool.get_stats()
    size = raw.get("pool_size", 0)
    available = raw.get("pool_available", 0)
    return {
        "min_size": pool.min_size,
        "max_size": pool.max_size,
        "size": size,
        "available": available,
        "in_use": size - available,
        "waiting": raw.get("requests_waiting", 0),
        "usage": round((size - available) / pool.max_size, 3) if pool.max_size else None,
        "requests": raw.get("requests_num", 0),
        "requests_queued": raw.get("requests_queued", 0),
        "requests_wait_ms": raw.get("requests_wait_ms", 0),
        "requests_errors": raw.get("requests_errors", 0),
        "connections_errors": raw.get("connections_errors", 0),
        "connections_lost": raw.get("connections_lost", 0),
    }


class _Reachability:
    """Whether the server refused this process's last connection attempt. The pool's own
    workers make the attempts (filling, replacing broken connections, growing), so the state
    follows the server within the pool's reconnection back-off, with no probe of ours."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.refusing = False

    def record(self, *, refusing: bool) -> None:
        with self._lock:
            if refusing == self.refusing:
                return
            self.refusing = refusing
        for alias in connections:
            _set_pool_wait(alias, refusing=refusing)


_reachability = _Reachability()


def _set_pool_wait(alias: str, *, refusing: bool) -> None:
    """The pool reads its `timeout` at every `getconn()` (Django asks with no timeout of its
    own), so setting it changes how long the next requests wait."""
    pool_options = connections.settings[alias].get("OPTIONS", {}).get("pool")
    if not isinstance(pool_options, dict) or pool_options.get("connection_class") is not TrackedConnection:
        return
    pool = cast(Any, connections[alias]).pool
    if pool is None:
        return
    configured = float(pool_options.get("timeout", 30.0))
    pool.timeout = min(configured, REFUSING_POOL_WAIT_SECONDS) if refusing else configured


class TrackedConnection(psycopg.Connection[Any]):
    """psycopg's connection, telling `_Reachability` whether the server accepted it. Set as the
    pool's `connection_class` (settings.DATABASES)."""

    @classmethod
    def connect(cls, conninfo: str = "", **kwargs: Any) -> Self:
        try:
            conn = super().connect(conninfo, **kwargs)
        except psycopg.OperationalError:
            _reachability.record(refusing=True)
            raise
        _reachability.record(refusing=False)
        return conn


def server_refusing() -> bool:
    """Whether this process's last connection attempt was refused (health and tests read it)."""
    return _reachability.refusing
