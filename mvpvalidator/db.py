"""Database facts the monitoring layer reports: the connection pool's usage."""

from typing import Any

from django.db import connections


def pool_stats(alias: str = "default") -> dict[str, Any] | None:
    """Usage of Django's psycopg pool for `alias`, or None when the database is not pooled."""
    connection = connections[alias]
    if connection.vendor != "postgresql" or not connection.settings_dict.get("OPTIONS", {}).get("pool"):
        return None
    pool = connection.pool
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
