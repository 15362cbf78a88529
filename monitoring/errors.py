"""Error groups: every unhandled exception (and every one logged with `log_error`) is counted
under a fingerprint of its type and the place it was raised, with a sample traceback, the last
request id, route, user and project. Recording never raises."""

import hashlib
import logging
import traceback
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from monitoring import context, traces
from monitoring.models import ErrorGroup
from monitoring.scrub import redact_text
from mvpvalidator.db import database_unreachable

logger = logging.getLogger("monitoring.errors")

MAX_TRACEBACK_CHARS = 10000
MAX_MESSAGE_CHARS = 1000
_PROJECT_ROOT = str(Path(settings.BASE_DIR).resolve())


def _location(exc: BaseException) -> str:
    """Where it was raised: the innermost frame in the project's code, else the innermost."""
    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    own = [f for f in frames if f.filename.startswith(_PROJECT_ROOT) and "/.venv/" not in f.filename]
    frame = (own or frames)[-1] if frames else None
    if frame is None:
        return ""
    filename = frame.filename
    if filename.startswith(_PROJECT_ROOT):
        filename = filename[len(_PROJECT_ROOT) + 1 :]
    return f"{filename}:{frame.lineno} in {frame.name}"


def fingerprint(exc: BaseException) -> tuple[str, str, str]:
    """(type name, location, fingerprint). The line number is left out of the hash so an
    edit above the raise does not split one error into two groups."""
    exc_type = f"{type(exc).__module__}.{type(exc).__qualname__}"
    location = _location(exc)
    stable = location.split(":", 1)[0] + ":" + location.rsplit(" in ", 1)[-1] if location else ""
    digest = hashlib.sha256(f"{exc_type}|{stable}".encode()).hexdigest()[:32]
    return exc_type, location, digest


def record_exception(exc: BaseException, *, handled: bool, **extra: Any) -> ErrorGroup | None:
    """Upsert the exception's group and write one structured log line. Returns the group."""
    ctx = context.current()
    exc_type, location, fp = fingerprint(exc)
    fields = {
        "error_type": exc_type,
        "error_location": location,
        "error_fingerprint": fp,
        "handled": handled,
        **{k: v for k, v in extra.items() if isinstance(v, str | int | float | bool) or v is None},
    }
    message = redact_text(str(exc))[:MAX_MESSAGE_CHARS]
    traces.note("error", keep=True, type=exc_type, message=message, fingerprint=fp, handled=handled)
    logger.error("%s: %s", exc_type, message, exc_info=exc, extra={"fields": fields})

    now = timezone.now()
    values = {
        "message": message,
        "last_seen": now,
        "last_request_id": ctx.request_id if ctx else "",
        "route": (ctx.route if ctx else "") or str(extra.get("route", ""))[:300],
        "method": ctx.method if ctx else "",
        "user_id": extra.get("user_id", ctx.user_id if ctx else None),
        "project_id": extra.get("project_id", ctx.project_id if ctx else None),
        "sample_traceback": redact_text("".join(traceback.format_exception(exc)))[-MAX_TRACEBACK_CHARS:],
        # A group marked resolved is open again once it recurs.
        "resolved_at": None,
    }
    if database_unreachable(exc):
        # The group cannot be written, and trying would hold the request for another pool wait:
        # the log line above (and Sentry) carry this one.
        return None
    try:
        with context.own_writes(), transaction.atomic():
            updated = ErrorGroup.objects.filter(fingerprint=fp).update(count=F("count") + 1, **values)
            if not updated:
                try:
                    with transaction.atomic():
                        return ErrorGroup.objects.create(
                            fingerprint=fp, exc_type=exc_type[:200], location=location[:300], first_seen=now,
                            handled=handled, **values,
                        )  # fmt: skip
                except DatabaseError:  # another process created it meanwhile
                    ErrorGroup.objects.filter(fingerprint=fp).update(count=F("count") + 1, **values)
        return ErrorGroup.objects.filter(fingerprint=fp).first()
    except Exception:
        logger.warning("could not record error group %s", fp, exc_info=True)
        return None


def log_error(exc: BaseException, **context_values: Any) -> ErrorGroup | None:
    """For errors deliberately caught: grouped and logged like an unhandled one (and sent to
    Sentry when it is on), with whatever context the caller knows (`user_id`, `project_id`...)."""
    if settings.ENABLE_SENTRY_MONITORING and settings.SENTRY_DSN:
        import sentry_sdk

        with sentry_sdk.new_scope() as scope:
            for name, value in context_values.items():
                scope.set_tag(name, value)
            sentry_sdk.capture_exception(exc)
    group = record_exception(exc, handled=True, **context_values)
    from monitoring import alert_rules

    alert_rules.error_recorded(group)
    return group
