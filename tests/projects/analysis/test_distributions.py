"""projects.analysis.distributions checked against scipy: normal, chi-square, log Beta and the Beta survival
function of the demand score. No database is used.
"""

from __future__ import annotations

import math

import pytest
from scipy import stats as sps

from projects.analysis import distributions
from projects.analysis.distributions import beta_sf

# --- normal helpers and chi-square ---------------------------------------------------------------------------------


@pytest.mark.parametrize("x", [-38.0, -8.5, -3.0, -1.0, 0.0, 0.3, 1.96, 5.0, 8.0])
def test_norm_cdf_matches_scipy(x):
    assert distributions.norm_cdf(x) == pytest.approx(sps.norm.cdf(x), rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("p", [1e-12, 0.001, 0.025, 0.2, 0.5, 0.8, 0.975, 0.999, 1 - 1e-12])
def test_norm_ppf_matches_scipy(p):
    assert distributions.norm_ppf(p) == pytest.approx(sps.norm.ppf(p), rel=1e-9)


@pytest.mark.parametrize("p", [0.0, 1.0, -0.1])
def test_norm_ppf_rejects_boundaries(p):
    with pytest.raises(ValueError):
        distributions.norm_ppf(p)


@pytest.mark.parametrize("df", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("x", [0.0, 0.01, 0.5, 1.0, 3.84, 7.0, 20.0, 80.0, 500.0])
def test_chi2_sf_matches_scipy(df, x):
    expected = sps.chi2.sf(x, df)
    assert distributions.chi2_sf(x, df) == pytest.approx(expected, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize(("a", "b"), [(1, 1), (0.5, 2.5), (31, 971), (50_001, 950_001)])
def test_log_beta_matches_scipy(a, b):
    from scipy.special import betaln

    assert distributions.log_beta(a, b) == pytest.approx(betaln(a, b), rel=1e-12)


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
