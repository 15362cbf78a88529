"""projects.analysis.score_inputs: the counts the demand score reads, validated (pure Python, no database)."""

from __future__ import annotations

import pytest

from projects.analysis.score_inputs import Inputs

# --- Inputs --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"visitors": 10, "signups": 11}, "signups .* cannot exceed visitors"),
        ({"visitors": 10, "signups": 5, "confirmed": 6}, "confirmed .* cannot exceed signups"),
        ({"visitors": 10, "signups": 5, "preorders": 6}, "preorders .* cannot exceed signups"),
        ({"visitors": 10, "signups": 5, "warm_visitors": 3, "referred_visitors": 4}, "referred_visitors"),
        ({"visitors": -1, "signups": 0}, "visitors must be a non-negative integer"),
        ({"visitors": True, "signups": 0}, "visitors must be a non-negative integer"),
        ({"visitors": 10.0, "signups": 0}, "visitors must be a non-negative integer"),
        ({"visitors": 10, "signups": 0, "bot_share": 1.5}, "bot_share"),
        ({"visitors": 10, "signups": 0, "cost_per_click": 0}, "cost_per_click"),
        ({"visitors": 10, "signups": 0, "spend": -5}, "spend"),
        ({"visitors": 10, "signups": 0, "days": -1}, "days"),
    ],
)
def test_invalid_inputs_are_refused(fields, message):
    with pytest.raises(ValueError, match=message):
        Inputs(**({"days": 14} | fields))


def test_cost_per_click_sources():
    assert Inputs(days=7, visitors=400, signups=0, spend=600.0, cost_per_click=2.0).observed_cpc == 2.0
    assert Inputs(days=7, visitors=400, signups=0, spend=600.0, clicks=300).observed_cpc == 2.0
    assert Inputs(days=7, visitors=400, signups=0, spend=600.0).observed_cpc == 1.5
    assert Inputs(days=7, visitors=400, signups=0).observed_cpc is None
