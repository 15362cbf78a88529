"""Routine database upkeep for operators: refresh the planner's statistics (ANALYZE), optionally
reclaim space (VACUUM), and report what the tables cost and which indexes are missing or idle.

It exists because the indexes declared in `Meta.indexes` only help when the planner's statistics
are current, and because two index problems stay invisible until a table grows: a foreign key
without an index (every delete of the referenced row scans the child table) and an index nobody
reads (it still slows every write). The same service backs `manage.py optimize_db` and the staff
endpoint `POST /api/monitoring/optimize-db`.

Only this project's tables are touched: those of installed models that exist in the database.
"""

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from mvpvalidator.exceptions import ConflictError

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]


class MaintenanceRefused(ConflictError):
    """The maintenance asked for cannot run in the connection's current state."""

    default_code = "maintenance_refused"


@dataclass
class TableReport:
    name: str
    rows: int | None
    total_bytes: int | None
    index_bytes: int | None


@dataclass
class OptimizeReport:
    vendor: str
    dry_run: bool
    vacuum: bool
    actions: list[str]
    tables: list[TableReport]
    unused_indexes: list[dict[str, Any]]
    unindexed_foreign_keys: list[dict[str, Any]]
    duration_ms: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ForeignKeyColumn:
    """A single-column foreign key: `table.column` points at `references` ("table.column")."""

    table: str
    column: str
    references: str


@dataclass
class IndexCatalog:
    """What the detection needs from the catalog, independent of the vendor."""

    foreign_keys: list[ForeignKeyColumn] = field(default_factory=list)
    # (table, column) pairs that lead a usable (complete, non-expression) index.
    leading_columns: set[tuple[str, str]] = field(default_factory=set)


def unindexed_foreign_keys(catalog: IndexCatalog) -> list[dict[str, str]]:
    """Foreign keys whose column leads no index.

    Only the leading column counts: an index on (a, fk) cannot find the rows of one fk value,
    and a partial index cannot find all of them, so neither serves the lookup a delete of the
    referenced row (or a join from it) makes.
    """
    return [
        {"table": fk.table, "column": fk.column, "references": fk.references}
        for fk in sorted(catalog.foreign_keys, key=lambda fk: (fk.table, fk.column))
        if (fk.table, fk.column) not in catalog.leading_columns
    ]


def project_tables(*, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Tables of installed models (auto-created many-to-many tables included) that exist."""
    connection = connections[using]
    return sorted(connection.introspection.django_table_names(only_existing=True, include_views=False))


def read_index_catalog(tables: Sequence[str], *, using: str = DEFAULT_DB_ALIAS) -> IndexCatalog:
    """The single-column foreign keys of `tables` and the columns that lead their indexes."""
    connection = connections[using]
    reader = _pg_index_catalog if connection.vendor == "postgresql" else _sqlite_index_catalog
    return reader(connection, tables)


def find_unindexed_foreign_keys(tables: Sequence[str], *, using: str = DEFAULT_DB_ALIAS) -> list[dict[str, str]]:
    """Foreign keys of `tables` that no index leads with, read from the database's catalog."""
    return unindexed_foreign_keys(read_index_catalog(tables, using=using))


def find_unused_indexes(tables: Sequence[str], *, using: str = DEFAULT_DB_ALIAS) -> list[dict[str, Any]]:
    """Plain indexes of `tables` never scanned since the statistics were reset (PostgreSQL
    only: SQLite keeps no usage counters, so the answer there is always empty)."""
    connection = connections[using]
    return _pg_unused_indexes(connection, tables) if connection.vendor == "postgresql" else []


def optimize_database(
    *, vacuum: bool = False, dry_run: bool = False, progress: Progress | None = None
) -> OptimizeReport:
    """ANALYZE this project's tables (VACUUM them too when asked) and report on them.

    With `dry_run` nothing that changes state runs; the report lists the statements that would.
    VACUUM cannot run inside a transaction block, so it is refused (MaintenanceRefused) when
    the caller holds one open.
    """
    started = time.monotonic()
    connection = connections[DEFAULT_DB_ALIAS]
    vendor = connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        raise MaintenanceRefused(f"No maintenance is defined for the {vendor} backend.", code="unsupported_vendor")
    if vacuum and not dry_run and (connection.in_atomic_block or not connection.get_autocommit()):
        raise MaintenanceRefused(
            "VACUUM cannot run inside a transaction block; call this outside transaction.atomic().",
            code="vacuum_in_transaction",
        )
    tables = project_tables()
    plan = _pg_plan if vendor == "postgresql" else _sqlite_plan
    actions = _run(connection, plan(connection, tables, vacuum=vacuum), dry_run=dry_run, progress=progress)
    table_reports = (_pg_table_reports if vendor == "postgresql" else _sqlite_table_reports)(connection, tables)
    report = OptimizeReport(
        vendor=vendor,
        dry_run=dry_run,
        vacuum=vacuum,
        actions=actions,
        tables=table_reports,
        unused_indexes=find_unused_indexes(tables),
        unindexed_foreign_keys=find_unindexed_foreign_keys(tables),
        duration_ms=round((time.monotonic() - started) * 1000),
    )
    logger.info(
        "optimize_database vendor=%s dry_run=%s vacuum=%s tables=%d actions=%d duration_ms=%d",
        vendor,
        dry_run,
        vacuum,
        len(tables),
        len(actions),
        report.duration_ms,
    )
    return report


# --- Running the plan -----------------------------------------------------------------------

# One step of a plan: the statements to run, and the table to report to `progress` after them
# (None for whole-database statements).
Step = tuple[list[str], str | None]


def _run(
    connection: BaseDatabaseWrapper, steps: Iterable[Step], *, dry_run: bool, progress: Progress | None
) -> list[str]:
    actions: list[str] = []
    # Each statement runs on its own in the connection's autocommit mode (no atomic block):
    # VACUUM refuses to run inside a transaction block on both vendors.
    with connection.cursor() as cursor:
        for statements, table in steps:
            for sql in statements:
                actions.append(sql)
                if not dry_run:
                    cursor.execute(sql)
            if table is not None and progress is not None:
                progress(table)
    return actions


def _pg_plan(connection: BaseDatabaseWrapper, tables: Sequence[str], *, vacuum: bool) -> list[Step]:
    # VACUUM (ANALYZE) already refreshes the statistics: a separate ANALYZE would read the
    # table twice.
    verb = "VACUUM (ANALYZE)" if vacuum else "ANALYZE"
    return [([f"{verb} {connection.ops.quote_name(table)}"], table) for table in tables]


def _sqlite_plan(connection: BaseDatabaseWrapper, tables: Sequence[str], *, vacuum: bool) -> list[Step]:
    # SQLite vacuums the whole file at once; do it first so ANALYZE sees the rebuilt pages.
    steps: list[Step] = [(["VACUUM"], None)] if vacuum else []
    steps += [([f"ANALYZE {connection.ops.quote_name(table)}"], table) for table in tables]
    # https://sqlite.org/pragma.html#pragma_optimize: recommended after schema changes and
    # before closing long-lived connections; cheap when there is nothing to do.
    steps.append((["PRAGMA optimize"], None))
    return steps


# --- PostgreSQL reports ---------------------------------------------------------------------


def _pg_table_reports(connection: BaseDatabaseWrapper, tables: Sequence[str]) -> list[TableReport]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid), pg_indexes_size(c.oid)
            FROM pg_catalog.pg_class c
            WHERE c.relkind IN ('r', 'p') AND c.relname = ANY(%s) AND pg_catalog.pg_table_is_visible(c.oid)
            ORDER BY c.relname
            """,
            [list(tables)],
        )
        # reltuples is -1 until the table is first analyzed or vacuumed: unknown, not empty.
        return [
            TableReport(name=name, rows=rows if rows >= 0 else None, total_bytes=total, index_bytes=indexes)
            for name, rows, total, indexes in cursor.fetchall()
        ]


def _pg_unused_indexes(connection: BaseDatabaseWrapper, tables: Sequence[str]) -> list[dict[str, Any]]:
    # idx_scan counts since the statistics were last reset (pg_stat_reset) or the cluster was
    # created: an index is only "unused" over that window. Unique and primary-key indexes
    # enforce constraints even when never read, so they are never candidates.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT s.relname, s.indexrelname, pg_relation_size(s.indexrelid), s.idx_scan
            FROM pg_catalog.pg_stat_user_indexes s
            JOIN pg_catalog.pg_index i ON i.indexrelid = s.indexrelid
            WHERE s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary
              AND s.relname = ANY(%s) AND pg_catalog.pg_table_is_visible(s.relid)
            ORDER BY pg_relation_size(s.indexrelid) DESC, s.relname, s.indexrelname
            """,
            [list(tables)],
        )
        return [
            {"table": table, "index": index, "bytes": size, "scans": scans}
            for table, index, size, scans in cursor.fetchall()
        ]


def _pg_index_catalog(connection: BaseDatabaseWrapper, tables: Sequence[str]) -> IndexCatalog:
    catalog = IndexCatalog()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.relname, a.attname, rt.relname || '.' || ra.attname
            FROM pg_catalog.pg_constraint c
            JOIN pg_catalog.pg_class t ON t.oid = c.conrelid
            JOIN pg_catalog.pg_class rt ON rt.oid = c.confrelid
            JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            JOIN pg_catalog.pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1]
            WHERE c.contype = 'f' AND cardinality(c.conkey) = 1
              AND t.relname = ANY(%s) AND pg_catalog.pg_table_is_visible(t.oid)
            """,
            [list(tables)],
        )
        catalog.foreign_keys = [ForeignKeyColumn(*row) for row in cursor.fetchall()]
        # indkey[0] is 0 for an expression, which matches no attribute; a partial index
        # (indpred) or one left invalid by a failed CREATE INDEX CONCURRENTLY does not count.
        cursor.execute(
            """
            SELECT t.relname, a.attname
            FROM pg_catalog.pg_index i
            JOIN pg_catalog.pg_class t ON t.oid = i.indrelid
            JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
            WHERE i.indpred IS NULL AND i.indisvalid
              AND t.relname = ANY(%s) AND pg_catalog.pg_table_is_visible(t.oid)
            """,
            [list(tables)],
        )
        catalog.leading_columns = {(table, column) for table, column in cursor.fetchall()}
    return catalog


# --- SQLite reports -------------------------------------------------------------------------


def _sqlite_table_reports(connection: BaseDatabaseWrapper, tables: Sequence[str]) -> list[TableReport]:
    sizes: dict[str, tuple[int, int]] = {}
    with connection.cursor() as cursor:
        # dbstat is a compile-time option of SQLite (https://sqlite.org/dbstat.html): without
        # it, sizes are reported as unknown.
        cursor.execute("SELECT 1 FROM pragma_compile_options WHERE compile_options = 'ENABLE_DBSTAT_VTAB'")
        if cursor.fetchone() is not None:
            cursor.execute(
                """
                SELECT m.tbl_name, SUM(s.pgsize), SUM(CASE WHEN m.type = 'index' THEN s.pgsize ELSE 0 END)
                FROM dbstat s JOIN sqlite_master m ON m.name = s.name
                GROUP BY m.tbl_name
                """
            )
            sizes = {name: (total, indexes) for name, total, indexes in cursor.fetchall()}
        reports = []
        for table in tables:
            # Table names come from Django's own introspection and are quoted.
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            (rows,) = cursor.fetchone()
            total, indexes = sizes.get(table, (None, None))
            reports.append(TableReport(name=table, rows=rows, total_bytes=total, index_bytes=indexes))
    return reports


def _sqlite_index_catalog(connection: BaseDatabaseWrapper, tables: Sequence[str]) -> IndexCatalog:
    catalog = IndexCatalog()
    with connection.cursor() as cursor:
        for table in tables:
            # The pragma table-valued functions take parameters; the PRAGMA statements do not.
            cursor.execute('SELECT "id", "seq", "table", "from", "to" FROM pragma_foreign_key_list(%s)', [table])
            rows = cursor.fetchall()
            sizes: dict[int, int] = {}
            for fk_id, *_ in rows:
                sizes[fk_id] = sizes.get(fk_id, 0) + 1
            catalog.foreign_keys += [
                ForeignKeyColumn(table, column, f"{target}.{target_column or 'rowid'}")
                for fk_id, _seq, target, column, target_column in rows
                if sizes[fk_id] == 1
            ]
            # An INTEGER PRIMARY KEY is the rowid itself and has no entry in index_list.
            cursor.execute("SELECT name FROM pragma_table_info(%s) WHERE pk = 1", [table])
            catalog.leading_columns |= {(table, name) for (name,) in cursor.fetchall()}
            cursor.execute(
                """
                SELECT ii.name
                FROM pragma_index_list(%s) il JOIN pragma_index_info(il.name) ii
                WHERE il.partial = 0 AND ii.seqno = 0 AND ii.name IS NOT NULL
                """,
                [table],
            )
            catalog.leading_columns |= {(table, name) for (name,) in cursor.fetchall()}
    return catalog
