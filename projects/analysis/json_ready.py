"""Plain JSON values from the analysis dataclasses (after ``dataclasses.asdict``)."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["json_object", "json_ready"]


def json_ready(value: Any) -> Any:
    """``value`` with floats to 6 significant digits and NaN/inf (never expected) as None; tuples become lists."""
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        # Significant digits rather than decimal places so a p-value of 3e-9 does not collapse to 0.
        return float(f"{value:.6g}")
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    raise TypeError(f"unexpected value {value!r}")


def json_object(fields: dict[str, Any]) -> dict[str, Any]:
    """:func:`json_ready` of a dict, typed as one (the fields of a dataclass after ``asdict``)."""
    return {key: json_ready(value) for key, value in fields.items()}
