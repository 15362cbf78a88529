"""Lift the block on an address or a network (the block row stays as the audit trail).

An operator's way back in when staff cannot reach the API: `manage.py unblock_ip 203.0.113.5`,
`manage.py unblock_ip 2001:db8:1:2::5` (lifts the block on its client's /64), or
`manage.py unblock_ip 203.0.113.0/24`."""

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser

from monitoring.interface import MonitoredCommand
from security import services


class Command(MonitoredCommand):
    help = "Lift every active block on an IP address (an IPv6 address: its /64) or a network (CIDR)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ip", help="The IPv4 or IPv6 address, or the network (203.0.113.0/24), to unblock.")

    def handle(self, *args: object, **options: object) -> None:
        ip = str(options["ip"]).strip()
        try:
            target = services.block_target(ip)
            lifted = services.ip_unblock(ip=ip)
        except ValidationError as exc:
            raise CommandError(f"{ip!r}: {'; '.join(exc.messages)}") from exc
        if lifted:
            self.stdout.write(self.style.SUCCESS(f"unblocked {target} ({lifted} block(s) lifted)"))
        else:
            self.stdout.write(f"{target} was not blocked")
