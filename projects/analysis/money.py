"""Money as people read it, the one money format of the platform's text.

``format_money(1234.5, "EUR")`` is ``"1,234.50 EUR"``: thousands grouped, two decimals, the ISO 4217 code after
the amount, in every sentence the platform writes about money (test card criteria, verdict reasons).

Not the API's amounts: the API sends money as a decimal string without grouping or currency (``"1234.50"``, the
currency in a field of its own) so clients parse it exactly. That is a wire format, a different concern, and stays
with the API's reads.
"""

from __future__ import annotations

__all__ = ["format_money"]


def format_money(amount: float, currency: str) -> str:
    """``amount`` with thousands grouped and two decimals, then the currency code: ``"1,234.50 EUR"``."""
    return f"{amount:,.2f} {currency}"
