"""projects.analysis.score: the demand score and its verdict (pure Python, no database).

Every probability is checked against an independent reference (scipy.stats.beta / binom, or a closed form), and the
three acceptance cases of the issue have their arithmetic written out by hand next to the assertions.
"""

from __future__ import annotations

import json

import pytest

from projects.analysis.score import score
from projects.analysis.score_inputs import Inputs
from projects.analysis.thresholds import THRESHOLDS
from tests.projects.analysis.cards import probabilities, reference_score, saas_card, sf

# --- Acceptance cases ----------------------------------------------------------------------------------------------


def test_acceptance_29_dollar_saas_is_inconclusive_because_acquisition_costs_too_much():
    # $29/month SaaS, 400 paid-search visitors, 30 confirmed signups, 2 pre-orders, $1.50 per click ($600 spend).
    card = saas_card()
    inputs = Inputs(days=14, visitors=400, signups=30, confirmed=30, preorders=2, spend=600.0, clicks=400)
    verdict = score(card, inputs)

    # Economics, by hand: LTV = 29 x 0.80 x 20 = 464.00; allowable CAC = 464 / 3 = 154.67; allowable cost per lead
    # = 154.67 x 5 % = 7.73. Observed conversion 30 / 400 = 7.5 %, so a signup costs 1.50 / 0.075 = 20.00, i.e.
    # 20.00 / 7.73 = 2.59x what the price can carry (break-even conversion 1.50 / 7.73 = 19.4 %, 2.59x the 7.5 %).
    assert verdict.cost_per_click == pytest.approx(1.5)
    assert verdict.cost_per_signup == pytest.approx(20.0)
    assert verdict.acquisition_cost_ratio == pytest.approx(20.0 / (464 / 3 * 0.05))
    assert 2.4 < verdict.acquisition_cost_ratio < 2.7  # "about 2.5x what the price can carry"
    assert any("2.6x what the price can carry" in reason for reason in verdict.reasons)

    # Components (posterior Beta(1 + successes, 1 + failures), P(rate > bar)):
    #   signup pull     P(Beta(31, 371) > 5 %)      = 0.9882   weight 35 -> 34.59
    #   purchase intent P(Beta(3, 29) > 3 %)        = 0.9349   weight 25 -> 23.37
    #   unit economics  P(Beta(31, 371) > 19.4 %)   = 1.8e-11  weight 25 ->  0.00
    #   signup quality  P(Beta(31, 1) > 60 %)       = 1 - 0.6^31 = 1.0000  weight 10 -> 10.00
    #   organic pull    P(Beta(1, 401) > 5 %)       = 0.95^401 = 1.2e-9    weight  5 ->  0.00
    #   score = 34.59 + 23.37 + 0 + 10.00 + 0 = 67.96 -> 68.0 (all five have data: weights sum to 100)
    p = probabilities(verdict)
    break_even = 1.5 / (464 / 3 * 0.05)
    expected = {
        "signup_pull": sf(30, 400, 0.05),
        "purchase_intent": sf(2, 30, 0.03),
        "unit_economics": sf(30, 400, break_even),
        "signup_quality": sf(30, 30, 0.6),
        "organic_pull": sf(0, 400, 0.05),
    }
    for name, value in expected.items():
        assert p[name] == pytest.approx(value, abs=1e-9), name
    assert p["signup_pull"] == pytest.approx(0.9882, abs=1e-4)
    assert p["purchase_intent"] == pytest.approx(0.9349, abs=1e-4)
    assert p["unit_economics"] < 1e-10
    reference = reference_score([(35, expected["signup_pull"]), (25, expected["purchase_intent"]),
                                 (25, expected["unit_economics"]), (10, expected["signup_quality"]),
                                 (5, expected["organic_pull"])])  # fmt: skip
    assert reference == pytest.approx(67.96, abs=0.01)
    assert verdict.score == round(reference, 1) == 68.0
    assert abs(verdict.score - 68) <= 2

    # Verdict: score 68 < 70 and economics 0.00 < 0.8 -> not validated-able; score >= 35 and pull 0.99 > 0.1 -> not a
    # failure either: inconclusive. Weakest: economics loses 25 x (1 - 0) = 25 points, organic only 5.
    assert verdict.verdict == "inconclusive"
    assert verdict.weakest == "unit_economics"
    assert verdict.reasons[0].startswith("Inconclusive:")
    assert "unit economics" in verdict.reasons[1]
    # The report cites the thresholds it used, with their sources.
    for key in ("validated_economics", "ltv_cac_ratio", "signup_bar.paid_search", "intent_bar", "min_visitors"):
        assert verdict.thresholds[key]["source"] == THRESHOLDS[key].source
    assert [c.source_key for c in verdict.components] == [
        "signup_bar.paid_search",
        "intent_bar",
        "ltv_cac_ratio",
        "quality_bar",
        "organic_bar",
    ]
    json.dumps(verdict.to_dict())


def test_acceptance_120_visitors_is_not_enough_data_with_what_is_still_needed():
    # 120 paid-search visitors in 7 days, 9 signups (7.5 %), $180 spent on 120 clicks ($1.50 per click).
    verdict = score(
        saas_card(), Inputs(days=7, visitors=120, signups=9, confirmed=9, preorders=0, spend=180.0, clicks=120)
    )
    assert verdict.verdict == "not enough data"
    assert verdict.score is None and verdict.components == ()  # gates precede scoring
    # Visitors: the visitor gate needs 300 - 120 = 180 more; the signup gate needs 25 - 9 = 16 more signups, which at
    # the posterior-mean rate (9 + 1) / (120 + 2) = 8.2 % take ceil(16 x 122 / 10) = ceil(195.2) = 196 visitors.
    # The larger, 196, is still needed; at 120 / 7 = 17.1 visitors a day that is ceil(196 / 17.14) = 12 days, and at
    # $1.50 per click 196 x 1.50 = $294 of ads.
    assert verdict.signups_needed == 16
    assert verdict.visitors_needed == 196
    assert verdict.days_needed == 12
    assert verdict.budget_needed == pytest.approx(294.0)
    assert "120 of 300 human cold visitors [min_visitors]" in verdict.reasons[0]
    assert "196 more cold visitors" in verdict.reasons[1] and "294.00 USD" in verdict.reasons[1]
    json.dumps(verdict.to_dict())


def test_acceptance_2000_visitors_6_signups_is_not_validated():
    # 2,000 paid-search visitors over 14 days, 6 signups (0.3 %). Days and visitors gates are met; the signup gate
    # (25) is not, but the futility stop comes first: P(Beta(7, 1995) > 5 %) = 5e-36 <= 0.1 - no amount of extra
    # traffic will lift a 0.3 % rate over 5 %.
    inputs = Inputs(days=14, visitors=2000, signups=6, confirmed=5, preorders=0, spend=3000.0, clicks=2000)
    verdict = score(saas_card(), inputs)
    assert verdict.verdict == "not validated"
    assert probabilities(verdict)["signup_pull"] == pytest.approx(sf(6, 2000, 0.05), abs=1e-12)
    assert probabilities(verdict)["signup_pull"] < 1e-30
    assert "futility" in verdict.reasons[0]
    assert verdict.score is not None and verdict.score < 35
    assert verdict.weakest is None


# --- Renormalisation -----------------------------------------------------------------------------------------------


def test_without_spend_economics_is_absent_and_the_rest_renormalised_over_75():
    inputs = Inputs(
        days=14, visitors=400, signups=30, confirmed=24, preorders=2, warm_visitors=40, referred_visitors=30
    )
    verdict = score(saas_card(), inputs)
    by_name = {c.name: c for c in verdict.components}
    assert by_name["unit_economics"].probability is None
    assert by_name["unit_economics"].renormalised_weight == 0.0
    # 35 + 25 + 10 + 5 = 75: each remaining weight is divided by 75.
    assert {n: c.renormalised_weight for n, c in by_name.items() if c.probability is not None} == pytest.approx(
        {"signup_pull": 35 / 75, "purchase_intent": 25 / 75, "signup_quality": 10 / 75, "organic_pull": 5 / 75}
    )
    expected = reference_score(
        [
            (35, sf(30, 400, 0.05)),
            (25, sf(2, 30, 0.03)),
            (25, None),
            (10, sf(24, 30, 0.6)),
            (5, sf(30, 440, 0.05)),  # referred share of all human visitors (cold + warm): 30 / 440
        ]
    )
    assert verdict.score == round(expected, 1)
    assert verdict.acquisition_cost_ratio is None
    assert any("Unit economics: not scored" in reason for reason in verdict.reasons)


def test_unmeasured_intent_and_quality_are_absent_not_zero():
    # No pre-order button, no confirmation step, no spend: only signup pull (35) and organic pull (5) remain.
    verdict = score(saas_card(), Inputs(days=14, visitors=400, signups=30))
    weights = {c.name: c.renormalised_weight for c in verdict.components if c.probability is not None}
    assert weights == pytest.approx({"signup_pull": 35 / 40, "organic_pull": 5 / 40})
    assert verdict.score == round(reference_score([(35, sf(30, 400, 0.05)), (5, sf(0, 400, 0.05))]), 1)


# --- Gates ---------------------------------------------------------------------------------------------------------

HEALTHY = {"days": 14, "visitors": 400, "signups": 30, "confirmed": 30, "preorders": 2, "spend": 600.0, "clicks": 400}


def test_seven_days_gate():
    short = score(saas_card(), Inputs(**(HEALTHY | {"days": 6.9})))
    assert short.verdict == "not enough data"
    assert short.days_needed == 1 and short.visitors_needed == 0 and short.signups_needed == 0
    assert "[min_days]" in short.reasons[0]
    assert score(saas_card(), Inputs(**(HEALTHY | {"days": 7}))).verdict == "inconclusive"


def test_300_visitors_gate():
    # 30 signups of 299 (10 %) still waits for the 300th visitor; of 300 it is scored.
    assert score(saas_card(), Inputs(**(HEALTHY | {"visitors": 299, "clicks": 299}))).verdict == "not enough data"
    assert score(saas_card(), Inputs(**(HEALTHY | {"visitors": 300, "clicks": 300}))).verdict == "inconclusive"


def test_25_signups_gate():
    # 24 of 300 (8 %): the pull is high (P = 0.98), so no futility stop; the signup gate holds the verdict back.
    few = score(saas_card(), Inputs(days=14, visitors=300, signups=24, confirmed=20, preorders=2))
    assert few.verdict == "not enough data"
    assert few.signups_needed == 1
    # 1 more signup at (24 + 1) / (300 + 2) takes ceil(302 / 25) = 13 visitors.
    assert few.visitors_needed == 13
    assert few.budget_needed == pytest.approx(13 * 1.5)  # no spend yet: the card's expected cost per click
    assert "[min_signups]" in few.reasons[0]
    enough = score(saas_card(), Inputs(days=14, visitors=300, signups=25, confirmed=20, preorders=2))
    assert enough.verdict != "not enough data" and enough.score is not None


def test_srm_is_unhealthy_and_comes_before_every_other_gate():
    verdict = score(saas_card(), Inputs(days=1, visitors=10, signups=0, srm_unhealthy=True))
    assert verdict.verdict == "unhealthy"
    assert verdict.score is None and verdict.visitors_needed is None
    assert "sample ratio mismatch" in verdict.reasons[0]


def test_bot_share_above_30_percent_is_unhealthy():
    bots = score(saas_card(), Inputs(**(HEALTHY | {"bot_share": 0.31})))
    assert bots.verdict == "unhealthy"
    assert "31% of the traffic is bots" in bots.reasons[0]
    assert bots.thresholds["max_bot_share"]["value"] == 0.30
    assert score(saas_card(), Inputs(**(HEALTHY | {"bot_share": 0.30}))).verdict == "inconclusive"


def test_srm_and_bots_are_both_reported():
    verdict = score(saas_card(), Inputs(**(HEALTHY | {"bot_share": 0.5, "srm_unhealthy": True})))
    assert verdict.verdict == "unhealthy"
    assert len(verdict.reasons) == 2


# --- Warm traffic --------------------------------------------------------------------------------------------------


def test_warm_traffic_alone_never_validates():
    verdict = score(saas_card(), Inputs(days=30, visitors=0, signups=0, warm_visitors=5000, warm_signups=500))
    assert verdict.verdict == "not enough data"
    assert verdict.visitors_needed == 300
    assert verdict.signups_needed == 25
    assert verdict.days_needed is None  # no cold traffic to extrapolate from
    assert verdict.warm_visitors == 5000 and verdict.warm_signups == 500
    assert any("Warm traffic" in reason and "never counts" in reason for reason in verdict.reasons)


def test_warm_traffic_does_not_move_the_signup_pull_or_rescue_a_failing_page():
    cold = {"days": 14, "visitors": 2000, "signups": 6, "confirmed": 5, "preorders": 0}
    alone = score(saas_card(), Inputs(**cold))
    with_warm = score(saas_card(), Inputs(**cold, warm_visitors=5000, warm_signups=500))
    assert with_warm.verdict == alone.verdict == "not validated"
    assert probabilities(with_warm)["signup_pull"] == probabilities(alone)["signup_pull"]


# --- Verdicts ------------------------------------------------------------------------------------------------------


def test_a_clearly_validated_page():
    # 1,000 paid-search visitors, 120 signups (12 %), 100 confirmed, 12 pre-orders (10 % of signups), $0.50 per click
    # (break-even 0.50 / 7.73 = 6.5 %, well under 12 %), 80 of 1,100 human visitors referred (7.3 % > 5 %).
    inputs = Inputs(
        days=14,
        visitors=1000,
        signups=120,
        confirmed=100,
        preorders=12,
        spend=500.0,
        clicks=1000,
        warm_visitors=100,
        warm_signups=30,
        referred_visitors=80,
    )
    verdict = score(saas_card(), inputs)
    assert verdict.verdict == "validated"
    assert verdict.weakest is None
    p = probabilities(verdict)
    assert p["unit_economics"] == pytest.approx(sf(120, 1000, 0.5 / (464 / 3 * 0.05)), abs=1e-9)
    assert min(p.values()) > 0.99
    assert verdict.score >= 99
    assert verdict.acquisition_cost_ratio == pytest.approx((0.5 / 0.12) / (464 / 3 * 0.05))


def test_strong_signups_with_unaffordable_clicks_are_not_validated():
    # Same page at $1.50 per click: every other component ~1 (score 75 >= 70) but economics ~0 < 0.8.
    inputs = Inputs(days=14, visitors=1000, signups=120, confirmed=100, preorders=12, spend=1500.0, clicks=1000)
    verdict = score(saas_card(), inputs)
    assert verdict.score >= 70
    assert verdict.verdict == "inconclusive"
    assert verdict.weakest == "unit_economics"


def test_weakest_is_the_component_costing_most_points_not_the_lowest_probability():
    # No spend; 0 of 40 signups pre-ordered: intent P(Beta(1, 41) > 3 %) = 0.97^41 = 0.287 (loses 25/75 x 0.71 = 23.8
    # points), nobody referred: organic P ~ 0 (the lowest probability, but loses only 5/75 = 6.7 points).
    verdict = score(saas_card(), Inputs(days=14, visitors=400, signups=40, confirmed=40, preorders=0))
    p = probabilities(verdict)
    assert p["purchase_intent"] == pytest.approx(0.97**41, rel=1e-9)
    assert p["organic_pull"] < p["purchase_intent"]
    assert verdict.verdict == "inconclusive"
    assert verdict.weakest == "purchase_intent"


def test_low_score_is_not_validated():
    # 27 of 600 signed up (4.5 %, P(> 5 %) = 0.32 > 0.1: no futility stop), 5 confirmed, 0 pre-orders, $1.50 clicks.
    inputs = Inputs(days=14, visitors=600, signups=27, confirmed=5, preorders=0, spend=900.0)
    verdict = score(saas_card(), inputs)
    p = probabilities(verdict)
    assert p["signup_pull"] > 0.1
    expected = reference_score(
        [
            (35, sf(27, 600, 0.05)),
            (25, sf(0, 27, 0.03)),
            (25, sf(27, 600, 1.5 / (464 / 3 * 0.05))),
            (10, sf(5, 27, 0.6)),
            (5, sf(0, 600, 0.05)),
        ]
    )
    assert verdict.score == round(expected, 1) < 35
    assert verdict.verdict == "not validated"
    assert verdict.cost_per_click == pytest.approx(1.5)  # spend / visitors when clicks are not reported


def test_futility_stop_at_exactly_the_threshold_boundary_uses_the_pull():
    # A pull just above 0.1 is not a futility stop; the same page with fewer signups is.
    above = score(saas_card(), Inputs(days=14, visitors=600, signups=24))
    below = score(saas_card(), Inputs(days=14, visitors=600, signups=18))
    assert sf(24, 600, 0.05) > 0.1 > sf(18, 600, 0.05)
    assert above.verdict == "not enough data"  # 24 < 25 signups, and no futility
    assert below.verdict == "not validated"


def test_the_days_of_an_early_verdict_read_as_days_not_a_long_fraction():
    reasons = score(saas_card(), Inputs(days=2.00004, visitors=48, signups=3)).reasons
    assert any("2 of 7 days [min_days]" in r for r in reasons), reasons
    assert not any("2.00004" in r for r in reasons)
