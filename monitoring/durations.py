"""Parsing durations such as `30d`, `12h`, `90m` (operators' command-line arguments)."""

import re
from datetime import timedelta
from typing import Any

_DURATION = re.compile(r"^\s*(\d+)\s*([dhm])\s*$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_duration(text: str) -> timedelta:
    """`30d` → 30 days. Raises ValueError with a readable message on anything else."""
    match = _DURATION.match(text or "")
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration like 30d, 12h or 90m.")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def add_older_than_argument(parser: Any, *, default_days: int, what: str) -> None:
    """The `--older-than` option of the retention commands."""
    parser.add_argument(
        "--older-than", default=f"{default_days}d", help=f"Age beyond which {what} go, like 30d, 12h or 90m."
    )


def older_than_option(options: dict[str, Any]) -> timedelta:
    """The parsed `--older-than`, or a `CommandError` naming the expected form."""
    from django.core.management.base import CommandError

    try:
        return parse_duration(str(options["older_than"]))
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
