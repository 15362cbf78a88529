"""Where the interval bars of an experiment's results are drawn: each arm's sign-up rate and its 95 % interval
on one shared scale, so the bars of all arms compare at a glance (the results screen draws them as SVG).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["BAR_WIDTH", "IntervalBar", "interval_bars", "scale_top"]

# The drawing's width in SVG user units (its viewBox); the page scales it to the column's width.
BAR_WIDTH = 100.0
# Steps the scale's top snaps to, so the axis reads as a round figure.
_STEPS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0)


@dataclass(frozen=True)
class IntervalBar:
    key: str
    low_x: float  # the interval's left end
    width: float  # the interval's length (at least a sliver, so a zero-width interval still shows)
    rate_x: float | None  # the observed rate; None without visitors


def scale_top(highest: float) -> float:
    """The smallest round rate at or above ``highest`` (1 % when nothing is higher)."""
    for step in _STEPS:
        if highest <= step:
            return step
    return 1.0


def interval_bars(arms: list[dict[str, Any]]) -> tuple[float, list[IntervalBar]]:
    """The scale's top (a rate) and each arm's bar, in SVG units of :data:`BAR_WIDTH`."""
    top = scale_top(max((arm["wilson_high"] for arm in arms), default=0.0))
    bars = []
    for arm in arms:
        low = BAR_WIDTH * arm["wilson_low"] / top
        high = BAR_WIDTH * arm["wilson_high"] / top
        rate = arm.get("rate")
        bars.append(
            IntervalBar(
                key=arm["key"],
                low_x=round(low, 2),
                width=round(max(high - low, 0.5), 2),
                rate_x=None if rate is None or not math.isfinite(rate) else round(BAR_WIDTH * rate / top, 2),
            )
        )
    return top, bars
