"""Delete old security events and finished blocks (active blocks are kept: unblock first)."""

from django.conf import settings
from django.core.management.base import CommandParser

from monitoring.interface import MonitoredCommand, add_older_than_argument, older_than_option
from security import services


class Command(MonitoredCommand):
    help = "Delete security events older than --older-than and, with --expired-blocks, finished blocks."

    def add_arguments(self, parser: CommandParser) -> None:
        add_older_than_argument(parser, default_days=settings.SECURITY_EVENT_RETENTION_DAYS, what="events")
        parser.add_argument("--expired-blocks", action="store_true", help="Also delete lifted or lapsed blocks.")
        parser.add_argument("--dry-run", action="store_true", help="Count what would go; delete nothing.")

    def handle(self, *args: object, **options: object) -> None:
        older_than = older_than_option(options)
        result = services.security_data_clear(
            older_than=older_than, expired_blocks=bool(options["expired_blocks"]), dry_run=bool(options["dry_run"])
        )
        verb = "would delete" if options["dry_run"] else "deleted"
        self.stdout.write(f"{verb} {result.events} event(s) and {result.blocks} finished block(s)")
