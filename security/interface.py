"""What security offers the monitoring app, and the only security module monitoring imports
(an import-linter contract in pyproject.toml holds it to that).

- the dashboard's security figures: blocks, events by kind and severity, offenders
  (`security_stats`, capped at `BLOCKS_LISTED` blocks), events per hour, one request's events;
- the staff actions the dashboard offers: `ip_unblock`;
- refusals: `IsStaff` (the staff-only API's permission, recording its refusals),
  `api_permission_denied` for another permission class that refuses, and
  `record_permission_denied` for a refused staff page;
- the security headers every response must carry (`REQUIRED_RESPONSE_HEADERS`, and
  `HTTPS_RESPONSE_HEADERS` on a response to an HTTPS request when HSTS is on), which the
  monitoring middleware counts for the header-coverage KPI under the counters
  `HEADERS_RESPONSES`, `HEADERS_HTTPS_RESPONSES` and `missing_header_counter(name)`, reading a
  response's headers as the security layer writes them (`response_header_names`,
  `response_header_store`: see `security.headers`).

The reverse direction is `monitoring.interface`.
"""

from django.http import HttpRequest
from rest_framework.request import Request

from security import audit
from security.headers import names as response_header_names
from security.headers import store as response_header_store
from security.kpis import (
    HEADERS_HTTPS_RESPONSES,
    HEADERS_RESPONSES,
    HTTPS_RESPONSE_HEADERS,
    REQUIRED_RESPONSE_HEADERS,
    missing_header_counter,
)
from security.models import EventKind, Severity
from security.permissions import IsStaff
from security.selectors import BLOCKS_LISTED, events_per_hour, request_events, security_stats
from security.services import ip_unblock, security_event_record


def record_permission_denied(request: HttpRequest) -> None:
    """A signed-in user was refused a page: a `permission_denied` event (low severity)."""
    security_event_record(kind=EventKind.PERMISSION_DENIED, severity=Severity.LOW, request=request)


def api_permission_denied(request: Request) -> None:
    """An API permission class refused `request` (at most one event per address a minute)."""
    audit.permission_refused(request)


__all__ = [
    "BLOCKS_LISTED",
    "HEADERS_HTTPS_RESPONSES",
    "HEADERS_RESPONSES",
    "HTTPS_RESPONSE_HEADERS",
    "REQUIRED_RESPONSE_HEADERS",
    "IsStaff",
    "api_permission_denied",
    "events_per_hour",
    "ip_unblock",
    "missing_header_counter",
    "record_permission_denied",
    "request_events",
    "response_header_names",
    "response_header_store",
    "security_stats",
]
