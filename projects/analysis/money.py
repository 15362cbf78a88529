"""How money is written, in one place: three audiences, three formats, one rounding.

Every amount that leaves the platform (JSON, CSV, pages, emails) is first :func:`round_money`: a ``Decimal``
rounded to the currency's minor unit (two places for the dollar or the euro, none for the yen, three for the
Kuwaiti dinar; ISO 4217), so a sum or a quotient never shows as ``88.6000000000000`` or ``14.8235``.

- ``format_money(1234.5, "EUR")`` is ``"1,234.50 EUR"``: thousands grouped, the currency's decimals, the ISO 4217
  code after the amount, in every sentence and figure the platform shows the founder about money (test card
  criteria, verdict reasons, the report page through the ``money`` template filter).
- ``price_tag(Decimal("29"), "USD")`` is ``"$29"``: a price as a landing page's visitor reads it (symbol for
  the common currencies, no decimals on a whole amount), in generated marketing copy.
- ``money_decimal(Decimal("1234.5"), "EUR")`` is ``"1234.50"``: the API's and the CSV exports' wire format, a
  decimal string without grouping or currency (the currency is a field of its own) so clients parse it exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["format_money", "minor_digits", "money_decimal", "money_fields", "price_tag", "round_money"]

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$"}

# Currencies whose minor unit is not the cent (ISO 4217 "minor unit" column,
# https://www.six-group.com/en/products-services/financial-information/data-standards.html); every other
# code has two decimals.
_MINOR_DIGITS = {
    **dict.fromkeys(
        ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF",
         "XOF", "XPF"),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}  # fmt: skip


def minor_digits(currency: str) -> int:
    """The decimals of ``currency``'s minor unit: 2 for USD, 0 for JPY, 3 for KWD."""
    return _MINOR_DIGITS.get(currency.strip().upper(), 2)


Amount = Decimal | float | int | str


def round_money(amount: Amount, currency: str) -> Decimal:
    """``amount`` as a ``Decimal`` rounded to ``currency``'s minor unit (half to even, Decimal's default).

    A float is read through its shortest repr (``88.6`` is ``Decimal("88.6")``, not the binary
    ``88.599999999999994315658...``), so rounding never moves a float the platform computed across a half.
    """
    if isinstance(amount, bool):
        raise TypeError(f"not an amount: {amount!r}")
    if isinstance(amount, float):
        if not math.isfinite(amount):
            raise ValueError(f"not a finite amount: {amount!r}")
        amount = repr(amount)
    try:
        value = Decimal(amount)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {amount!r}") from exc
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {amount!r}")
    return value.quantize(Decimal(1).scaleb(-minor_digits(currency)))


def format_money(amount: Amount, currency: str) -> str:
    """``amount`` with thousands grouped and the currency's decimals, then the code: ``"1,234.50 EUR"``."""
    return f"{round_money(amount, currency):,.{minor_digits(currency)}f} {currency}"


def price_tag(amount: Decimal, currency: str) -> str:
    """A price in a visitor's words: ``"$29"``, ``"€12.50"``, ``"30 CHF"``, ``"¥1,500"`` never with sub-yen."""
    code = currency.strip().upper()
    rounded = round_money(amount, code)
    places = 0 if rounded == rounded.to_integral_value() else minor_digits(code)
    digits = f"{rounded:,.{places}f}"
    symbol = CURRENCY_SYMBOLS.get(code)
    return f"{symbol}{digits}" if symbol else f"{digits} {code}".strip()


def money_decimal(value: Amount | None, currency: str) -> str | None:
    """An amount for the API or a CSV file: a decimal string with the currency's places (``None`` stays ``None``)."""
    return None if value is None else f"{round_money(value, currency):.{minor_digits(currency)}f}"


def money_fields(values: dict[str, Any], names: Iterable[str], currency: str) -> dict[str, Any]:
    """A copy of ``values`` with the amounts under ``names`` as :func:`money_decimal` strings (absent names skipped)."""
    return {**values, **{name: money_decimal(values[name], currency) for name in names if name in values}}
