"""The database KPIs, driven from outside and read from `GET /api/monitoring/kpis`: sequential scans
of a table that matters lower index coverage on PostgreSQL, index lookups raise it; connections
opened per request follow the connection settings."""

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from django.db import close_old_connections, connection
from django.db.backends.signals import connection_created

from monitoring import db_kpis
from tests.kpi_api import kpi as read_kpi

TABLE = "kpi_probe_scans"


def kpi(kpi_id: str) -> dict:
    return read_kpi(kpi_id)


def flush_statistics() -> None:
    """The backend's scan counts reach the statistics views when its transaction ends (PG 15+:
    asked for explicitly); the reader's snapshot of them is dropped so the next read sees them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")


@pytest.mark.django_db
def test_index_coverage_is_not_measured_on_sqlite():
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite answer")
    row = kpi("index_coverage")
    assert row["value"] is None and row["pass"] is None
    assert row["note"] == "not measured on SQLite (no planner statistics)"


@pytest.fixture
def scanned_table(transactional_db) -> Iterator[str]:
    """A table big enough to matter, without an index on `label`; dropped afterwards."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE kpi_probe_scans (id integer PRIMARY KEY, label text NOT NULL)")
        cursor.execute("INSERT INTO kpi_probe_scans SELECT g, 'row ' || g FROM generate_series(1, 5000) AS g")
        cursor.execute("ANALYZE kpi_probe_scans")
    try:
        yield TABLE
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS kpi_probe_scans")


@pytest.mark.postgres
def test_sequential_scans_lower_index_coverage_and_name_the_table(scanned_table):
    with connection.cursor() as cursor:
        # The statistics are cumulative: what the rest of the suite scanned would decide the
        # figure. From zero, only this test's scans count.
        cursor.execute("SELECT pg_stat_reset()")
        for i in range(40):
            cursor.execute("SELECT id FROM kpi_probe_scans WHERE label = %s", [f"row {i}"])
    flush_statistics()

    row = kpi("index_coverage")
    assert row["value"] is not None and row["value"] < 0.95 and row["pass"] is False
    listed = {t["table"]: t for t in row["detail"]["tables"]}
    assert TABLE in listed
    assert listed[TABLE]["seq_scan"] >= 40 and listed[TABLE]["live_rows"] >= 1000
    assert listed[TABLE]["size_bytes"] > 8 * 8192 and listed[TABLE]["size"].endswith("kB")
    assert "reset" in row["note"] and "since" in row["detail"]

    # Index lookups (the primary key) raise it over the bar; the table is no longer named.
    with connection.cursor() as cursor:
        for i in range(1, 1200):
            cursor.execute("SELECT label FROM kpi_probe_scans WHERE id = %s", [i])
    flush_statistics()
    row = kpi("index_coverage")
    assert TABLE not in {t["table"] for t in row["detail"]["tables"]}
    assert row["value"] >= 0.95 and row["pass"] is True


@pytest.mark.postgres
def test_small_tables_do_not_count(transactional_db):
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE kpi_probe_tiny (id integer PRIMARY KEY, label text)")
        try:
            cursor.execute("INSERT INTO kpi_probe_tiny SELECT g, 'x' FROM generate_series(1, 20) AS g")
            for _ in range(50):
                cursor.execute("SELECT id FROM kpi_probe_tiny WHERE label = 'x'")
            flush_statistics()
            row = kpi("index_coverage")
            assert "kpi_probe_tiny" not in {t["table"] for t in row["detail"]["tables"]}
            assert "1000 live rows" in row["detail"]["rule"]
        finally:
            cursor.execute("DROP TABLE kpi_probe_tiny")


# --- Connections opened per request ----------------------------------------------------------------


def serve(client, path: str, times: int) -> None:
    """Requests as a server runs them: the end of each closes the connections that are past
    their age (the WSGI server's `request_finished` does it; the test client does not)."""
    for _ in range(times):
        assert client.get(path).status_code == 200
        close_old_connections()


@pytest.fixture
def without_pool(monkeypatch):
    """Plain server connections, so CONN_MAX_AGE decides: the pool is set aside for the test."""
    connection.close()
    options = {k: v for k, v in connection.settings_dict["OPTIONS"].items() if k != "pool"}
    monkeypatch.setitem(connection.settings_dict, "OPTIONS", options)
    yield monkeypatch
    connection.close()


@pytest.mark.postgres
def test_connections_opened_per_request_follow_the_connection_age(transactional_db, client, user, without_pool):
    client.force_login(user)
    connection.close()  # signing in opened one outside a request
    without_pool.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)
    serve(client, "/projects/", 10)
    closing = kpi("connection_efficiency")
    assert closing["detail"]["requests"] == 10
    assert closing["value"] == pytest.approx(1.0)
    assert closing["pass"] is None  # tracked, no bar

    without_pool.setitem(connection.settings_dict, "CONN_MAX_AGE", None)
    connection.close()
    serve(client, "/projects/", 30)
    persistent = kpi("connection_efficiency")
    # One more connection for 30 more requests, and the first reading was a request too: 11 / 41.
    assert persistent["detail"]["requests"] == 41
    assert persistent["detail"]["connections_opened"] == 11
    assert persistent["value"] == pytest.approx(11 / 41)


@pytest.mark.postgres
def test_pooled_connections_are_reused_not_opened(transactional_db, client, user):
    client.force_login(user)
    serve(client, "/projects/", 5)
    before = kpi("connection_efficiency")["detail"]
    serve(client, "/projects/", 20)
    after = kpi("connection_efficiency")
    assert after["detail"]["connections_reused"] - before["connections_reused"] >= 19
    assert after["detail"]["connections_opened"] - before["connections_opened"] <= 1
    assert after["detail"]["pool"] is not None and "requests_wait_ms" in after["detail"]["pool"]


class _Driver:
    """A driver connection (weak references allowed, as psycopg's and sqlite3's)."""


@pytest.mark.django_db
def test_connections_outside_requests_and_reused_ones_are_counted_apart():
    raw = _Driver()
    wrapper = SimpleNamespace(connection=raw)
    db_kpis.connection_opened(sender=type(connection), connection=wrapper)  # no request: counted apart
    db_kpis.connection_opened(sender=type(connection), connection=wrapper)  # the same one lent again
    detail = kpi("connection_efficiency")["detail"]
    assert detail["connections_opened_outside_requests"] == 1
    assert detail["connections_reused"] == 1
    assert detail["connections_opened"] == 0
    assert db_kpis.connection_opened in [ref() for _, ref, *_ in connection_created.receivers]
