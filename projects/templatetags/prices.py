"""`{{ amount|price_tag:currency }}`: a price as a landing page's visitor reads it ("$29",
`projects.analysis.money.price_tag`), the form the generated copy uses, so a tier's price and
the sentence beside it agree ("$29", not "29.00 USD" under "Plans start at $29")."""

from decimal import Decimal, InvalidOperation

from django import template

from projects.analysis.money import price_tag as format_price_tag

register = template.Library()


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
