"""Rebuild the breakdowns (by referrer, UTM field and device class) from the raw events still
kept: run once after the upgrade that added them, so the days rolled up before have rows too.
Safe next to running workers (each day is rebuilt under the rollup lock) and safe to run again."""

from datetime import date

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from monitoring.operations import MonitoredCommand
from projects.events.backfill import breakdowns_rebuild


class Command(MonitoredCommand):
    help = "Rebuild the referrer, UTM and device breakdowns from the raw events still kept (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"Only the last N days, today included (default: every day with raw events, at most "
            f"EVENT_RETENTION_DAYS={settings.EVENT_RETENTION_DAYS}).",
        )

    def handle(self, *args: object, **options: object) -> None:
        days = options["days"]
        if days is not None and not 1 <= int(days) <= 100_000:  # type: ignore[call-overload]
            raise CommandError("--days must be a whole number of days from 1 to 100000.")

        def report(page_id: int, day: date, rows: int) -> None:
            self.stdout.write(f"page {page_id}, {day.isoformat()}: {rows} breakdown row(s)")

        rebuilt = breakdowns_rebuild(days=days, report=report)  # type: ignore[arg-type]
        self.stdout.write(
            f"rebuilt the breakdowns of {rebuilt} page-day(s)"
            + ("" if rebuilt else " (no raw events rolled up in that range)")
        )
