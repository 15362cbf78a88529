"""The production guide's KPIs, the busiest and slowest routes, slow queries, external calls
and recent errors, on the console (the figures of `GET /api/monitoring/kpis` and
`GET /api/monitoring/performance`).

The KPIs' history is read from the database (`CounterHour`, `HealthMinute`), which every process
writes; the current figures of the request, query and health series live in the counting
processes' buckets: shared through Redis, or in the server's own memory in the embedded mode,
which the report then says."""

import json

from django.core.management.base import CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder

from monitoring import kpi_counters, kpis, metrics, selectors
from monitoring.operations import MonitoredCommand


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def _scope_note() -> str:
    if metrics.shared():
        return "Current figures: the live counters in Redis (every process); history: the database."
    return (
        "Current figures: this command's own process counts nothing. With the embedded default the\n"
        "live counters (requests, queries, health checks, this hour's KPI counters) stay in the\n"
        "server process's memory: see them on the staff monitor (/performance-monitor/#kpis) or\n"
        "GET /api/monitoring/kpis on the server. Shown here: what the server persisted to the\n"
        f"database (KPI counter hours, every {kpi_counters.PERSIST_EVERY_SECONDS / 60:.0f} minutes; health minutes)."
    )


class Command(MonitoredCommand):
    help = "Print the KPIs (pass/fail), routes, slow queries, external calls and error groups."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--window", default="1h", help="5m, 1h or 24h (default 1h).")
        parser.add_argument("--json", action="store_true", help="Print the whole report as JSON.")
        parser.add_argument("--hours", type=int, default=24, help="The KPIs' window in hours, 1 to 720 (default 24).")

    def handle(self, *args: object, **options: object) -> None:
        window = str(options["window"])
        if window not in selectors.WINDOWS:
            raise CommandError(f"--window must be one of {', '.join(selectors.WINDOWS)}.")
        hours = int(str(options["hours"]))
        if not 1 <= hours <= 720:
            raise CommandError("--hours must be between 1 and 720.")
        report = selectors.performance(window)
        report["production_kpis"] = kpis.evaluate(hours=hours)
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2, cls=DjangoJSONEncoder))
            return
        out = self.stdout.write
        out(self.style.MIGRATE_HEADING(f"Monitoring report, last {window} ({report['scope']} counters)"))
        out(f"\nKPIs of the production guide, last {hours} h")
        out(_scope_note())
        for kpi_group in kpis.grouped(report["production_kpis"]):
            out(f"\n  {kpi_group['title']}")
            for kpi in kpi_group["kpis"]:
                mark = {True: self.style.SUCCESS("PASS"), False: self.style.ERROR("FAIL"), None: "  - "}[kpi["pass"]]
                value = kpis.format_value(kpi["value"], kpi["unit"])
                out(f"  {mark}  {kpi['name']:<40} {value:>16}   target {kpi['target']}")
                out(f"         {kpi['source']}")
                if kpi["note"]:
                    out(f"         {kpi['note']}")
        overall = report["requests"]["overall"]
        out(
            f"\nRequests: {overall['count']} ({overall['throughput_per_s']}/s), errors {overall['errors']}, "
            f"p50 {_ms(overall['p50'])}, p95 {_ms(overall['p95'])}, p99 {_ms(overall['p99'])}"
        )
        out(f"\n  {'route':<48}{'count':>8}{'p50':>11}{'p95':>11}{'p99':>11}{'errors':>8}")
        for row in report["requests"]["routes"][:15]:
            out(
                f"  {(row['method'] + ' ' + row['route'])[:47]:<48}{row['count']:>8}{_ms(row['p50']):>11}"
                f"{_ms(row['p95']):>11}{_ms(row['p99']):>11}{row['errors']:>8}"
            )
        queries = report["queries"]
        out(
            f"\nQueries: {queries['count']}, p95 {_ms(queries['p95'])}, "
            f"slow (> {queries['threshold_ms']} ms) {queries['slow']}"
        )
        for slow in report["slow_queries"][:10]:
            out(f"  {slow['count']:>5}x mean {slow['mean_ms']:.0f} ms max {slow['max_ms']:.0f} ms  {slow['sql'][:90]}")
            if slow["call_site"]:
                out(f"         at {slow['call_site']}")
        if report["external"]:
            out("\nExternal services")
            for svc in report["external"]:
                out(
                    f"  {svc['service']:<16} calls {svc['count']:>6}  errors {svc['errors']:>4}  "
                    f"timeouts {svc['timeouts']:>4}  p95 {_ms(svc['p95'])}"
                )
        groups = list(selectors.error_groups()[:10])
        out(f"\nError groups: {selectors.error_groups().count()}")
        for group in groups:
            out(f"  {group.count:>5}x {group.exc_type} at {group.location} (last {group.last_seen:%Y-%m-%d %H:%M})")
