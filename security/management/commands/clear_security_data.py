"""Delete old security events and finished blocks (active blocks are kept: unblock first)."""

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from monitoring.durations import parse_duration
from monitoring.operations import MonitoredCommand
from security import services


class Command(MonitoredCommand):
    help = "Delete security events older than --older-than and, with --expired-blocks, finished blocks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            default=f"{settings.SECURITY_EVENT_RETENTION_DAYS}d",
            help="Age beyond which events go, like 7d, 12h or 90m (default: SECURITY_EVENT_RETENTION_DAYS).",
        )
        parser.add_argument("--expired-blocks", action="store_true", help="Also delete lifted or lapsed blocks.")
        parser.add_argument("--dry-run", action="store_true", help="Count what would go; delete nothing.")

    def handle(self, *args: object, **options: object) -> None:
        try:
            older_than = parse_duration(str(options["older_than"]))
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        result = services.security_data_clear(
            older_than=older_than, expired_blocks=bool(options["expired_blocks"]), dry_run=bool(options["dry_run"])
        )
        verb = "would delete" if options["dry_run"] else "deleted"
        self.stdout.write(f"{verb} {result.events} event(s) and {result.blocks} finished block(s)")
