"""The events table's daily partitions on PostgreSQL (`projects.events.partitions`): list them with
their bounds and what the DEFAULT partition holds; make today's and the days ahead now (what the
daily `events_partitions_ensure` does: after it failed for days, events land in DEFAULT, and this
moves them into their days); drop the days past the retention now (what the daily prune does).
The embedded SQLite keeps a plain table: there this command has nothing to do and says so."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from monitoring.operations import MonitoredCommand
from projects.events import partitions


class Command(MonitoredCommand):
    help = (
        "List the events table's daily partitions (PostgreSQL); --ensure makes today's and the days ahead "
        "(moving rows out of DEFAULT), --drop-expired drops the rolled-up days past EVENT_RETENTION_DAYS."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--ensure", action="store_true", help="Make the partitions of today and the days ahead, now."
        )
        parser.add_argument(
            "--days-ahead",
            type=int,
            default=None,
            help=f"With --ensure: days ahead (default {settings.EVENT_PARTITION_DAYS_AHEAD}).",
        )
        parser.add_argument(
            "--drop-expired",
            action="store_true",
            help=f"Drop the partitions wholly older than EVENT_RETENTION_DAYS={settings.EVENT_RETENTION_DAYS} "
            "whose events are all rolled up.",
        )
        parser.add_argument("--dry-run", action="store_true", help="With --drop-expired: say what would go.")

    def handle(self, *args: object, **options: object) -> None:
        days_ahead = options["days_ahead"]
        if days_ahead is not None and not options["ensure"]:
            raise CommandError("--days-ahead goes with --ensure.")
        if days_ahead is not None and not 0 <= int(days_ahead) <= 366:  # type: ignore[call-overload]
            raise CommandError("--days-ahead must be a whole number of days from 0 to 366.")
        if options["dry_run"] and not options["drop_expired"]:
            raise CommandError("--dry-run goes with --drop-expired.")
        if not partitions.is_partitioned():
            raise CommandError(
                "The events table is not partitioned on this database: partitions are PostgreSQL's (the embedded "
                "SQLite keeps a plain table, pruned a batch at a time)."
            )
        if options["ensure"]:
            made = partitions.ensure(days_ahead=days_ahead)  # type: ignore[arg-type]
            self.stdout.write(f"made {len(made)} partition(s)" + (f": {', '.join(made)}" if made else ""))
        if options["drop_expired"]:
            cutoff = timezone.now() - timedelta(days=settings.EVENT_RETENTION_DAYS)
            dropped = partitions.drop_expired(cutoff=cutoff, dry_run=bool(options["dry_run"]))
            verb = "would drop" if options["dry_run"] else "dropped"
            self.stdout.write(
                f"{verb} {len(dropped.partitions)} partition(s) before {cutoff:%Y-%m-%d %H:%M} UTC "
                f"({dropped.rows} events)" + (f": {', '.join(dropped.partitions)}" if dropped.partitions else "")
            )
            if dropped.pending:
                self.stdout.write(f"kept, events not rolled up yet: {', '.join(dropped.pending)}")
            if dropped.busy:
                self.stdout.write(self.style.WARNING(f"kept, lock timed out: {', '.join(dropped.busy)}"))
        self._list()

    def _list(self) -> None:
        for p in partitions.partitions():
            if p.default:
                held = partitions.default_rows()
                line = f"{p.name}  DEFAULT  {held} event(s)"
                self.stdout.write(self.style.WARNING(line) if held else line)
            else:
                self.stdout.write(f"{p.name}  {p.start:%Y-%m-%d %H:%M} .. {p.end:%Y-%m-%d %H:%M} UTC")
