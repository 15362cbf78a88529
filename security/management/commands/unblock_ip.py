"""Lift the block on an address (the block row stays as the audit trail)."""

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser

from monitoring.operations import MonitoredCommand
from security import services
from security.ip import parse_networks


class Command(MonitoredCommand):
    help = "Lift every active block on an IP address."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ip", help="The IPv4 or IPv6 address to unblock.")

    def handle(self, *args: object, **options: object) -> None:
        ip = str(options["ip"]).strip()
        try:
            parse_networks([ip])
            if "/" in ip:
                raise ValueError
        except ValueError:
            raise CommandError(f"{ip!r} is not an IP address.") from None
        try:
            lifted = services.ip_unblock(ip=ip)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        if lifted:
            self.stdout.write(self.style.SUCCESS(f"unblocked {ip} ({lifted} block(s) lifted)"))
        else:
            self.stdout.write(f"{ip} was not blocked")
