"""Filters of the experiment screens: figures as a founder reads them (`projects.analysis.experiment_words`)."""

import math

from django import template

from projects.analysis.experiment_words import count, percent, rate

register = template.Library()


@register.filter
def pct(value: float | None) -> str:
    """A probability or share in whole percent ("91%", ">99%"); "—" for none."""
    return "—" if value is None else percent(float(value))


@register.filter
def rate_pct(value: float | None) -> str:
    """A sign-up rate to one decimal ("4.2%"); "—" for none."""
    return "—" if value is None else rate(float(value))


@register.filter
def thousands(value: float | None) -> str:
    """A count, rounded to a whole number, with thousands separated ("1,284"); "—" for none."""
    return "—" if value is None else count(float(value))


@register.filter
def whole_days(value: float | None) -> str:
    """Days still to go, rounded up ("1" for half a day); "—" for none."""
    return "—" if value is None else count(math.ceil(float(value)))


@register.filter
def points(value: float | None) -> str:
    """A difference of rates in percentage points, to two decimals ("0.12 pts"); "—" for none."""
    return "—" if value is None else f"{float(value) * 100:.2f} pts"


@register.filter
def p_value(value: float | None) -> str:
    """A p-value to three decimals, "<0.001" below that; "—" for none."""
    if value is None:
        return "—"
    return "<0.001" if float(value) < 0.001 else f"{float(value):.3f}"
