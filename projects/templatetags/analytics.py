"""Rates in the analytics page: `{{ rate|percent }}` writes a share (0.1234) as "12.3%", and
no rate (no visitors, no signups) as "—", never 0%."""

from django import template

register = template.Library()

NO_RATE = "—"


def format_percent(rate: float | None) -> str:
    """The one way the page writes a rate (the tests compare the API's rates through it)."""
    if rate is None:
        return NO_RATE
    return f"{rate * 100:.1f}%"


@register.filter
def percent(rate: float | None) -> str:
    return format_percent(rate)
