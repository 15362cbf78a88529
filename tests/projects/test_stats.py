"""projects.stats checked against independent references (scipy / statsmodels / numpy).

Every figure is compared with a reference computed a different way: statsmodels for the frequentist tests,
scipy numerical integration for the exact Bayesian formulas, numpy-vectorised simulation for the Monte Carlo ones,
and the mixture-SPRT formula as printed in the paper (plus a numerical integration of the mixture) for the
always-valid p-value. No database is used.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from scipy import integrate
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportion_effectsize,
    proportions_ztest,
)

from projects import stats
from projects.stats import Arm

EXACT = 1e-6  # tolerance for every closed-form figure
MC = 1e-2  # tolerance for Monte Carlo probabilities

# (c_control, n_control, c_variant, n_variant): the edge cases the results page must survive.
PAIRS = {
    "typical": (20, 1000, 30, 1000),
    "variant-worse": (90, 1000, 60, 1000),
    "zero-conversions-variant": (15, 200, 0, 200),
    "zero-conversions-control": (0, 200, 12, 200),
    "zero-conversions-both": (0, 150, 0, 150),
    "all-conversions-both": (40, 40, 60, 60),
    "all-conversions-variant": (30, 60, 60, 60),
    "one-visitor-each": (0, 1, 1, 1),
    "unequal-80-20": (160, 4000, 55, 1000),
    "large-counts": (50_000, 1_000_000, 50_600, 1_000_000),
    "zero-visitors-variant": (10, 100, 0, 0),
    "zero-visitors-control": (0, 0, 7, 100),
}


def pair_params(predicate=lambda c1, n1, c2, n2: True):
    return [pytest.param(*v, id=k) for k, v in PAIRS.items() if predicate(*v)]


def has_variance(c1, n1, c2, n2):
    return n1 > 0 and n2 > 0 and 0 < c1 + c2 < n1 + n2


# --- normal helpers and chi-square ---------------------------------------------------------------------------------


@pytest.mark.parametrize("x", [-38.0, -8.5, -3.0, -1.0, 0.0, 0.3, 1.96, 5.0, 8.0])
def test_norm_cdf_matches_scipy(x):
    assert stats.norm_cdf(x) == pytest.approx(sps.norm.cdf(x), rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("p", [1e-12, 0.001, 0.025, 0.2, 0.5, 0.8, 0.975, 0.999, 1 - 1e-12])
def test_norm_ppf_matches_scipy(p):
    assert stats.norm_ppf(p) == pytest.approx(sps.norm.ppf(p), rel=1e-9)


@pytest.mark.parametrize("p", [0.0, 1.0, -0.1])
def test_norm_ppf_rejects_boundaries(p):
    with pytest.raises(ValueError):
        stats.norm_ppf(p)


@pytest.mark.parametrize("df", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("x", [0.0, 0.01, 0.5, 1.0, 3.84, 7.0, 20.0, 80.0, 500.0])
def test_chi2_sf_matches_scipy(df, x):
    expected = sps.chi2.sf(x, df)
    assert stats.chi2_sf(x, df) == pytest.approx(expected, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize(("a", "b"), [(1, 1), (0.5, 2.5), (31, 971), (50_001, 950_001)])
def test_log_beta_matches_scipy(a, b):
    from scipy.special import betaln

    assert stats.log_beta(a, b) == pytest.approx(betaln(a, b), rel=1e-12)


# --- Wilson interval -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("conversions", "visitors"),
    [(0, 1), (1, 1), (0, 100), (100, 100), (3, 10), (123, 4567), (50_000, 1_000_000), (1, 2)],
)
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_wilson_matches_statsmodels(conversions, visitors, confidence):
    low, high = stats.wilson_interval(conversions, visitors, confidence)
    ref_low, ref_high = proportion_confint(conversions, visitors, alpha=1 - confidence, method="wilson")
    assert low == pytest.approx(ref_low, abs=1e-12)
    assert high == pytest.approx(ref_high, abs=1e-12)
    assert 0.0 <= low <= conversions / visitors <= high <= 1.0


def test_wilson_zero_visitors_is_the_whole_support():
    assert stats.wilson_interval(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(("conversions", "visitors"), [(-1, 10), (5, -1), (11, 10)])
def test_wilson_rejects_bad_counts(conversions, visitors):
    with pytest.raises(ValueError):
        stats.wilson_interval(conversions, visitors)


# --- z-test --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("c1", "n1", "c2", "n2"), pair_params(has_variance))
def test_ztest_matches_statsmodels(c1, n1, c2, n2):
    z, p = stats.two_proportion_ztest(c1, n1, c2, n2)
    ref_z, ref_p = proportions_ztest([c2, c1], [n2, n1])
    assert z == pytest.approx(ref_z, rel=1e-9, abs=1e-12)
    assert p == pytest.approx(ref_p, rel=1e-9, abs=1e-15)


def test_ztest_sign_convention_variant_minus_control():
    z, _ = stats.two_proportion_ztest(20, 1000, 30, 1000)
    assert z > 0  # variant (arm 2) better -> positive
    z, _ = stats.two_proportion_ztest(30, 1000, 20, 1000)
    assert z < 0


def test_ztest_keeps_tiny_p_values():
    z, p = stats.two_proportion_ztest(1000, 10_000, 1500, 10_000)
    assert p == pytest.approx(proportions_ztest([1500, 1000], [10_000, 10_000])[1], rel=1e-6)
    assert 0.0 < p < 1e-20


@pytest.mark.parametrize(("c1", "n1", "c2", "n2"), pair_params(lambda c1, n1, c2, n2: not has_variance(c1, n1, c2, n2)))
def test_ztest_without_variance_reports_no_evidence(c1, n1, c2, n2):
    """statsmodels gives NaN (0/0) here; we report z = 0, p = 1 so JSON and comparisons keep working."""
    assert stats.two_proportion_ztest(c1, n1, c2, n2) == (0.0, 1.0)
    if n1 and n2:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            ref_z, _ = proportions_ztest([c2, c1], [n2, n1])
        assert not np.isfinite(ref_z) or ref_z == 0


# --- relative lift -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("c1", "n1", "c2", "n2"), pair_params(lambda c1, n1, c2, n2: c1 > 0 and c2 > 0))
@pytest.mark.parametrize("confidence", [0.9, 0.95])
def test_relative_lift_matches_statsmodels_ratio_interval(c1, n1, c2, n2, confidence):
    result = stats.relative_lift(c1, n1, c2, n2, confidence)
    ref_low, ref_high = confint_proportions_2indep(c2, n2, c1, n1, method="log", compare="ratio", alpha=1 - confidence)
    assert result.lift == pytest.approx((c2 / n2) / (c1 / n1) - 1, rel=1e-12, abs=1e-15)
    assert result.low == pytest.approx(ref_low - 1, rel=EXACT, abs=1e-12)
    assert result.high == pytest.approx(ref_high - 1, rel=EXACT, abs=1e-12)
    assert result.low <= result.lift <= result.high


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        ("zero-conversions-control", stats.Lift(None, None, None)),
        ("zero-conversions-both", stats.Lift(None, None, None)),
        ("zero-visitors-variant", stats.Lift(None, None, None)),
        ("zero-visitors-control", stats.Lift(None, None, None)),
        ("zero-conversions-variant", stats.Lift(-1.0, None, None)),
    ],
)
def test_relative_lift_undefined_cases(pair, expected):
    assert stats.relative_lift(*PAIRS[pair]) == expected


# --- Bayesian: exact formulas vs numerical integration -------------------------------------------------------------


def _beta_params(c, n):
    return 1 + c, 1 + n - c


def _support(*params):
    """An interval holding all the posterior mass (+-40 sd), so quad does not miss a narrow peak."""
    lows, highs, means = [], [], []
    for a, b in params:
        mean, sd = sps.beta.mean(a, b), sps.beta.std(a, b)
        lows.append(mean - 40 * sd)
        highs.append(mean + 40 * sd)
        means.append(mean)
    return max(0.0, min(lows)), min(1.0, max(highs)), sorted(means)


def _quad(f, lo, hi, points):
    value, _ = integrate.quad(f, lo, hi, points=points, limit=500, epsabs=1e-13, epsrel=1e-12)
    return value


def ref_prob_beat(c1, n1, c2, n2):
    """P(p_v > p_c) = integral of f_c(x) P(p_v > x) dx."""
    (ac, bc), (av, bv) = _beta_params(c1, n1), _beta_params(c2, n2)
    lo, hi, points = _support((ac, bc), (av, bv))
    return _quad(lambda x: sps.beta.pdf(x, ac, bc) * sps.beta.sf(x, av, bv), lo, hi, points)


def ref_loss(c1, n1, c2, n2):
    """E[(p_c - p_v)+] = integral of P(p_v < x < p_c) dx = integral of F_v(x) (1 - F_c(x)) dx."""
    (ac, bc), (av, bv) = _beta_params(c1, n1), _beta_params(c2, n2)
    lo, hi, points = _support((ac, bc), (av, bv))
    return _quad(lambda x: sps.beta.cdf(x, av, bv) * sps.beta.sf(x, ac, bc), lo, hi, points)


@pytest.mark.parametrize(("c1", "n1", "c2", "n2"), pair_params())
def test_prob_beat_control_matches_integration(c1, n1, c2, n2):
    assert stats.prob_beat_control(c1, n1, c2, n2) == pytest.approx(ref_prob_beat(c1, n1, c2, n2), abs=EXACT)


@pytest.mark.parametrize(("c1", "n1", "c2", "n2"), pair_params())
def test_expected_loss_matches_integration(c1, n1, c2, n2):
    assert stats.expected_loss(c1, n1, c2, n2) == pytest.approx(ref_loss(c1, n1, c2, n2), abs=EXACT)
    # ... and the loss of keeping control (arms swapped).
    assert stats.expected_loss(c2, n2, c1, n1) == pytest.approx(ref_loss(c2, n2, c1, n1), abs=EXACT)


def test_prob_beat_control_symmetry_and_ties():
    assert stats.prob_beat_control(20, 1000, 20, 1000) == pytest.approx(0.5, abs=1e-12)
    assert stats.prob_beat_control(0, 0, 0, 0) == pytest.approx(0.5, abs=1e-12)
    p = stats.prob_beat_control(20, 1000, 30, 1000)
    assert stats.prob_beat_control(30, 1000, 20, 1000) == pytest.approx(1 - p, abs=1e-12)


# --- Bayesian: Monte Carlo -----------------------------------------------------------------------------------------


REF_DRAWS = 1_000_000


def numpy_reference(arms, draws=REF_DRAWS, seed=2024):
    """(P(best), expected loss, standard deviation of the per-draw loss) from vectorised numpy draws."""
    rng = np.random.default_rng(seed)
    samples = np.column_stack([rng.beta(1 + c, 1 + n - c, size=draws) for c, n in arms])
    regret = samples.max(axis=1)[:, None] - samples
    winners = np.bincount(samples.argmax(axis=1), minlength=len(arms)) / draws
    return winners, regret.mean(axis=0), regret.std(axis=0)


def loss_tolerance(loss_sd, draws):
    """Five standard errors of the difference of two independent Monte Carlo means, capped at the MC tolerance."""
    return np.minimum(MC, 5 * loss_sd * math.sqrt(1 / draws + 1 / REF_DRAWS) + 1e-12)


MC_PAIRS = ("typical", "zero-conversions-variant", "all-conversions-both", "one-visitor-each", "unequal-80-20")


@pytest.mark.parametrize("pair", [*MC_PAIRS, "zero-visitors-control"])
def test_monte_carlo_two_arms_matches_exact(pair):
    c1, n1, c2, n2 = PAIRS[pair]
    draws = 50_000
    probs = stats.prob_best([(c1, n1), (c2, n2)], draws=draws)
    losses = stats.expected_loss_per_arm([(c1, n1), (c2, n2)], draws=draws)
    exact = stats.prob_beat_control(c1, n1, c2, n2)
    assert probs[1] == pytest.approx(exact, abs=MC)
    assert probs[0] == pytest.approx(1 - exact, abs=MC)
    _, _, loss_sd = numpy_reference([(c1, n1), (c2, n2)], draws=100_000)
    tolerance = loss_tolerance(loss_sd, draws)
    assert losses[1] == pytest.approx(stats.expected_loss(c1, n1, c2, n2), abs=tolerance[1])
    assert losses[0] == pytest.approx(stats.expected_loss(c2, n2, c1, n1), abs=tolerance[0])


FIVE_ARMS = [(20, 1000), (30, 1000), (25, 1000), (22, 1000), (28, 1000)]


@pytest.mark.parametrize(
    "arms",
    [
        pytest.param(FIVE_ARMS, id="five-close"),
        pytest.param([(0, 0), (0, 10), (10, 10)], id="empty-zero-all"),
        pytest.param([(160, 4000), (55, 1000), (30, 1000)], id="unequal"),
    ],
)
def test_monte_carlo_matches_numpy_reference(arms):
    draws = 60_000  # the 200 000 default runs in test_analyse_five_variants_uses_holm_on_always_valid_p
    probs = stats.prob_best(arms, draws=draws)
    losses = stats.expected_loss_per_arm(arms, draws=draws)
    ref_probs, ref_losses, loss_sd = numpy_reference(arms)
    assert sum(probs) == pytest.approx(1.0, abs=1e-12)
    assert probs == pytest.approx(list(ref_probs), abs=MC)
    for got, expected, tolerance in zip(losses, ref_losses, loss_tolerance(loss_sd, draws), strict=True):
        assert got == pytest.approx(expected, abs=tolerance)


def test_monte_carlo_is_reproducible_with_the_seed():
    assert stats.prob_best(FIVE_ARMS, draws=2000) == stats.prob_best(FIVE_ARMS, draws=2000)
    assert stats.prob_best(FIVE_ARMS, draws=2000) != stats.prob_best(FIVE_ARMS, draws=2000, seed=1)


# --- mixture SPRT --------------------------------------------------------------------------------------------------


def paper_always_valid_p(c1, n, c2, tau2):
    """Johari et al. (KDD 2017, eq. for two Bernoulli streams of n each), written from the paper:
    Lambda_n = sqrt(2 s2 / (2 s2 + n tau2)) * exp(n^2 tau2 (Y - X)^2 / (4 s2 (2 s2 + n tau2))), p = min(1, 1/Lambda).
    """
    pooled = (c1 + c2) / (2 * n)
    s2 = pooled * (1 - pooled)
    diff = c2 / n - c1 / n
    lam = math.sqrt(2 * s2 / (2 * s2 + n * tau2)) * math.exp(n**2 * tau2 * diff**2 / (4 * s2 * (2 * s2 + n * tau2)))
    return min(1.0, 1.0 / lam)


def integrated_always_valid_p(c1, n1, c2, n2, tau2):
    """1 / Lambda with Lambda = integral of LR(theta) dN(0, tau2)(theta), by numerical integration."""
    pooled = (c1 + c2) / (n1 + n2)
    sd = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    diff = c2 / n2 - c1 / n1
    tau = math.sqrt(tau2)

    def integrand(theta):
        return sps.norm.pdf(diff, theta, sd) / sps.norm.pdf(diff, 0, sd) * sps.norm.pdf(theta, 0, tau)

    span = 40 * max(tau, sd)
    lam, _ = integrate.quad(integrand, -span, span, points=[0.0, diff], limit=500, epsabs=0, epsrel=1e-12)
    return min(1.0, 1.0 / lam)


@pytest.mark.parametrize(
    ("c1", "c2", "n"), [(100, 100, 1000), (100, 130, 1000), (100, 150, 1000), (500, 560, 5000), (30, 60, 300)]
)
@pytest.mark.parametrize("tau2", [stats.MSPRT_TAU2, 1e-3, 1e-2])
def test_always_valid_p_matches_paper_formula(c1, c2, n, tau2):
    expected = paper_always_valid_p(c1, n, c2, tau2)
    assert stats.always_valid_p(c1, n, c2, n, tau2=tau2) == pytest.approx(expected, rel=EXACT, abs=1e-300)


@pytest.mark.parametrize(("c1", "n1", "c2", "n2"), pair_params(lambda c1, n1, c2, n2: has_variance(c1, n1, c2, n2)))
def test_always_valid_p_matches_integrated_mixture(c1, n1, c2, n2):
    """Covers unequal arms, where the paper's equal-n form does not apply."""
    expected = integrated_always_valid_p(c1, n1, c2, n2, stats.MSPRT_TAU2)
    if expected < 1e-250:  # beyond what quad can resolve; the closed form underflows to ~0 as well
        assert stats.always_valid_p(c1, n1, c2, n2) < 1e-200
    else:
        assert stats.always_valid_p(c1, n1, c2, n2) == pytest.approx(expected, rel=EXACT)


@pytest.mark.parametrize(("c1", "n1", "c2", "n2"), pair_params(lambda c1, n1, c2, n2: not has_variance(c1, n1, c2, n2)))
def test_always_valid_p_without_information_is_one(c1, n1, c2, n2):
    assert stats.always_valid_p(c1, n1, c2, n2) == 1.0


def test_always_valid_p_is_monotone_across_looks():
    looks = [(10, 100, 20, 100), (25, 200, 30, 200), (40, 300, 41, 300), (60, 400, 80, 400), (80, 500, 80, 500)]
    previous = None
    values = []
    for look in looks:
        previous = stats.always_valid_p(*look, previous=previous)
        values.append(previous)
    assert values == sorted(values, reverse=True)
    # Without the previous value the third and last looks would go back up: the min is doing real work.
    assert stats.always_valid_p(*looks[2]) > values[1]
    assert stats.always_valid_p(*looks[4]) > values[3]


def test_sequential_decision():
    assert stats.sequential_decision(0.05)
    assert stats.sequential_decision(0.001)
    assert not stats.sequential_decision(0.0501)
    assert stats.sequential_decision(0.09, alpha=0.1)


def _simulate_peeking(rate_control, rate_variant, experiments=400, looks=30, per_day=100, seed=7):
    rng = np.random.default_rng(seed)
    conv_c = np.cumsum(rng.binomial(per_day, rate_control, (experiments, looks)), axis=1)
    conv_v = np.cumsum(rng.binomial(per_day, rate_variant, (experiments, looks)), axis=1)
    visitors = per_day * np.arange(1, looks + 1)
    msprt_rejected = naive_rejected = 0
    for e in range(experiments):
        previous = None
        msprt_hit = naive_hit = False
        for t in range(looks):
            args = (int(conv_c[e, t]), int(visitors[t]), int(conv_v[e, t]), int(visitors[t]))
            previous = stats.always_valid_p(*args, previous=previous)
            msprt_hit = msprt_hit or stats.sequential_decision(previous)
            naive_hit = naive_hit or stats.two_proportion_ztest(*args)[1] <= 0.05
        msprt_rejected += msprt_hit
        naive_rejected += naive_hit
    return msprt_rejected / experiments, naive_rejected / experiments


def test_daily_peeking_keeps_false_positives_below_alpha():
    """A/A: 400 experiments, 30 daily looks. The mSPRT stays <= alpha; the naive z-test does not."""
    msprt_rate, naive_rate = _simulate_peeking(0.1, 0.1)
    assert msprt_rate <= 0.05 + 0.01
    assert naive_rate > 0.10  # peeking at a fixed-horizon test inflates false positives several-fold


def test_daily_peeking_still_detects_a_real_lift():
    msprt_rate, _ = _simulate_peeking(0.10, 0.15, experiments=200)
    assert msprt_rate > 0.8


# --- SRM -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("observed", "weights"),
    [
        ([510, 490], [1, 1]),
        ([800, 200], [80, 20]),
        ([760, 240], [0.8, 0.2]),
        ([5100, 4000, 900], [5, 4, 1.2]),
        ([200, 210, 190, 205, 195], [1, 1, 1, 1, 1]),
        ([1000, 0], [1, 1]),
        ([1, 0], [1, 1]),
    ],
)
def test_srm_matches_scipy_chisquare(observed, weights):
    statistic, p = stats.srm_test(observed, weights)
    f_exp = np.array(weights, dtype=float) / sum(weights) * sum(observed)
    ref = sps.chisquare(observed, f_exp)
    assert statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert p == pytest.approx(ref.pvalue, rel=EXACT, abs=1e-300)


def test_srm_zero_total_and_bad_input():
    assert stats.srm_test([0, 0, 0], [1, 1, 1]) == (0.0, 1.0)
    with pytest.raises(ValueError):
        stats.srm_test([1, 2], [1])
    with pytest.raises(ValueError):
        stats.srm_test([1, 2], [1, 0])


# --- Holm ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pvalues",
    [
        [0.01],
        [0.04, 0.01],
        [0.01, 0.04, 0.03, 0.005],
        [0.02, 0.02, 0.5, 1.0],
        [0.3, 0.0, 0.049, 0.0125],
        [0.9, 0.8, 0.7, 0.6],
    ],
)
def test_holm_matches_statsmodels(pvalues):
    expected = multipletests(pvalues, method="holm")[1]
    assert stats.holm(pvalues) == pytest.approx(list(expected), abs=1e-15)


def test_holm_empty():
    assert stats.holm([]) == []


# --- planning ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("baseline", "mde", "alpha", "power"),
    [
        (0.1, 0.2, 0.05, 0.8),
        (0.02, 0.1, 0.05, 0.8),
        (0.3, 0.5, 0.05, 0.9),
        (0.05, 0.3, 0.01, 0.8),
        (0.5, 0.9, 0.1, 0.7),
        (0.001, 1.0, 0.05, 0.8),
    ],
)
def test_sample_size_matches_statsmodels(baseline, mde, alpha, power):
    h = proportion_effectsize(baseline * (1 + mde), baseline)
    expected = NormalIndPower().solve_power(effect_size=h, alpha=alpha, power=power, ratio=1.0)
    got = stats.sample_size_per_variant(baseline, mde, alpha, power)
    assert got == math.ceil(expected - 1e-9)  # identical after ceil ...
    assert abs(got - expected) < 1  # ... i.e. within one visitor


@pytest.mark.parametrize(("baseline", "mde"), [(0.0, 0.2), (1.0, 0.2), (0.9, 0.2), (0.1, 0.0)])
def test_sample_size_rejects_impossible_plans(baseline, mde):
    with pytest.raises(ValueError):
        stats.sample_size_per_variant(baseline, mde)


def test_days_to_decision():
    # Equal split of 100 visitors/day over 2 arms: the arm at 400 needs 600 more at 50/day.
    assert stats.days_to_decision(1000, [400, 700], 100, 2) == pytest.approx(12.0)
    # 80/20 split: the small arm gets 20/day and needs 800 more.
    assert stats.days_to_decision(1000, [900, 200], 100, 2, weights=[80, 20]) == pytest.approx(40.0)
    assert stats.days_to_decision(1000, [1000, 1200], 100, 2) == 0.0
    assert stats.days_to_decision(None, [10, 10], 100, 2) is None
    assert stats.days_to_decision(1000, [10, 10], 0, 2) is None
    with pytest.raises(ValueError):
        stats.days_to_decision(1000, [10], 100, 2)


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
    analysis = stats.analyse(arms, days_running=10, draws=50_000)
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
        assert [r.prob_best for r in analysis.arms] == pytest.approx(list(ref_probs), abs=MC)
        for result, expected, tolerance in zip(analysis.arms, ref_losses, loss_tolerance(loss_sd, 50_000), strict=True):
            assert result.expected_loss == pytest.approx(expected, abs=tolerance)

    # Control carries no "vs control" figures.
    control_row = payload["arms"][0]
    for field in ("lift", "z", "p_value", "p_value_holm", "prob_beat_control", "always_valid_p"):
        assert control_row[field] is None


@pytest.mark.parametrize("case", ["zero-conversions", "all-conversions", "one-visitor"])
def test_analyse_small_cases_are_collecting(case):
    decision = stats.analyse(ANALYSE_CASES[case], days_running=10).decision
    assert decision.status == "collecting"
    assert decision.winner is None


def test_analyse_arm_without_visitors():
    # 120 visitors and none in the other arm of a 50/50 split is a broken split, not bad luck.
    broken = stats.analyse(ANALYSE_CASES["zero-visitors-arm"], days_running=10)
    assert broken.srm.unhealthy
    assert broken.decision.status == "unhealthy"
    # With 5 visitors so far the same imbalance is still plausible: collect more data.
    young = stats.analyse(arms_of((5, 1), (0, 0)), days_running=1)
    assert not young.srm.unhealthy
    assert young.decision.status == "collecting"
    assert young.arms[1].lift is None
    assert young.arms[1].prob_beat_control == pytest.approx(ref_prob_beat(1, 5, 0, 0), abs=EXACT)


def test_analyse_to_dict_shape():
    payload = stats.analyse(ANALYSE_CASES["typical"], days_running=3).to_dict()
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
    assert payload["sample_size_per_variant"] == stats.sample_size_per_variant(0.1, 0.2)
    # 2 arms * 1000 visitors in 3 days -> 333.3/day, 166.7 per arm; 3841 - 1000 more each.
    expected_days = (payload["sample_size_per_variant"] - 1000) / (2000 / 3 / 2)
    assert payload["days_to_decision"] == pytest.approx(expected_days, rel=1e-5)


def test_analyse_clear_winner_on_large_counts():
    arms = arms_of((20_000, 1000), (20_000, 1300))
    analysis = stats.analyse(arms, days_running=14)
    assert analysis.gates.enough_data
    assert analysis.decision.status == "winner"
    assert analysis.decision.winner == "b"
    assert analysis.arms[1].lift == pytest.approx(0.3)
    assert analysis.arms[1].always_valid_p < 1e-6
    assert analysis.arms[1].prob_beat_control > 0.999


def test_analyse_srm_withholds_the_verdict():
    # Same clear winner, but a 50/50 split served 22 000 vs 20 000 visitors: the split is broken.
    arms = arms_of((22_000, 1100), (20_000, 1300))
    analysis = stats.analyse(arms, days_running=14)
    assert analysis.srm.unhealthy
    assert analysis.srm.p_value < stats.SRM_ALPHA
    assert analysis.decision.status == "unhealthy"
    assert analysis.decision.winner is None
    # The identical counts with the planned 22/20 split are healthy and do give a verdict.
    healthy = stats.analyse(arms_of((22_000, 1100), (20_000, 1300), weights=[22, 20]), days_running=14)
    assert not healthy.srm.unhealthy
    assert healthy.decision.status == "winner"


def test_analyse_gates_block_an_early_verdict():
    arms = arms_of((150, 10), (150, 40))  # big difference but control has < 25 conversions
    analysis = stats.analyse(arms, days_running=10)
    assert not analysis.gates.min_conversions_per_variant.met
    assert analysis.decision.status == "collecting"
    early = stats.analyse(arms_of((2000, 100), (2000, 200)), days_running=3)  # too few days
    assert early.decision.status == "collecting"
    assert not early.gates.min_days.met
    assert stats.analyse(arms_of((2000, 100), (2000, 200)), days_running=7).decision.status == "winner"


def test_analyse_loser_and_no_difference():
    loser = stats.analyse(arms_of((20_000, 1300), (20_000, 1000)), days_running=14)
    assert loser.decision.status == "loser"
    assert loser.decision.winner is None
    # Equal rates with far more than the planned sample size: stop, no difference.
    same = stats.analyse(arms_of((20_000, 2000), (20_000, 2010)), days_running=30)
    assert same.sample_size_per_variant < 20_000
    assert same.decision.status == "no_difference"
    # Equal rates before the planned sample size: keep collecting.
    waiting = stats.analyse(arms_of((1000, 100), (1000, 101)), days_running=10)
    assert waiting.decision.status == "collecting"
    assert waiting.days_to_decision > 0


def test_analyse_five_variants_uses_holm_on_always_valid_p():
    arms = arms_of((10_000, 500), (10_000, 520), (10_000, 700), (10_000, 490), (10_000, 560))
    analysis = stats.analyse(arms, days_running=14)  # default Monte Carlo size
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
    fresh = stats.analyse(arms, days_running=10).arms[1].always_valid_p
    assert fresh > 0.2
    kept = stats.analyse(arms, days_running=10, previous_always_valid_p={"b": 0.2}).arms[1].always_valid_p
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
        stats.analyse(arms, days_running=10)
