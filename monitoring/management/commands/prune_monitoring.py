"""Roll the request buckets up into hourly rows, then delete monitoring data older than asked:
hourly rows, error / slow-query / slow-operation groups not seen since, and alerts."""

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from monitoring import services
from monitoring.durations import parse_duration
from monitoring.operations import MonitoredCommand


class Command(MonitoredCommand):
    help = "Roll up request metrics into hourly rows and prune monitoring data older than --older-than."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            default=f"{settings.MONITORING_RETENTION_DAYS}d",
            help="Age beyond which rows go, like 30d, 12h or 90m (default: MONITORING_RETENTION_DAYS).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Count what would go; delete nothing.")

    def handle(self, *args: object, **options: object) -> None:
        try:
            older_than = parse_duration(str(options["older_than"]))
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if not options["dry_run"]:
            rows = services.rollup_hours()
            self.stdout.write(f"rolled up {rows} hourly row(s)")
        result = services.prune(older_than=older_than, dry_run=bool(options["dry_run"]))
        verb = "would delete" if options["dry_run"] else "deleted"
        self.stdout.write(
            f"{verb} {result.total} row(s) older than {options['older_than']}: "
            f"{result.metric_hours} hourly metrics, {result.error_groups} error groups, "
            f"{result.slow_queries} slow queries, {result.slow_operations} slow operations, {result.alerts} alerts"
        )
