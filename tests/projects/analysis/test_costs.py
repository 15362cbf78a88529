"""projects.analysis.costs and the costs of the demand verdict: spend / attributed conversions, as the ad platforms
report them; spend / paid visitors where the model reasons in visitors; nothing without spend."""

from __future__ import annotations

from decimal import Decimal

import pytest

from projects.analysis.costs import cost_per
from projects.analysis.score import score
from projects.analysis.score_inputs import Inputs
from tests.projects.analysis.cards import saas_card, sf

# The issue's run: 360 paid clicks, 350 visitors reached the page, $504 spent, 34 attributed signups.
ISSUE = {"days": 14, "visitors": 350, "signups": 34, "spend": 504.0, "clicks": 360, "paid_visitors": 350,
         "paid_signups": 34}  # fmt: skip
ALLOWABLE = 464 / 3 * 0.05  # the acceptance card: LTV 464 / 3 x 5 % signup-to-customer


def test_cost_per_result_is_spend_over_results():
    assert cost_per(504.0, 34) == pytest.approx(14.823529)
    assert cost_per(Decimal("504.00"), 34) == Decimal("504.00") / 34


@pytest.mark.parametrize(("spend", "results"), [(0.0, 34), (Decimal(0), 34), (504.0, 0), (504.0, None)])
def test_no_cost_without_spend_or_results(spend, results):
    assert cost_per(spend, results) is None


def test_the_issue_figures_cost_14_82_per_signup_not_14_41():
    verdict = score(saas_card(), Inputs(**ISSUE))
    assert verdict.cost_per_click == pytest.approx(504 / 360)  # 1.40
    assert verdict.cost_per_visitor == pytest.approx(504 / 350)  # 1.44
    assert verdict.cost_per_signup == pytest.approx(504 / 34)  # 14.82, was 1.40 x 350 / 34 = 14.41
    assert verdict.cost_per_signup != pytest.approx(504 / 360 * 350 / 34)
    assert verdict.acquisition_cost_ratio == pytest.approx((504 / 34) / ALLOWABLE)
    economics = next(c for c in verdict.components if c.name == "unit_economics")
    assert economics.bar == pytest.approx((504 / 350) / ALLOWABLE)
    assert economics.probability == pytest.approx(sf(34, 350, (504 / 350) / ALLOWABLE), abs=1e-12)
    assert any("so a signup costs 14.82 USD" in reason for reason in verdict.reasons)


def test_costs_divide_by_the_attributed_part_not_all_cold_traffic():
    # 500 cold visitors of whom 300 came by the ads (the other 200 by search); $450 bought the 300 and their 20
    # signups. A visitor cost 1.50, a signup 22.50, a pre-order 45.00 and a confirmed signup 30.00.
    inputs = Inputs(days=14, visitors=500, signups=40, confirmed=30, preorders=12, spend=450.0, paid_visitors=300,
                    paid_signups=20, paid_preorders=10, paid_confirmed=15)  # fmt: skip
    verdict = score(saas_card(), inputs)
    assert verdict.cost_per_visitor == pytest.approx(1.5)
    assert verdict.cost_per_signup == pytest.approx(22.5)
    assert verdict.cost_per_preorder == pytest.approx(45.0)
    assert verdict.cost_per_confirmed_signup == pytest.approx(30.0)
    economics = next(c for c in verdict.components if c.name == "unit_economics")
    assert (economics.successes, economics.trials) == (20, 300)


def test_without_spend_every_cost_is_none():
    verdict = score(saas_card(), Inputs(days=14, visitors=400, signups=30, paid_visitors=200, paid_signups=10))
    assert verdict.cost_per_signup is None and verdict.cost_per_visitor is None
    assert verdict.cost_per_preorder is None and verdict.acquisition_cost_ratio is None


def test_spend_with_no_paid_visitor_yet_judges_no_economics():
    verdict = score(
        saas_card(), Inputs(days=14, visitors=400, signups=30, spend=100.0, paid_visitors=0, paid_signups=0)
    )
    assert next(c for c in verdict.components if c.name == "unit_economics").probability is None
    assert verdict.cost_per_signup is None and verdict.cost_per_visitor is None


def test_the_budget_for_more_visitors_is_at_the_cost_per_paid_visitor():
    # 120 paid visitors of 130 clicks for $195: 1.625 per visitor (1.50 per click); 196 more visitors cost 318.50.
    verdict = score(saas_card(), Inputs(days=7, visitors=120, signups=9, spend=195.0, clicks=130))
    assert verdict.visitors_needed == 196
    assert verdict.budget_needed == pytest.approx(196 * 195 / 120)
    assert "318.50 USD of ads at the observed 1.62 USD per paid visitor" in verdict.reasons[1]


def test_paid_signups_cannot_exceed_paid_visitors():
    with pytest.raises(ValueError, match="paid_signups"):
        Inputs(days=1, visitors=10, signups=5, paid_visitors=2, paid_signups=3)
