"""Parsing durations such as `30d`, `12h`, `90m` (operators' command-line arguments)."""

import re
from datetime import timedelta

_DURATION = re.compile(r"^\s*(\d+)\s*([dhm])\s*$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_duration(text: str) -> timedelta:
    """`30d` → 30 days. Raises ValueError with a readable message on anything else."""
    match = _DURATION.match(text or "")
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration like 30d, 12h or 90m.")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
