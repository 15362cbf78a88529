"""Suspicious input: script or SQL-injection payloads seen in text a user stored. The text is
sanitised either way (and SQL is always parameterised); this only makes the attempt visible as
a security event, once per address per minute."""

import re

from security.sanitize import contains_markup

# Every run that could be split between two quantifiers is possessive (`\s*+`): the text is a
# client's, and `<` followed by a long run of spaces would otherwise be retried at every split.
_SCRIPTISH = re.compile(r"<\s*+/?\s*+(script|iframe|object|embed|svg|math)\b|javascript\s*+:|\bon[a-z]++\s*+=", re.I)
_SQLI = re.compile(
    r"('|\")\s*+(or|and)\s++('?\d++'?\s*+=\s*+'?\d+|'[^']*+'\s*+=\s*+')|\bunion\s++(all\s++)?select\b|"
    r";\s*+(drop|delete|update|insert)\s|--\s*+$|\bsleep\s*+\(\s*+\d++\s*+\)|\bwaitfor\s++delay\b",
    re.I,
)


def _has_sql_comment(value: str) -> bool:
    # `/* ... */` found with two scans: as a pattern (`/\*.*\*/`) every `/*` rescanned the rest of
    # the text, quadratic in a text made of many of them.
    start = value.find("/*")
    return start >= 0 and value.find("*/", start + 2) >= 0


def classify(value: str) -> str | None:
    """`script`, `sql` or None."""
    if not value:
        return None
    if _SCRIPTISH.search(value) or (contains_markup(value) and "<" in value):
        return "script"
    if _SQLI.search(value) or _has_sql_comment(value):
        return "sql"
    return None


def report(value: str, *, field: str) -> None:
    """Record a suspicious-input event for the current request when `value` looks like an attack."""
    kind = classify(value)
    if kind is None:
        return
    from monitoring.interface import current_context
    from security import services
    from security.models import EventKind, Severity

    ctx = current_context()
    ip = ctx.client_ip if ctx else ""
    if services.once_per(f"suspicious:{ip or '-'}", 60):
        services.security_event_record(
            kind=EventKind.SUSPICIOUS_INPUT,
            severity=Severity.MEDIUM,
            ip=ip or None,
            detail={"field": field, "pattern": kind, "sample": value[:120]},
        )
