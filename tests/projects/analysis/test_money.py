"""projects.analysis.money: the one money format of the platform's text."""

from __future__ import annotations

import pytest

from projects.analysis.money import format_money


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (29, "USD", "29.00 USD"),
        (1234.5, "EUR", "1,234.50 EUR"),
        (0.5, "GBP", "0.50 GBP"),
        (1e6, "USD", "1,000,000.00 USD"),
    ],
)
def test_format_money(amount, currency, text):
    assert format_money(amount, currency) == text
