"""projects.analysis.sequential: the always-valid p-value of the mixture SPRT checked against the formula as
printed in the paper and a numerical integration of the mixture, and its false-positive control under daily peeking.
No database is used.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate
from scipy import stats as sps

from projects.analysis import frequentist, sequential
from tests.projects.analysis.references import (
    EXACT,
    has_variance,
    pair_params,
)

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
@pytest.mark.parametrize("tau2", [sequential.MSPRT_TAU2, 1e-3, 1e-2])
def test_always_valid_p_matches_paper_formula(c1, c2, n, tau2):
    expected = paper_always_valid_p(c1, n, c2, tau2)
    assert sequential.always_valid_p(c1, n, c2, n, tau2=tau2) == pytest.approx(expected, rel=EXACT, abs=1e-300)


@pytest.mark.parametrize(("c1", "n1", "c2", "n2"), pair_params(lambda c1, n1, c2, n2: has_variance(c1, n1, c2, n2)))
def test_always_valid_p_matches_integrated_mixture(c1, n1, c2, n2):
    """Covers unequal arms, where the paper's equal-n form does not apply."""
    expected = integrated_always_valid_p(c1, n1, c2, n2, sequential.MSPRT_TAU2)
    if expected < 1e-250:  # beyond what quad can resolve; the closed form underflows to ~0 as well
        assert sequential.always_valid_p(c1, n1, c2, n2) < 1e-200
    else:
        assert sequential.always_valid_p(c1, n1, c2, n2) == pytest.approx(expected, rel=EXACT)


@pytest.mark.parametrize(("c1", "n1", "c2", "n2"), pair_params(lambda c1, n1, c2, n2: not has_variance(c1, n1, c2, n2)))
def test_always_valid_p_without_information_is_one(c1, n1, c2, n2):
    assert sequential.always_valid_p(c1, n1, c2, n2) == 1.0


def test_always_valid_p_is_monotone_across_looks():
    looks = [(10, 100, 20, 100), (25, 200, 30, 200), (40, 300, 41, 300), (60, 400, 80, 400), (80, 500, 80, 500)]
    previous = None
    values = []
    for look in looks:
        previous = sequential.always_valid_p(*look, previous=previous)
        values.append(previous)
    assert values == sorted(values, reverse=True)
    # Without the previous value the third and last looks would go back up: the min is doing real work.
    assert sequential.always_valid_p(*looks[2]) > values[1]
    assert sequential.always_valid_p(*looks[4]) > values[3]


def test_sequential_decision():
    assert sequential.sequential_decision(0.05)
    assert sequential.sequential_decision(0.001)
    assert not sequential.sequential_decision(0.0501)
    assert sequential.sequential_decision(0.09, alpha=0.1)


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
            previous = sequential.always_valid_p(*args, previous=previous)
            msprt_hit = msprt_hit or sequential.sequential_decision(previous)
            naive_hit = naive_hit or frequentist.two_proportion_ztest(*args)[1] <= 0.05
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
