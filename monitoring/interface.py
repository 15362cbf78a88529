"""What monitoring offers the security app, and the only monitoring module security imports
(an import-linter contract in pyproject.toml holds it to that).

- the request context: bind what security learns about the request (client address, user)
  to the log lines, errors and traces of the request, and read it back;
- traces: note a security decision on the request's trace;
- alerts: send a security alert to the security webhook;
- operations: `MonitoredCommand`, the base of a management command whose runs are recorded;
- durations: the `7d`/`12h` retention arguments of commands and API actions;
- KPIs: count a KPI counter, register a KPI's reader and history, build a counter ratio.

The reverse direction is `security.interface`.
"""

from monitoring.alert_rules import security_event as raise_security_alert
from monitoring.context import bind as bind_context
from monitoring.context import current as current_context
from monitoring.context import request_id as current_request_id
from monitoring.durations import add_older_than_argument, older_than_option, parse_duration
from monitoring.kpi_counters import count as count_kpi
from monitoring.kpis import Reading as KpiReading
from monitoring.kpis import history as register_kpi_history
from monitoring.kpis import ratio as kpi_ratio
from monitoring.kpis import reader as register_kpi_reader
from monitoring.operations import MonitoredCommand
from monitoring.traces import note as note_trace

__all__ = [
    "KpiReading",
    "MonitoredCommand",
    "count_kpi",
    "kpi_ratio",
    "register_kpi_history",
    "register_kpi_reader",
    "add_older_than_argument",
    "bind_context",
    "current_context",
    "note_trace",
    "older_than_option",
    "parse_duration",
    "raise_security_alert",
    "current_request_id",
]
