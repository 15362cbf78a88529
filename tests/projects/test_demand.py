"""projects.demand: the test card, the demand score and its verdict (pure Python, no database).

Every probability is checked against an independent reference (scipy.stats.beta / binom, or a closed form), and the
three acceptance cases of the issue have their arithmetic written out by hand next to the assertions.
"""

from __future__ import annotations

import json
import math

import pytest
from scipy import stats as sps

from projects import demand
from projects.demand import THRESHOLDS, Inputs, beta_sf, build_test_card, prob_rate_above, score

IDEA = "Chaser, invoice reminders for freelancers"


def saas_card(**overrides):
    """The acceptance card: a $29/month SaaS advertised on paid search at an expected $1.50 per click."""
    return build_test_card(
        idea=IDEA,
        channel="paid_search",
        price=29,
        currency="USD",
        business_model="saas",
        expected_cpc=1.5,
        overrides=overrides or None,
    )


def sf(successes, trials, bar):
    """Reference posterior P(rate > bar) with the uniform prior, from scipy."""
    return float(sps.beta.sf(bar, 1 + successes, 1 + trials - successes))


def reference_score(parts):
    """Score from (weight, probability or None) pairs: weights renormalised over the parts that have data."""
    present = [(w, p) for w, p in parts if p is not None]
    return 100.0 * sum(w * p for w, p in present) / sum(w for w, _ in present)


def probabilities(verdict):
    return {c.name: c.probability for c in verdict.components}


# --- beta_sf -------------------------------------------------------------------------------------------------------

SHAPES = {
    "no-data-uniform": (1.0, 1.0),
    "0-of-400": (1.0, 401.0),  # organic pull of the $29 case: nobody referred
    "30-of-30": (31.0, 1.0),  # every signup confirmed
    "30-of-400": (31.0, 371.0),  # signup pull / economics of the $29 case
    "2-of-30": (3.0, 29.0),  # purchase intent of the $29 case
    "6-of-2000": (7.0, 1995.0),
    "jeffreys-like": (0.5, 0.5),
    "fractional": (2.5, 7.25),
    "tiny-shapes": (0.01, 0.02),
    "50k-of-1M": (50_001.0, 950_001.0),
    "0-of-1M": (1.0, 1_000_001.0),
    "1M-of-1M": (1_000_001.0, 1.0),
}
BARS = [0.0, 1e-12, 1e-6, 0.01, 0.03, 0.05, 0.075, 0.19396551724137928, 0.5, 0.6, 0.9, 1.0 - 1e-9, 1.0]


@pytest.mark.parametrize(("a", "b"), [pytest.param(*v, id=k) for k, v in SHAPES.items()])
def test_beta_sf_matches_scipy(a, b):
    mean = a / (a + b)
    sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    bars = [*BARS, mean, min(1.0, mean + 2 * sd), max(0.0, mean - 3 * sd)]
    for bar in bars:
        assert beta_sf(bar, a, b) == pytest.approx(float(sps.beta.sf(bar, a, b)), abs=1e-9, rel=0), (a, b, bar)


def test_beta_sf_edges_are_exact():
    for a, b in SHAPES.values():
        assert beta_sf(0.0, a, b) == 1.0
        assert beta_sf(-0.5, a, b) == 1.0
        assert beta_sf(1.0, a, b) == 0.0
        assert beta_sf(1.5, a, b) == 0.0
    # Beta(1, 1) is uniform: P(X > x) = 1 - x.
    for x in (0.1, 0.5, 0.93):
        assert beta_sf(x, 1, 1) == pytest.approx(1 - x, abs=1e-15)


def test_beta_sf_keeps_relative_precision_in_the_upper_tail():
    # Closed forms: P(Beta(1, n) > x) = (1 - x)^n (0 successes) and P(Beta(a, 1) > x) = 1 - x^a (all successes).
    assert beta_sf(0.05, 1, 401) == pytest.approx(0.95**401, rel=1e-12)  # 1.2e-9, the $29 case's organic pull
    assert beta_sf(0.6, 31, 1) == pytest.approx(1 - 0.6**31, rel=1e-14)
    # The $29 case's economics: a 1.8e-11 tail keeps its digits (1 - I would leave ~1e-16 noise).
    reference = float(sps.beta.sf(1.5 / (29 * 0.8 * 20 / 3 * 0.05), 31, 371))
    assert 1e-12 < reference < 1e-10
    assert beta_sf(1.5 / (29 * 0.8 * 20 / 3 * 0.05), 31, 371) == pytest.approx(reference, rel=1e-9)


@pytest.mark.parametrize(("a", "b"), [(1, 1), (1, 401), (31, 1), (31, 371), (3, 29), (7, 1995), (120, 880)])
def test_beta_sf_equals_the_exact_binomial_sum_for_integer_shapes(a, b):
    # For integer shapes I_x(a, b) = P(Binomial(a + b - 1, x) >= a), so P(X > x) = P(Binomial(a + b - 1, x) <= a - 1).
    for bar in (0.001, 0.03, 0.05, 0.075, 0.2, 0.5, 0.8):
        assert beta_sf(bar, a, b) == pytest.approx(float(sps.binom.cdf(a - 1, a + b - 1, bar)), abs=1e-9, rel=0)


@pytest.mark.parametrize(("bar", "a", "b"), [(0.5, 0, 1), (0.5, 1, -1), (0.5, math.inf, 1), (math.nan, 1, 1)])
def test_beta_sf_rejects_invalid_arguments(bar, a, b):
    with pytest.raises(ValueError):
        beta_sf(bar, a, b)


def test_prob_rate_above_uses_the_uniform_prior_of_projects_stats():
    assert prob_rate_above(30, 400, 0.05) == pytest.approx(sf(30, 400, 0.05), abs=1e-12)
    assert prob_rate_above(0, 0, 0.25) == pytest.approx(0.75, abs=1e-15)  # no data: the uniform prior
    with pytest.raises(ValueError, match="cannot exceed"):
        prob_rate_above(5, 4, 0.1)


# --- THRESHOLDS ----------------------------------------------------------------------------------------------------


def test_every_default_is_in_the_one_table_with_a_source():
    for key, threshold in THRESHOLDS.items():
        assert threshold.source.strip() and threshold.why.strip(), key
        assert math.isfinite(threshold.value), key
    for channel in demand.CHANNELS:
        assert 0 < THRESHOLDS[f"signup_bar.{channel}"].value < 1
    for model in demand.BUSINESS_MODELS:
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
        THRESHOLDS["min_days"] = demand.Threshold(1, "x", "y")  # read-only: one place, not patched at runtime


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
