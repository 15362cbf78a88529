"""Figures as a founder reads them: a report's values read defensively, shares as percentages, chances never
falsely certain, counts with their noun. Shared by the report's explanation (:mod:`projects.analysis.explain`),
its tables (:mod:`projects.analysis.report_rows`), the plain reasons and the variant table. No Django.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

__all__ = ["as_count", "as_number", "chance", "percent", "plural"]


def as_number(value: Any) -> float | None:
    """A finite number from a report field of any type (None: missing, a flag, or not a number)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        number = float(value)
        return number if math.isfinite(number) else None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def as_count(value: Any) -> int:
    number = as_number(value)
    return int(number) if number is not None else 0


def percent(share: float | None, digits: int = 1) -> str:
    """A share as a percentage, multiplied by 100 once: 0.2 is "20%", 0.034 is "3.4%"."""
    if share is None:
        return "—"
    text = f"{share * 100:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{share * 100:.0f}"
    return f"{text}%"


def chance(probability: float | None) -> str:
    """A probability as a whole percentage, never a false certainty: 0.9996 is "over 99%", 0.003 "under 1%"."""
    if probability is None:
        return "—"
    if probability > 0.99:
        return "over 99%"
    if probability < 0.01:
        return "under 1%"
    return percent(probability, 0)


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    return f"{count:,} {noun if count == 1 else (nouns or noun + 's')}"
