"""Show how the cache is doing: hit rate per key family and overall, Redis memory and keys,
and the circuit breaker's state. The figures are shared by every process when Redis is used."""

import json

from django.core.management.base import CommandParser

from monitoring.operations import MonitoredCommand
from mvpvalidator.cache import FAMILIES, stats
from mvpvalidator.cache.operators import backend_info, count_pattern


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


class Command(MonitoredCommand):
    help = "Hit rate per key family and overall, Redis memory and keys, breaker state."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
        parser.add_argument(
            "--keys", action="store_true", help="Also count this app's keys per family (SCAN; operators only)."
        )

    def handle(self, *args: object, **options: object) -> None:
        snapshot = stats.snapshot()
        info = backend_info()
        key_counts = {name: count_pattern(f"{name}:*") for name in FAMILIES} if options["keys"] else {}
        if options["json"]:
            self.stdout.write(json.dumps({"stats": snapshot, "backend": info, "keys": key_counts}, indent=2))
            return
        self.stdout.write(self.style.MIGRATE_HEADING(f"Cache: {info['backend']} (prefix {info['key_prefix']})"))
        breaker = info["breaker"]
        style = self.style.SUCCESS if breaker["state"] == "closed" else self.style.ERROR
        self.stdout.write(f"  breaker: {style(breaker['state'])} (trips {breaker['trips']})")
        if "used_memory_human" in info:
            self.stdout.write(f"  memory: {info['used_memory_human']}, keys in db: {info['db_keys']}")
        if "note" in snapshot:
            self.stdout.write(self.style.WARNING(f"  {snapshot['note']}"))
        self.stdout.write(f"\n  {'family':<14}{'hits':>8}{'misses':>8}{'stale':>7}{'sets':>8}{'hit rate':>10}")
        for name, counts in snapshot["families"].items():
            hits = counts["hit"] + counts["local_hit"]
            line = f"  {name:<14}{hits:>8}{counts['miss']:>8}{counts['stale']:>7}{counts['set']:>8}"
            self.stdout.write(line + f"{_rate(counts['hit_rate']):>10}")
        overall = snapshot["overall"]
        self.stdout.write(self.style.SUCCESS(f"  overall hit rate: {_rate(overall['hit_rate'])}"))
        for name, count in key_counts.items():
            self.stdout.write(f"  keys {name}: {count}")
