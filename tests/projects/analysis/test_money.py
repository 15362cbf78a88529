"""projects.analysis.money: the one money format of the platform's text."""

from __future__ import annotations

from decimal import Decimal

import pytest

from projects.analysis.money import format_money, money_decimal, price_tag


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


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [("29", "USD", "$29"), ("12.5", "eur", "€12.50"), ("1500", "GBP", "£1,500"), ("30", "CHF", "30 CHF")],
)
def test_a_price_tag_is_written_as_a_visitor_reads_it(amount, currency, text):
    assert price_tag(Decimal(amount), currency) == text


def test_the_api_gets_an_exact_two_place_decimal_string():
    assert money_decimal(Decimal("1234.5"), "USD") == "1234.50"
    assert money_decimal(Decimal("0.015"), "USD") == "0.02"  # half-even at the cent, as Decimal rounds by default
    assert money_decimal(None, "USD") is None


def test_templates_write_money_the_way_the_verdict_does():
    from django.template import Context, Template

    rendered = Template("{% load money %}{{ amount|money:'EUR' }}|{{ none|money:'EUR' }}").render(
        Context({"amount": 1234.5, "none": None})
    )
    assert rendered == "1,234.50 EUR|—"  # no amount is a dash, never 0.00
