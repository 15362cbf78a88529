"""projects.analysis.test_card: the hypothesis and bars a page is judged against (pure Python, no database)."""

from __future__ import annotations

import json
import math

import pytest

from projects.analysis.test_card import build_test_card
from projects.analysis.thresholds import THRESHOLDS
from tests.projects.analysis.cards import IDEA, saas_card

# --- Test card -----------------------------------------------------------------------------------------------------


def test_card_of_the_29_dollar_saas():
    card = saas_card()
    # LTV = price x margin x months = 29 x 0.80 x 20 (5 % monthly churn) = 464.00
    assert card.ltv == pytest.approx(464.0)
    # Allowable CAC = LTV / 3 = 154.67; allowable cost per lead = 154.67 x 5 % signup-to-customer = 7.7333
    assert card.allowable_cac == pytest.approx(464.0 / 3)
    assert card.allowable_cost_per_lead == pytest.approx(464.0 / 3 * 0.05)
    # Break-even conversion = CPC / allowable cost per lead = 1.50 / 7.7333 = 19.40 %
    assert card.break_even_conversion == pytest.approx(1.5 / 7.733333333, rel=1e-6)
    assert card.break_even_conversion == pytest.approx(0.19397, abs=1e-5)
    assert card.signup_bar == 0.05 and card.intent_bar == 0.03
    assert (
        card.hypothesis
        == f"At least 5.0% of cold visitors from paid search will sign up for {IDEA} at 29.00 USD per month."
    )
    assert card.sources["signup_bar"] == "signup_bar.paid_search"
    assert card.sources["gross_margin"] == "gross_margin.saas"
    assert any("19.4%" in line for line in card.criteria)
    payload = card.to_dict()
    json.dumps(payload)
    assert payload["allowable_cost_per_lead"] == pytest.approx(7.73333, abs=1e-5)


def test_card_without_expected_cpc_has_no_break_even():
    card = build_test_card(idea=IDEA, channel="social", price=49, currency="eur", business_model="course")
    assert card.break_even_conversion is None
    assert card.currency == "EUR"
    # A course is bought once: LTV = 49 x 0.85 x 1.
    assert card.ltv == pytest.approx(49 * 0.85)
    assert card.signup_bar == THRESHOLDS["signup_bar.social"].value
    assert "per month" not in card.hypothesis


def test_overrides_replace_defaults_and_are_marked():
    card = saas_card(signup_bar=0.1, gross_margin=0.7, ltv_periods=36, signup_to_customer=0.1)
    assert card.signup_bar == 0.1
    assert card.ltv == pytest.approx(29 * 0.7 * 36)
    assert card.allowable_cost_per_lead == pytest.approx(29 * 0.7 * 36 / 3 * 0.1)
    assert card.sources["signup_bar"] == "override" and card.sources["intent_bar"] == "intent_bar"
    assert "10.0%" in card.hypothesis


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"min_visitors": 100}, "unknown override.*'min_visitors'"),
        ({"signup_rate": 0.1}, "unknown override.*'signup_rate'"),
        ({"signup_bar": 0}, r"'signup_bar' must be in \(0, 1\)"),
        ({"signup_bar": 1}, r"'signup_bar' must be in \(0, 1\)"),
        ({"intent_bar": 1.5}, r"'intent_bar' must be in \(0, 1\)"),
        ({"quality_bar": -0.1}, "'quality_bar' must be in"),
        ({"gross_margin": 0}, r"'gross_margin' must be in \(0, 1\]"),
        ({"gross_margin": 1.2}, "'gross_margin' must be in"),
        ({"ltv_cac_ratio": 0.5}, r"'ltv_cac_ratio' must be in \[1, 10\]"),
        ({"ltv_cac_ratio": 11}, "'ltv_cac_ratio' must be in"),
        ({"ltv_periods": 0}, r"'ltv_periods' must be in \(0, 120\]"),
        ({"ltv_periods": 121}, "'ltv_periods' must be in"),
        ({"signup_to_customer": 0}, "'signup_to_customer' must be in"),
        ({"organic_bar": True}, "'organic_bar' must be a finite number"),
        ({"signup_bar": "0.1"}, "'signup_bar' must be a finite number"),
        ({"signup_bar": math.nan}, "'signup_bar' must be a finite number"),
        ({"gross_margin": math.inf}, "'gross_margin' must be a finite number"),
    ],
)
def test_invalid_overrides_are_refused_with_a_clear_message(overrides, message):
    with pytest.raises(ValueError, match=message):
        saas_card(**overrides)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"channel": "tiktok"}, "unknown channel 'tiktok'"),
        ({"business_model": "marketplace"}, "unknown business model 'marketplace'"),
        ({"price": 0}, "price must be > 0"),
        ({"price": -29}, "price must be > 0"),
        ({"currency": "dollars"}, "currency must be a 3-letter"),
        ({"expected_cpc": 0}, "expected_cpc must be > 0"),
        ({"idea": "  "}, "idea must be a non-empty string"),
    ],
)
def test_invalid_card_arguments_are_refused(changes, message):
    arguments = {
        "idea": IDEA,
        "channel": "paid_search",
        "price": 29,
        "currency": "USD",
        "business_model": "saas",
        "expected_cpc": 1.5,
    }
    with pytest.raises(ValueError, match=message):
        build_test_card(**(arguments | changes))
