"""projects.analysis.thresholds: the one table of defaults, each with its source, and the rules shared with the
A/B experiments. No database is used.
"""

from __future__ import annotations

import math

import pytest

from projects.analysis import thresholds
from projects.analysis.thresholds import THRESHOLDS

# --- THRESHOLDS ----------------------------------------------------------------------------------------------------


def test_every_default_is_in_the_one_table_with_a_source():
    for key, threshold in THRESHOLDS.items():
        assert threshold.source.strip() and threshold.why.strip(), key
        assert math.isfinite(threshold.value), key
    for channel in thresholds.CHANNELS:
        assert 0 < THRESHOLDS[f"signup_bar.{channel}"].value < 1
    for model in thresholds.BUSINESS_MODELS:
        assert 0 < THRESHOLDS[f"gross_margin.{model}"].value <= 1
        assert THRESHOLDS[f"ltv_periods.{model}"].value >= 1
    expected = {
        "min_days": 7,
        "min_visitors": 300,
        "min_signups": 25,
        "max_bot_share": 0.30,
        "validated_score": 70,
        "not_validated_score": 35,
        "validated_pull": 0.8,
        "validated_economics": 0.8,
        "validated_intent": 0.5,
        "futility_pull": 0.1,
        "ltv_cac_ratio": 3,
        "gross_margin.saas": 0.8,
        "weight.signup_pull": 35,
        "weight.purchase_intent": 25,
        "weight.unit_economics": 25,
        "weight.signup_quality": 10,
        "weight.organic_pull": 5,
    }
    assert {key: THRESHOLDS[key].value for key in expected} == expected
    assert "forentrepreneurs.com" in THRESHOLDS["ltv_cac_ratio"].source  # Skok, SaaS Metrics 2.0
    with pytest.raises(TypeError):
        THRESHOLDS["min_days"] = thresholds.Threshold(1, "x", "y")  # read-only: one place, not patched at runtime


# --- One rule, one number ------------------------------------------------------------------------------------------


def test_the_demand_gates_read_the_experiment_gates_they_share():
    assert THRESHOLDS["min_days"].value == thresholds.MIN_DAYS == 7
    assert THRESHOLDS["min_signups"].value == thresholds.MIN_CONVERSIONS_PER_VARIANT == 25
    assert "thresholds.MIN_DAYS" in THRESHOLDS["min_days"].source
    assert "thresholds.MIN_CONVERSIONS_PER_VARIANT" in THRESHOLDS["min_signups"].source


def test_the_bot_share_limit_is_the_table_entry():
    assert thresholds.BOT_SHARE_LIMIT == THRESHOLDS["max_bot_share"].value == 0.30
    assert thresholds.value_of("max_bot_share") == thresholds.BOT_SHARE_LIMIT
