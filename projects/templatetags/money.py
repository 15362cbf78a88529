"""`{{ amount|money:currency }}`: the platform's money format (`projects.analysis.money`) in
templates, so a page writes an amount the way the verdict's sentences do. No amount (a cost
without spend, a cost per signup without signups) is written "—", never 0.00."""

from decimal import Decimal

from django import template

from projects.analysis.money import format_money

register = template.Library()

NO_AMOUNT = "—"


@register.filter
def money(amount: Decimal | float | str | None, currency: str) -> str:
    return NO_AMOUNT if amount is None or amount == "" else format_money(amount, currency)
