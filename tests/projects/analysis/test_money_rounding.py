"""projects.analysis.money: every amount rounded to its currency's minor unit (ISO 4217), whatever arithmetic made
it: a float quotient, a database sum read back as a 15-digit float, a currency without cents or with mils."""

from __future__ import annotations

from decimal import Decimal

import pytest

from projects.analysis.money import format_money, minor_digits, money_decimal, money_fields, price_tag, round_money


@pytest.mark.parametrize(("currency", "digits"), [("USD", 2), ("eur", 2), ("JPY", 0), ("KRW", 0), ("KWD", 3),
                                                  ("BHD", 3), ("CLF", 4), ("XYZ", 2)])  # fmt: skip
def test_minor_digits_follow_iso_4217(currency, digits):
    assert minor_digits(currency) == digits


@pytest.mark.parametrize(
    ("amount", "currency", "wire", "text"),
    [
        (Decimal("88.6000000000000"), "EUR", "88.60", "88.60 EUR"),  # SQLite's sum of 88.60
        (88.6, "EUR", "88.60", "88.60 EUR"),
        (504 / 34, "USD", "14.82", "14.82 USD"),
        (1500.4, "JPY", "1500", "1,500 JPY"),
        (Decimal("1234.5"), "JPY", "1234", "1,234 JPY"),  # half to even: 1234.5 -> 1234
        (Decimal("12.3456"), "KWD", "12.346", "12.346 KWD"),
        (1 / 3, "KWD", "0.333", "0.333 KWD"),
        (Decimal("1234567.891"), "USD", "1234567.89", "1,234,567.89 USD"),
        (0, "USD", "0.00", "0.00 USD"),
    ],
)
def test_money_is_a_decimal_rounded_to_the_minor_unit(amount, currency, wire, text):
    assert round_money(amount, currency) == Decimal(wire)
    assert isinstance(round_money(amount, currency), Decimal)
    assert money_decimal(amount, currency) == wire
    assert format_money(amount, currency) == text


def test_a_float_is_read_through_its_shortest_repr_not_its_binary_value():
    # 2.675 is 2.67499999999999982236431605997495353221893310546875 in binary; the platform computed 2.675.
    assert money_decimal(2.675, "USD") == "2.68"  # half to even on the decimal 2.675
    assert money_decimal(Decimal("2.665"), "USD") == "2.66"


def test_price_tags_round_too():
    assert price_tag(Decimal("1500.4"), "JPY") == "1,500 JPY"
    assert price_tag(Decimal("12.3456"), "KWD") == "12.346 KWD"
    assert price_tag(Decimal("12.5"), "USD") == "$12.50"


def test_money_fields_round_the_named_amounts_only():
    values = {"spend": 504.0, "cost": None, "visitors": 350, "rate": 0.0971}
    assert money_fields(values, ("spend", "cost", "absent"), "USD") == {
        "spend": "504.00", "cost": None, "visitors": 350, "rate": 0.0971,
    }  # fmt: skip


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "abc", True])
def test_not_an_amount_is_refused(bad):
    with pytest.raises((ValueError, TypeError)):
        round_money(bad, "USD")
