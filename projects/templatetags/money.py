"""Money in templates, in the platform's two formats (`projects.analysis.money`):

- `{{ amount|money:currency }}`: as the verdict's sentences and the report write it ("88.60 EUR").
  No amount (a cost without spend, a cost per signup without signups) is written "—", never 0.00.
- `{{ amount|price_tag:currency }}`: a price as a landing page's visitor reads it ("$29"), the
  form the generated copy uses, so a tier's price and the sentence beside it agree ("$29", not
  "29.00 USD" under "Plans start at $29")."""

from decimal import Decimal, InvalidOperation

from django import template

from projects.analysis.money import format_money
from projects.analysis.money import price_tag as format_price_tag

register = template.Library()

NO_AMOUNT = "—"


@register.filter
def money(amount: Decimal | float | str | None, currency: str) -> str:
    return NO_AMOUNT if amount is None or amount == "" else format_money(amount, currency)


@register.filter
def price_tag(amount: Decimal | str | None, currency: str) -> str:
    # Tier prices are stored as decimal strings in the page's JSON.
    if amount in (None, ""):
        return ""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    return format_price_tag(value, currency) if value.is_finite() else str(amount)
