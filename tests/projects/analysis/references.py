"""Independent references for the statistics of projects.analysis: scipy / statsmodels / numpy computations and
the edge cases every figure must survive. Shared by the test modules of tests/projects/analysis/."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate
from scipy import stats as sps

EXACT = 1e-6  # tolerance for every closed-form figure
INTEGRATION = 1e-5  # tolerance for the numerically integrated ones (P(best) and losses of 3+ arms)

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


# --- Bayesian: exact formulas by numerical integration ---------------------------------------------------------


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


# --- Bayesian: Monte Carlo by vectorised numpy draws --------------------------------------------------------------


REF_DRAWS = 1_000_000


def numpy_reference(arms, draws=REF_DRAWS, seed=2024):
    """(P(best), expected loss, standard deviation of the per-draw loss) from vectorised numpy draws."""
    rng = np.random.default_rng(seed)
    samples = np.column_stack([rng.beta(1 + c, 1 + n - c, size=draws) for c, n in arms])
    regret = samples.max(axis=1)[:, None] - samples
    winners = np.bincount(samples.argmax(axis=1), minlength=len(arms)) / draws
    return winners, regret.mean(axis=0), regret.std(axis=0)


def reference_tolerances(ref_probs, loss_sd):
    """How far a figure known to INTEGRATION may be from `numpy_reference`'s: five of the reference's standard
    errors (a binomial one for P(best), never below that of one draw in REF_DRAWS; the per-draw loss's for the
    losses) plus INTEGRATION. Returns (for each P(best), for each loss)."""
    p = np.maximum(ref_probs, 1 / REF_DRAWS)
    return (
        5 * np.sqrt(p * (1 - p) / REF_DRAWS) + INTEGRATION,
        5 * loss_sd / math.sqrt(REF_DRAWS) + INTEGRATION,
    )
