"""Database facts the monitoring layer reports (the connection pool's usage), and what tells a
database that is away from one that refused a statement."""

from typing import Any, cast

from django.db import InterfaceError, OperationalError, connections

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
