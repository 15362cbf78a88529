"""Structured logs: one JSON object per line, carrying the request id, route and user of the
request (or command) that wrote it.

Wired in `settings.LOGGING`; `DJANGO_LOG_FORMAT=plain` keeps a readable line for development.
"""

import json
import logging
from datetime import UTC, datetime
from typing import Any

from monitoring import context
from monitoring.scrub import redact_text

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "fields"}


class ContextFilter(logging.Filter):
    """Copies the current request's id, route and user onto every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in context.as_log_fields().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; bearer tokens and `password=...` pairs are redacted."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_text(record.getMessage()),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_"):
                entry[name] = value
        entry.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            entry["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            entry["traceback"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(entry, default=str, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    """The development format, with the request id when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"{line} [{request_id}]" if request_id else line
