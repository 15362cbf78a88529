"""Roll the request buckets up into hourly rows, then delete monitoring data older than asked:
hourly rows, error / slow-query / slow-operation groups not seen since, and alerts."""

from django.conf import settings
from django.core.management.base import CommandParser

from monitoring import services
from monitoring.durations import add_older_than_argument, older_than_option
from monitoring.operations import MonitoredCommand


class Command(MonitoredCommand):
    help = "Roll up request metrics into hourly rows and prune monitoring data older than --older-than."

    def add_arguments(self, parser: CommandParser) -> None:
        add_older_than_argument(parser, default_days=settings.MONITORING_RETENTION_DAYS, what="rows")
        parser.add_argument("--dry-run", action="store_true", help="Count what would go; delete nothing.")

    def handle(self, *args: object, **options: object) -> None:
        older_than = older_than_option(options)
        if not options["dry_run"]:
            rows = services.rollup_hours()
            self.stdout.write(f"rolled up {rows} hourly row(s)")
        result = services.prune(older_than=older_than, dry_run=bool(options["dry_run"]))
        verb = "would delete" if options["dry_run"] else "deleted"
        self.stdout.write(
            f"{verb} {result.total} row(s) older than {options['older_than']}: "
            f"{result.metric_hours} hourly metrics, {result.error_groups} error groups, "
            f"{result.slow_queries} slow queries, {result.slow_operations} slow operations, {result.alerts} alerts, "
            f"{result.counter_hours} KPI counter hours, {result.health_minutes} health minutes"
        )
