"""Structured logs: one JSON object per line, carrying the request id, route and user of the
request (or command) that wrote it.

Wired in `settings.LOGGING`; `DJANGO_LOG_FORMAT=plain` keeps a readable line for development.
"""

import json
import logging
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest

from monitoring import context
from monitoring.scrub import redact_text, scrub_url

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "fields"}


class ContextFilter(logging.Filter):
    """Copies the current request's id, route and user onto every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in context.as_log_fields().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


def _field(value: Any) -> Any:
    """An `extra=` value as it is logged. Django's own loggers attach the request: it is written
    as its method and URL with the query string scrubbed like a body (`?password=[Filtered]`)."""
    if isinstance(value, HttpRequest):
        return f"{value.method} {scrub_url(value.path, value.META.get('QUERY_STRING', ''))}"
    if isinstance(value, str):
        return redact_text(value)
    return value


def _unknown(value: Any) -> str:
    # What JSON cannot carry is logged as its text, redacted like a message.
    return redact_text(str(value))


class JsonFormatter(logging.Formatter):
    """One JSON object per line; bearer tokens, `password=...` pairs and secret query
    parameters are redacted."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_text(record.getMessage()),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_"):
                entry[name] = _field(value)
        entry.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            entry["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            entry["traceback"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(entry, default=_unknown, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    """The development format, with the request id when there is one; redacted like the JSON
    line (the development server logs each request line, query string included)."""

    def format(self, record: logging.LogRecord) -> str:
        line = redact_text(super().format(record))
        request_id = getattr(record, "request_id", None)
        return f"{line} [{request_id}]" if request_id else line
