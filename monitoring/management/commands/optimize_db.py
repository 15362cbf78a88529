"""Refresh the planner's statistics (ANALYZE), optionally VACUUM, and report table sizes,
unused indexes and foreign keys without an index.

Run it after a bulk import or a large delete, and from time to time (weekly cron) so the
indexes the selectors rely on keep being chosen. `--dry-run` only reads the catalog and lists
the statements it would run. The work is done by `monitoring.db_maintenance.optimize_database`,
which the staff endpoint `POST /api/monitoring/optimize-db` calls too.
"""

import json
from collections.abc import Callable

from django.core.management.base import CommandError, CommandParser

from monitoring.db_maintenance import MaintenanceRefused, OptimizeReport, optimize_database, project_tables
from monitoring.operations import MonitoredCommand

BAR_WIDTH = 20


def human_bytes(size: int | None) -> str:
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


class Command(MonitoredCommand):
    help = (
        "ANALYZE this project's tables (with --vacuum: VACUUM them too) and report rows, sizes, "
        "unused indexes and foreign keys without an index. --dry-run changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--vacuum",
            action="store_true",
            help="Also VACUUM (PostgreSQL: VACUUM (ANALYZE) per table; SQLite: VACUUM the file).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Run nothing that changes state; list what would run."
        )
        parser.add_argument("--json", action="store_true", help="Print the report as JSON (no progress bar).")

    def handle(self, *args: object, **options: object) -> None:
        as_json = bool(options["json"])
        progress = None if as_json or int(str(options["verbosity"])) == 0 else self._progress_bar(len(project_tables()))
        try:
            report = optimize_database(
                vacuum=bool(options["vacuum"]), dry_run=bool(options["dry_run"]), progress=progress
            )
        except MaintenanceRefused as exc:
            raise CommandError(exc.message) from exc
        if as_json:
            self.stdout.write(json.dumps(report.to_dict(), indent=2))
        else:
            self._summary(report)

    def _progress_bar(self, total: int) -> Callable[[str], None]:
        done = 0
        tty = self.stdout.isatty()

        def progress(table: str) -> None:
            nonlocal done
            done += 1
            filled = BAR_WIDTH * done // max(total, 1)
            line = f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {done}/{total} {table}"
            if tty:
                # Redraw in place on a terminal; one line per table when captured to a file.
                self.stdout.write(f"\r{line:<80}", ending="\n" if done == total else "")
                self.stdout.flush()
            else:
                self.stdout.write(line)

        return progress

    def _summary(self, report: OptimizeReport) -> None:
        mode = "dry run: nothing was changed" if report.dry_run else f"{len(report.actions)} statements run"
        self.stdout.write(self.style.MIGRATE_HEADING(f"Database maintenance on {report.vendor} ({mode})"))
        if report.dry_run:
            for sql in report.actions:
                self.stdout.write(f"  would run: {sql}")
        self.stdout.write(self.style.MIGRATE_HEADING("Tables"))
        self.stdout.write(f"  {'table':<40}{'rows':>12}{'total':>12}{'indexes':>12}")
        for table in report.tables:
            rows = "-" if table.rows is None else str(table.rows)
            line = f"  {table.name:<40}{rows:>12}{human_bytes(table.total_bytes):>12}"
            self.stdout.write(line + f"{human_bytes(table.index_bytes):>12}")
        self.stdout.write(self.style.MIGRATE_HEADING("Unused indexes (never scanned since statistics were reset)"))
        if report.vendor != "postgresql":
            self.stdout.write("  not tracked by SQLite")
        elif not report.unused_indexes:
            self.stdout.write(self.style.SUCCESS("  none"))
        for index in report.unused_indexes:
            self.stdout.write(
                self.style.WARNING(f"  {index['table']}.{index['index']} ({human_bytes(index['bytes'])})")
            )
        self.stdout.write(self.style.MIGRATE_HEADING("Foreign keys without an index"))
        if not report.unindexed_foreign_keys:
            self.stdout.write(self.style.SUCCESS("  none"))
        for fk in report.unindexed_foreign_keys:
            self.stdout.write(self.style.WARNING(f"  {fk['table']}.{fk['column']} -> {fk['references']}"))
        self.stdout.write(self.style.SUCCESS(f"Done in {report.duration_ms} ms."))
