"""`{{ amount|money:currency }}`: the platform's money format (`projects.analysis.money`) in
templates, so a page writes an amount the way the verdict's sentences do."""

from django import template

from projects.analysis.money import format_money

register = template.Library()


@register.filter
def money(amount: float | None, currency: str) -> str:
    return "" if amount is None else format_money(float(amount), currency)
