"""`manage.py optimize_db` and the maintenance service behind it, on SQLite and PostgreSQL.

Tests whose ANALYZE or VACUUM must really run (and be seen by the statistics) are
transactional: pytest-django otherwise wraps each test in a transaction, and VACUUM refuses to
run inside one.
"""

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from monitoring.db_maintenance import (
    ForeignKeyColumn,
    IndexCatalog,
    MaintenanceRefused,
    find_unindexed_foreign_keys,
    find_unused_indexes,
    optimize_database,
    project_tables,
    read_index_catalog,
    unindexed_foreign_keys,
)
from projects.models import Project
from tests.factories import ProjectFactory

PROJECT_TABLES = ("projects_project", "projects_prototype", "projects_landingpage", "projects_signup")
REPORT_KEYS = {
    "vendor",
    "dry_run",
    "vacuum",
    "actions",
    "tables",
    "unused_indexes",
    "unindexed_foreign_keys",
    "duration_ms",
}
STATE_CHANGING = ("ANALYZE", "VACUUM", "PRAGMA OPTIMIZE")


def run_command(*args: str) -> str:
    out = StringIO()
    call_command("optimize_db", *args, stdout=out)
    return out.getvalue()


@contextmanager
def recorded_sql() -> Iterator[list[str]]:
    statements: list[str] = []

    def record(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield statements


def pg_table_stats(table: str) -> tuple[int, int, Any]:
    """(analyze_count, vacuum_count, last_analyze) as the statistics system sees them now."""
    with connection.cursor() as cursor:
        # Statistics read in a transaction are cached for it; start from a fresh snapshot.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT analyze_count, vacuum_count, last_analyze FROM pg_stat_user_tables WHERE relname = %s", [table]
        )
        return cursor.fetchone()


def sqlite_stat_tables() -> set[str]:
    """Tables ANALYZE has written statistics for (sqlite_stat1 exists once ANALYZE ran)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return set()
        cursor.execute("SELECT DISTINCT tbl FROM sqlite_stat1")
        return {table for (table,) in cursor.fetchall()}


# --- The command ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_command_analyzes_every_project_table_with_one_progress_line_each():
    out = run_command()

    tables = project_tables()
    bars = [line for line in out.splitlines() if line.startswith("[")]
    assert [bar.rsplit(" ", 1)[1] for bar in bars] == tables
    assert bars[-1] == f"[{'#' * 20}] {len(tables)}/{len(tables)} {tables[-1]}"
    summary = out.split("Tables", 1)[1]
    for table in PROJECT_TABLES:
        assert table in summary
    assert f"{len(tables) + (1 if connection.vendor == 'sqlite' else 0)} statements run" in out
    assert "Foreign keys without an index" in out and "Done in" in out


@pytest.mark.django_db(transaction=True)
def test_report_counts_rows_and_sizes_of_project_tables():
    ProjectFactory.create_batch(3)

    report = optimize_database()

    by_name = {table.name: table for table in report.tables}
    assert set(PROJECT_TABLES) <= set(by_name)
    # On PostgreSQL an estimate (reltuples), exact for a table this small once analyzed.
    assert by_name["projects_project"].rows == 3
    project = by_name["projects_project"]
    if connection.vendor == "postgresql" or project.total_bytes is not None:
        assert project.total_bytes > project.index_bytes > 0


@pytest.mark.django_db(transaction=True)
def test_dry_run_changes_nothing_and_lists_the_analyze_statements():
    ProjectFactory()
    stats_before = pg_table_stats("projects_project") if connection.vendor == "postgresql" else None

    with recorded_sql() as statements:
        out = run_command("--dry-run")

    assert not [sql for sql in statements if sql.upper().startswith(STATE_CHANGING)]
    assert 'would run: ANALYZE "projects_project"' in out
    assert 'would run: ANALYZE "projects_signup"' in out
    assert "dry run: nothing was changed" in out
    if stats_before is not None:
        assert pg_table_stats("projects_project") == stats_before


@pytest.mark.django_db(transaction=True)
def test_dry_run_vacuum_lists_vacuum_without_running_it():
    with recorded_sql() as statements:
        report = optimize_database(vacuum=True, dry_run=True)

    assert not [sql for sql in statements if sql.upper().startswith(STATE_CHANGING)]
    if connection.vendor == "postgresql":
        assert 'VACUUM (ANALYZE) "projects_signup"' in report.actions
    else:
        assert report.actions[0] == "VACUUM"
    assert report.dry_run and report.vacuum


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_statistics_move_only_on_a_real_run():
    ProjectFactory()
    analyzed, vacuumed, last_analyze = pg_table_stats("projects_signup")

    optimize_database(dry_run=True)
    assert pg_table_stats("projects_signup") == (analyzed, vacuumed, last_analyze)

    optimize_database()
    after_analyze = pg_table_stats("projects_signup")
    assert after_analyze[0] == analyzed + 1
    assert after_analyze[1] == vacuumed
    assert last_analyze is None or after_analyze[2] > last_analyze


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_vacuum_runs_per_table_outside_a_transaction():
    analyzed, vacuumed, _ = pg_table_stats("projects_project")

    out = run_command("--vacuum")

    assert pg_table_stats("projects_project")[:2] == (analyzed + 1, vacuumed + 1)
    assert "projects_project" in out


@pytest.mark.django_db(transaction=True)
def test_sqlite_analyze_writes_statistics_and_vacuum_empties_the_freelist():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's own statistics table and freelist")
    projects = ProjectFactory.create_batch(2)
    # Free some pages: VACUUM is what gives them back.
    Project.objects.bulk_create(
        [
            Project(
                owner=projects[0].owner,
                name=f"Bulk {i}",
                idea_description="x" * 1500,
                price_point=1,
                business_model="saas",
            )
            for i in range(200)
        ]
    )
    Project.objects.filter(name__startswith="Bulk").delete()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA freelist_count")
        assert cursor.fetchone()[0] > 0

        out = run_command("--vacuum")

        cursor.execute("PRAGMA freelist_count")
        assert cursor.fetchone()[0] == 0
    assert "projects_project" in sqlite_stat_tables()
    assert "projects_project" in out


@pytest.mark.django_db
def test_vacuum_inside_a_transaction_is_refused_with_a_command_error():
    # pytest-django holds a transaction open here, as a caller's transaction.atomic() would.
    with pytest.raises(CommandError, match="transaction block"):
        run_command("--vacuum")
    with pytest.raises(MaintenanceRefused):
        optimize_database(vacuum=True)
    # Listing what would run is still allowed.
    assert optimize_database(vacuum=True, dry_run=True).actions


@pytest.mark.django_db
def test_json_output_parses_and_has_every_key():
    out = run_command("--json", "--dry-run")

    body = json.loads(out)
    assert set(body) == REPORT_KEYS
    assert body["vendor"] == connection.vendor
    assert body["dry_run"] is True and body["vacuum"] is False
    assert {table["name"] for table in body["tables"]} >= set(PROJECT_TABLES)
    assert set(body["tables"][0]) == {"name", "rows", "total_bytes", "index_bytes"}
    assert isinstance(body["duration_ms"], int)
    if connection.vendor == "sqlite":
        assert body["unused_indexes"] == []


# --- Index findings -------------------------------------------------------------------------


@pytest.fixture
def probe_table(db) -> str:
    """A table with three foreign keys: one leads an index, one is only second in it, one has
    only a partial index. Created inside the test's transaction, so it disappears with it."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE TABLE optdb_probe (
                id integer PRIMARY KEY,
                project_id bigint NOT NULL REFERENCES projects_project (id),
                landing_page_id bigint NOT NULL REFERENCES projects_landingpage (id),
                signup_id bigint REFERENCES projects_signup (id)
            )
            """
        )
        cursor.execute("CREATE INDEX optdb_probe_page_project ON optdb_probe (landing_page_id, project_id)")
        cursor.execute("CREATE INDEX optdb_probe_recent_signup ON optdb_probe (signup_id) WHERE id > 1000")
        cursor.execute("CREATE UNIQUE INDEX optdb_probe_unique ON optdb_probe (signup_id, landing_page_id)")
    return "optdb_probe"


def test_unindexed_foreign_keys_are_those_leading_no_index(probe_table):
    # The unique index leads with signup_id: drop it to see the partial index judged alone.
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX optdb_probe_unique")

    found = find_unindexed_foreign_keys([probe_table])

    assert found == [
        {"table": "optdb_probe", "column": "project_id", "references": "projects_project.id"},
        {"table": "optdb_probe", "column": "signup_id", "references": "projects_signup.id"},
    ]


def test_a_unique_index_covers_its_leading_foreign_key(probe_table):
    assert [fk["column"] for fk in find_unindexed_foreign_keys([probe_table])] == ["project_id"]


@pytest.mark.django_db
def test_project_foreign_keys_are_all_indexed_and_seen():
    tables = project_tables()
    catalog = read_index_catalog(tables)

    # The catalog really read the foreign keys and their indexes (an empty result is no proof).
    assert ForeignKeyColumn("projects_signup", "project_id", "projects_project.id") in catalog.foreign_keys
    assert ForeignKeyColumn("projects_project", "owner_id", "security_user.id") in catalog.foreign_keys
    assert ("projects_signup", "project_id") in catalog.leading_columns
    assert unindexed_foreign_keys(catalog) == []
    assert optimize_database(dry_run=True).unindexed_foreign_keys == []


def test_detection_on_catalog_data_ignores_indexes_led_by_another_column():
    catalog = IndexCatalog(
        foreign_keys=[
            ForeignKeyColumn("b_child", "parent_id", "a_parent.id"),
            ForeignKeyColumn("a_child", "parent_id", "a_parent.id"),
            ForeignKeyColumn("a_child", "owner_id", "user.id"),
        ],
        leading_columns={("a_child", "owner_id"), ("b_child", "id")},
    )

    assert unindexed_foreign_keys(catalog) == [
        {"table": "a_child", "column": "parent_id", "references": "a_parent.id"},
        {"table": "b_child", "column": "parent_id", "references": "a_parent.id"},
    ]


@pytest.mark.postgres
def test_postgres_unused_indexes_list_plain_never_scanned_indexes_only(probe_table):
    unused = find_unused_indexes([probe_table])

    # The unique index enforces a rule even when never read: it is not a candidate to drop.
    assert [index["index"] for index in unused] == ["optdb_probe_page_project", "optdb_probe_recent_signup"]
    assert all(index["scans"] == 0 and index["bytes"] > 0 and index["table"] == "optdb_probe" for index in unused)


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_report_never_offers_unique_or_primary_indexes():
    report = optimize_database(dry_run=True)

    names = {index["index"] for index in report.unused_indexes}
    assert "projects_project_pkey" not in names
    assert "signup_email_unique_per_page" not in names
    assert all(set(index) == {"table", "index", "bytes", "scans"} for index in report.unused_indexes)
