"""projects.analysis.experiments (analyse) checked against independent references (scipy / statsmodels / numpy).

No database is used.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import (
    proportion_confint,
    proportions_ztest,
)

from projects.analysis import experiments, planning, thresholds
from projects.analysis.experiments import Arm
from tests.projects.analysis.references import (
    EXACT,
    has_variance,
    numpy_reference,
    ref_loss,
    ref_prob_beat,
    reference_tolerances,
)

# --- analyse -------------------------------------------------------------------------------------------------------


def arms_of(*counts, weights=None):
    """counts: (visitors, conversions) per arm; the first arm is the control."""
    weights = weights or [1.0] * len(counts)
    keys = ["control", "b", "c", "d", "e", "f"]
    return [
        Arm(key=keys[i], weight=weights[i], visitors=v, conversions=c, is_control=i == 0)
        for i, (v, c) in enumerate(counts)
    ]


ANALYSE_CASES = {
    "zero-conversions": arms_of((200, 0), (200, 0)),
    "all-conversions": arms_of((50, 50), (48, 48)),
    "one-visitor": arms_of((1, 1), (1, 0)),
    "zero-visitors-arm": arms_of((120, 12), (0, 0)),
    "unequal-80-20": arms_of((4000, 160), (1000, 55), weights=[80, 20]),
    "five-variants": arms_of((1000, 20), (1000, 30), (1000, 25), (1000, 22), (1000, 28)),
    "typical": arms_of((1000, 100), (1000, 120)),
}


@pytest.mark.parametrize("arms", [pytest.param(v, id=k) for k, v in ANALYSE_CASES.items()])
def test_analyse_figures_match_references(arms):
    analysis = experiments.analyse(arms, days_running=10)
    payload = analysis.to_dict()
    json.dumps(payload, allow_nan=False)  # JSON-ready: no NaN/inf anywhere

    control = arms[0]
    variants = arms[1:]
    assert [a["key"] for a in payload["arms"]] == [arm.key for arm in arms]
    total_weight = sum(arm.weight for arm in arms)
    for arm, result in zip(arms, analysis.arms, strict=True):
        assert result.weight_share == pytest.approx(arm.weight / total_weight)
        if arm.visitors:
            ref = proportion_confint(arm.conversions, arm.visitors, method="wilson")
            assert (result.wilson_low, result.wilson_high) == pytest.approx(ref, abs=1e-12)
            assert result.rate == arm.conversions / arm.visitors
        else:
            assert result.rate is None
            assert (result.wilson_low, result.wilson_high) == (0.0, 1.0)
    assert sum(r.prob_best for r in analysis.arms) == pytest.approx(1.0, abs=1e-9)

    raw_p = []
    for arm, result in zip(variants, analysis.arms[1:], strict=True):
        args = (control.conversions, control.visitors, arm.conversions, arm.visitors)
        if has_variance(*args):
            ref_z, ref_p = proportions_ztest([arm.conversions, control.conversions], [arm.visitors, control.visitors])
            assert (result.z, result.p_value) == pytest.approx((ref_z, ref_p), rel=1e-9)
        else:
            assert (result.z, result.p_value) == (0.0, 1.0)
        assert result.prob_beat_control == pytest.approx(ref_prob_beat(*args), abs=EXACT)
        raw_p.append(result.p_value)
    holm_ref = multipletests(raw_p, method="holm")[1]
    assert [r.p_value_holm for r in analysis.arms[1:]] == pytest.approx(list(holm_ref), abs=1e-15)

    f_exp = np.array([arm.weight for arm in arms]) / total_weight * sum(arm.visitors for arm in arms)
    if f_exp.sum() > 0:
        ref = sps.chisquare([arm.visitors for arm in arms], f_exp)
        assert analysis.srm.statistic == pytest.approx(ref.statistic, rel=1e-12, abs=1e-12)
        assert analysis.srm.p_value == pytest.approx(ref.pvalue, rel=EXACT)

    if len(arms) == 2:  # exact Bayesian figures for two arms
        args = (control.conversions, control.visitors, variants[0].conversions, variants[0].visitors)
        assert analysis.arms[1].prob_best == pytest.approx(ref_prob_beat(*args), abs=EXACT)
        assert analysis.arms[1].expected_loss == pytest.approx(ref_loss(*args), abs=EXACT)
        swapped = (args[2], args[3], args[0], args[1])
        assert analysis.arms[0].expected_loss == pytest.approx(ref_loss(*swapped), abs=EXACT)
    else:
        ref_probs, ref_losses, loss_sd = numpy_reference([(arm.conversions, arm.visitors) for arm in arms])
        prob_tolerances, loss_tolerances = reference_tolerances(ref_probs, loss_sd)
        for result, prob, loss, prob_tolerance, loss_tolerance in zip(
            analysis.arms, ref_probs, ref_losses, prob_tolerances, loss_tolerances, strict=True
        ):
            assert result.prob_best == pytest.approx(prob, abs=prob_tolerance)
            assert result.expected_loss == pytest.approx(loss, abs=loss_tolerance)

    # Control carries no "vs control" figures.
    control_row = payload["arms"][0]
    for field in ("lift", "z", "p_value", "p_value_holm", "prob_beat_control", "always_valid_p"):
        assert control_row[field] is None


@pytest.mark.parametrize("case", ["zero-conversions", "all-conversions", "one-visitor"])
def test_analyse_small_cases_are_collecting(case):
    decision = experiments.analyse(ANALYSE_CASES[case], days_running=10).decision
    assert decision.status == "collecting"
    assert decision.winner is None


def test_analyse_arm_without_visitors():
    # 120 visitors and none in the other arm of a 50/50 split is a broken split, not bad luck.
    broken = experiments.analyse(ANALYSE_CASES["zero-visitors-arm"], days_running=10)
    assert broken.srm.unhealthy
    assert broken.decision.status == "unhealthy"
    # With 5 visitors so far the same imbalance is still plausible: collect more data.
    young = experiments.analyse(arms_of((5, 1), (0, 0)), days_running=1)
    assert not young.srm.unhealthy
    assert young.decision.status == "collecting"
    assert young.arms[1].lift is None
    assert young.arms[1].prob_beat_control == pytest.approx(ref_prob_beat(1, 5, 0, 0), abs=EXACT)


def test_analyse_to_dict_shape():
    payload = experiments.analyse(ANALYSE_CASES["typical"], days_running=3).to_dict()
    assert set(payload) == {
        "arms",
        "srm",
        "gates",
        "mde_relative",
        "sample_size_per_variant",
        "days_to_decision",
        "decision",
    }
    assert payload["srm"] == {"statistic": 0.0, "p_value": 1.0, "unhealthy": False}
    assert payload["gates"]["min_days"] == {"required": 7, "actual": 3, "met": False}
    assert payload["gates"]["min_visitors_per_variant"] == {"required": 100, "actual": 1000, "met": True}
    assert payload["gates"]["min_conversions_per_variant"] == {"required": 25, "actual": 100, "met": True}
    assert payload["gates"]["enough_data"] is False
    assert payload["decision"]["status"] == "collecting"
    assert "7 days" in payload["decision"]["reason"]
    assert payload["sample_size_per_variant"] == planning.sample_size_per_variant(0.1, 0.2)
    # 2 arms * 1000 visitors in 3 days -> 333.3/day, 166.7 per arm; 3841 - 1000 more each.
    expected_days = (payload["sample_size_per_variant"] - 1000) / (2000 / 3 / 2)
    assert payload["days_to_decision"] == pytest.approx(expected_days, rel=1e-5)


def test_analyse_clear_winner_on_large_counts():
    arms = arms_of((20_000, 1000), (20_000, 1300))
    analysis = experiments.analyse(arms, days_running=14)
    assert analysis.gates.enough_data
    assert analysis.decision.status == "winner"
    assert analysis.decision.winner == "b"
    assert analysis.arms[1].lift == pytest.approx(0.3)
    assert analysis.arms[1].always_valid_p < 1e-6
    assert analysis.arms[1].prob_beat_control > 0.999


def test_analyse_srm_withholds_the_verdict():
    # Same clear winner, but a 50/50 split served 22 000 vs 20 000 visitors: the split is broken.
    arms = arms_of((22_000, 1100), (20_000, 1300))
    analysis = experiments.analyse(arms, days_running=14)
    assert analysis.srm.unhealthy
    assert analysis.srm.p_value < thresholds.SRM_ALPHA
    assert analysis.decision.status == "unhealthy"
    assert analysis.decision.winner is None
    # The identical counts with the planned 22/20 split are healthy and do give a verdict.
    healthy = experiments.analyse(arms_of((22_000, 1100), (20_000, 1300), weights=[22, 20]), days_running=14)
    assert not healthy.srm.unhealthy
    assert healthy.decision.status == "winner"


def test_analyse_gates_block_an_early_verdict():
    arms = arms_of((150, 10), (150, 40))  # big difference but control has < 25 conversions
    analysis = experiments.analyse(arms, days_running=10)
    assert not analysis.gates.min_conversions_per_variant.met
    assert analysis.decision.status == "collecting"
    early = experiments.analyse(arms_of((2000, 100), (2000, 200)), days_running=3)  # too few days
    assert early.decision.status == "collecting"
    assert not early.gates.min_days.met
    assert experiments.analyse(arms_of((2000, 100), (2000, 200)), days_running=7).decision.status == "winner"


def test_analyse_loser_and_no_difference():
    loser = experiments.analyse(arms_of((20_000, 1300), (20_000, 1000)), days_running=14)
    assert loser.decision.status == "loser"
    assert loser.decision.winner is None
    # Equal rates with far more than the planned sample size: stop, no difference.
    same = experiments.analyse(arms_of((20_000, 2000), (20_000, 2010)), days_running=30)
    assert same.sample_size_per_variant < 20_000
    assert same.decision.status == "no_difference"
    # Equal rates before the planned sample size: keep collecting.
    waiting = experiments.analyse(arms_of((1000, 100), (1000, 101)), days_running=10)
    assert waiting.decision.status == "collecting"
    assert waiting.days_to_decision > 0


def test_analyse_five_variants_uses_holm_on_always_valid_p():
    arms = arms_of((10_000, 500), (10_000, 520), (10_000, 700), (10_000, 490), (10_000, 560))
    analysis = experiments.analyse(arms, days_running=14)
    raw = [r.always_valid_p for r in analysis.arms[1:]]
    adjusted = [r.always_valid_p_holm for r in analysis.arms[1:]]
    assert adjusted == pytest.approx(list(multipletests(raw, method="holm")[1]), abs=1e-15)
    assert analysis.decision.status == "winner"
    assert analysis.decision.winner == "c"
    assert analysis.arms[2].prob_best > 0.99
    # Pairwise prob_beat_control is exact for every variant, also with five arms.
    assert analysis.arms[4].prob_beat_control == pytest.approx(ref_prob_beat(500, 10_000, 560, 10_000), abs=EXACT)


def test_analyse_previous_always_valid_p_never_goes_up():
    arms = arms_of((1000, 100), (1000, 101))
    fresh = experiments.analyse(arms, days_running=10).arms[1].always_valid_p
    assert fresh > 0.2
    kept = experiments.analyse(arms, days_running=10, previous_always_valid_p={"b": 0.2}).arms[1].always_valid_p
    assert kept == 0.2


@pytest.mark.parametrize(
    "arms",
    [
        pytest.param(arms_of((100, 10)), id="one-arm"),
        pytest.param(arms_of(*[(100, 10)] * 6), id="six-arms"),
        pytest.param([Arm("a", 1, 100, 10, False), Arm("b", 1, 100, 10, False)], id="no-control"),
        pytest.param([Arm("a", 1, 100, 10, True), Arm("b", 1, 100, 10, True)], id="two-controls"),
        pytest.param(arms_of((100, -1), (100, 10)), id="negative-conversions"),
        pytest.param(arms_of((-5, 0), (100, 10)), id="negative-visitors"),
        pytest.param(arms_of((100, 101), (100, 10)), id="conversions-above-visitors"),
        pytest.param(arms_of((100, 10), (100, 10), weights=[1, 0]), id="zero-weight"),
        pytest.param([Arm("a", 1, 100, 10, True), Arm("a", 1, 100, 10, False)], id="duplicate-keys"),
    ],
)
def test_analyse_rejects_invalid_experiments(arms):
    with pytest.raises(ValueError):
        experiments.analyse(arms, days_running=10)
