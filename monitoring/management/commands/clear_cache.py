"""Invalidate cached data: one key family (a generation bump, instant at any size) or every
key under this app's prefix (SCAN + delete; other apps sharing the Redis are untouched, and
FLUSHALL is never used)."""

from django.core.management.base import CommandError, CommandParser

from monitoring.operations import MonitoredCommand
from mvpvalidator.cache import FAMILIES, CacheUnavailable
from mvpvalidator.cache.operators import clear_all, clear_family


class Command(MonitoredCommand):
    help = "Invalidate one cache family (--family NAME) or delete every key of this app (--all)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--family", choices=sorted(FAMILIES), help="Invalidate this key family.")
        parser.add_argument("--all", action="store_true", help="Delete every key under this app's prefix.")

    def handle(self, *args: object, **options: object) -> None:
        family, everything = options["family"], options["all"]
        if bool(family) == bool(everything):
            raise CommandError("Say what to clear: --family NAME or --all (not both).")
        try:
            if everything:
                deleted = clear_all()
                self.stdout.write(self.style.SUCCESS(f"Deleted {deleted} keys under this app's prefix."))
            else:
                clear_family(str(family))
                self.stdout.write(self.style.SUCCESS(f"Invalidated the {family} family."))
        except CacheUnavailable as exc:
            raise CommandError(f"The cache is unavailable: {exc}") from exc
