"""How money is written, in one place: three audiences, three formats.

- ``format_money(1234.5, "EUR")`` is ``"1,234.50 EUR"``: thousands grouped, two decimals, the ISO 4217 code
  after the amount, in every sentence and figure the platform shows the founder about money (test card
  criteria, verdict reasons, the report page through the ``money`` template filter).
- ``price_tag(Decimal("29"), "USD")`` is ``"$29"``: a price as a landing page's visitor reads it (symbol for
  the common currencies, no decimals on a whole amount), in generated marketing copy.
- ``money_decimal(Decimal("1234.5"))`` is ``"1234.50"``: the API's wire format, a decimal string without
  grouping or currency (the currency is a field of its own) so clients parse it exactly.
"""

from __future__ import annotations

from decimal import Decimal

__all__ = ["format_money", "money_decimal", "price_tag"]

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$"}
_CENTS = Decimal("0.01")


def format_money(amount: float, currency: str) -> str:
    """``amount`` with thousands grouped and two decimals, then the currency code: ``"1,234.50 EUR"``."""
    return f"{amount:,.2f} {currency}"


def price_tag(amount: Decimal, currency: str) -> str:
    """A price in a visitor's words: ``"$29"``, ``"€12.50"``, ``"30 CHF"``."""
    digits = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    code = currency.strip().upper()
    symbol = CURRENCY_SYMBOLS.get(code)
    return f"{symbol}{digits}" if symbol else f"{digits} {code}".strip()


def money_decimal(value: Decimal | None) -> str | None:
    """An amount for the API: a decimal string with two places (``None`` stays ``None``)."""
    return None if value is None else str(value.quantize(_CENTS))
