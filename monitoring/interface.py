"""What monitoring offers the security app, and the only monitoring module security imports
(an import-linter contract in pyproject.toml holds it to that).

- the request context: bind what security learns about the request (client address, user)
  to the log lines, errors and traces of the request, and read it back;
- traces: note a security decision on the request's trace;
- alerts: send a security alert to the security webhook;
- operations: `MonitoredCommand`, the base of a management command whose runs are recorded;
- durations: the `7d`/`12h` retention arguments of commands and API actions;
- KPIs: `count_kpi` (a KPI counter), `register_kpi_reader` / `register_kpi_history` (bind a
  reader to a catalog id), `kpi_ratio` (a counter ratio's reader and history), `KpiReading`.

The reverse direction is `security.interface`.
"""

from monitoring import kpis
from monitoring.alerts import security_event as raise_security_alert
from monitoring.context import bind as bind_context
from monitoring.context import current as current_context
from monitoring.context import request_id as current_request_id
from monitoring.durations import add_older_than_argument, older_than_option, parse_duration
from monitoring.operations import MonitoredCommand
from monitoring.traces import note as note_trace

count_kpi = kpis.count
register_kpi_reader = kpis.reader
register_kpi_history = kpis.history
kpi_ratio = kpis.ratio
KpiReading = kpis.Reading

__all__ = [
    "KpiReading",
    "MonitoredCommand",
    "add_older_than_argument",
    "bind_context",
    "count_kpi",
    "kpi_ratio",
    "register_kpi_history",
    "register_kpi_reader",
    "current_context",
    "note_trace",
    "older_than_option",
    "parse_duration",
    "raise_security_alert",
    "current_request_id",
]
