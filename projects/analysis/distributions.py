"""Probability distributions the statistics need: normal, chi-square and Beta.

Pure standard-library Python (the web runtime ships no scipy); each function names the formula it implements and
tests/projects/analysis/test_distributions.py checks it against scipy. The Beta numerics of the A/B statistics
(:func:`log_beta`) and of the demand score (:func:`beta_sf`) live here side by side: :func:`beta_sf` does not
reuse :func:`log_beta` on purpose (see its docstring).
"""

from __future__ import annotations

import math
from statistics import NormalDist

__all__ = ["beta_sf", "chi2_sf", "log_beta", "norm_cdf", "norm_ppf", "norm_sf", "z_two_sided"]

_STD_NORMAL = NormalDist()

# The relative precision at which a series or continued fraction stops, and the floor that keeps a modified-Lentz
# denominator away from 0 (Numerical Recipes, 3rd ed., section 5.2).
_EPS = 1e-15
_TINY = 1e-300


# --- Normal and chi-square -----------------------------------------------------------------------------------------


def norm_cdf(x: float) -> float:
    """Standard normal CDF.

    Written with ``erfc`` rather than ``NormalDist().cdf`` (``0.5 * (1 + erf)``) so the lower tail keeps its relative
    precision instead of cancelling to 0 for x < -8. Source: https://en.wikipedia.org/wiki/Normal_distribution
    (cumulative distribution function in terms of the error function).
    """
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def norm_sf(x: float) -> float:
    """Survival function 1 - Phi(x) without the cancellation of ``1 - norm_cdf(x)`` for large x (tiny p-values)."""
    return 0.5 * math.erfc(x / math.sqrt(2.0))


def norm_ppf(p: float) -> float:
    """Standard normal quantile (inverse CDF), ``statistics.NormalDist.inv_cdf``.

    NormalDist implements Wichura's algorithm AS241 (https://doi.org/10.2307/2347330), accurate to about 1e-16,
    so no scipy is needed for critical values.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    return _STD_NORMAL.inv_cdf(p)


def z_two_sided(confidence: float) -> float:
    """Critical value z_{1 - (1 - confidence) / 2} of a two-sided interval at ``confidence``."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return norm_ppf(1.0 - (1.0 - confidence) / 2.0)


def log_beta(a: float, b: float) -> float:
    """log B(a, b) = lgamma(a) + lgamma(b) - lgamma(a + b).

    Working with logs keeps the Beta-function ratios of the Bayesian formulas finite for counts in the millions
    (B(a, b) itself underflows long before). Source: https://en.wikipedia.org/wiki/Beta_function
    """
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _regularized_gamma_q(a: float, x: float) -> float:
    """Regularized upper incomplete gamma Q(a, x) = Gamma(a, x) / Gamma(a).

    Numerical Recipes (Press et al., 3rd ed., section 6.2, routines ``gser`` and ``gcf``;
    https://numerical.recipes/book.html): the series for P(a, x) converges fast for x < a + 1, the Lentz continued
    fraction for Q(a, x) elsewhere - so each side is computed directly and tiny tail probabilities are not lost to
    a ``1 - P`` cancellation.
    """
    if x <= 0.0:
        return 1.0
    # Common prefactor x^a e^-x / Gamma(a), in log space so it neither overflows nor underflows for big a or x.
    log_prefactor = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1.0:
        term = total = 1.0 / a
        ap = a
        for _ in range(10_000):
            ap += 1.0
            term *= x / ap
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return max(0.0, 1.0 - total * math.exp(log_prefactor))
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2.0
        c, d, delta = _lentz_step(an, b, c, d)
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return min(1.0, math.exp(log_prefactor) * h)


def chi2_sf(statistic: float, df: int) -> float:
    """Chi-square survival function: P(X >= statistic) = Q(df / 2, statistic / 2).

    Source: https://en.wikipedia.org/wiki/Chi-squared_distribution (CDF as a regularized gamma function).
    """
    if df < 1:
        raise ValueError("df must be >= 1")
    return _regularized_gamma_q(df / 2.0, statistic / 2.0)


def _lentz_step(numerator: float, denominator: float, c: float, d: float) -> tuple[float, float, float]:
    """One term ``numerator / (denominator + ...)`` of a continued fraction by the modified Lentz method.

    Returns the new (c, d) and the factor c d that multiplies the running value; convergence is that factor reaching
    1. Numerical Recipes (Press et al., 3rd ed., section 5.2, https://numerical.recipes/book.html).
    """
    d = denominator + numerator * d
    if abs(d) < _TINY:
        d = _TINY
    c = denominator + numerator / c
    if abs(c) < _TINY:
        c = _TINY
    d = 1.0 / d
    return c, d, d * c


# --- Beta survival function ----------------------------------------------------------------------------------------


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz's method).

    Numerical Recipes (Press, Teukolsky, Vetterling, Flannery, 3rd ed., section 6.4, routine ``betacf``;
    https://numerical.recipes/book.html): I_x(a, b) = x^a (1 - x)^b / (a B(a, b)) * 1 / (1 + d1 / (1 + d2 / ...)) with
    d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)) and d_{2m} = m (b - m) x / ((a + 2m - 1)(a + 2m)).
    It converges fast for x < (a + 1) / (a + b + 2), in O(sqrt(max(a, b))) iterations; callers use the symmetry
    I_x(a, b) = 1 - I_{1-x}(b, a) on the other side.
    """
    qab = a + b
    qap = a + 1.0
    qam = a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    if abs(d) < _TINY:
        d = _TINY
    d = 1.0 / d
    h = d
    max_iterations = 10_000 + int(20.0 * math.sqrt(max(a, b)))
    for m in range(1, max_iterations):
        m2 = 2 * m
        # Even step.
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        c, d, delta = _lentz_step(aa, 1.0, c, d)
        h *= delta
        # Odd step.
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        c, d, delta = _lentz_step(aa, 1.0, c, d)
        h *= delta
        if abs(delta - 1.0) < _EPS:
            return h
    raise ArithmeticError(f"incomplete beta continued fraction did not converge for a={a}, b={b}, x={x}")


_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _stirlerr(z: float) -> float:
    """log Gamma(z) - [(z - 1/2) log z - z + log sqrt(2 pi)], the error of Stirling's formula.

    Below 15 by subtraction (every term is small, nothing cancels); above, the Stirling series
    1/(12 z) - 1/(360 z^3) + 1/(1260 z^5) - 1/(1680 z^7), whose next term is < 1e-13 there. Source: Loader (see
    :func:`_bd0`); https://en.wikipedia.org/wiki/Stirling%27s_approximation#Speed_of_convergence_and_error_estimates
    """
    if z < 15.0:
        return math.lgamma(z) - ((z - 0.5) * math.log(z) - z + _HALF_LOG_2PI)
    inv2 = 1.0 / (z * z)
    return (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0 - inv2 / 1680.0) * inv2) * inv2) / z


def _bd0(x: float, m: float) -> float:
    """x log(x / m) + m - x without cancellation when x is close to m.

    Catherine Loader, "Fast and Accurate Computation of Binomial Probabilities" (2000), the deviance term behind
    R's dbinom: for |x - m| < 0.1 (x + m) the series 2 x sum v^(2j+1) / (2j+1) - (x - m) v with v = (x - m) / (x + m).
    """
    if abs(x - m) < 0.1 * (x + m):
        v = (x - m) / (x + m)
        total = (x - m) * v
        term = 2.0 * x * v
        v2 = v * v
        for j in range(1, 1000):
            term *= v2
            updated = total + term / (2 * j + 1)
            if updated == total:
                break
            total = updated
        return total
    return x * math.log(x / m) + m - x


def _log_beta_prefactor(bar: float, a: float, b: float) -> float:
    """log[bar^a (1 - bar)^b / B(a, b)], accurate for counts in the millions.

    Written directly, a log(bar) + b log(1 - bar) - log B(a, b) subtracts numbers of size ~a log a (1e7 for a
    million visitors), losing ~1e-9 of relative precision. Expanding each lgamma with Stirling's formula makes the
    large terms cancel analytically (Loader 2000, see :func:`_bd0`):
    -bd0(a, n bar) - bd0(b, n (1 - bar)) + log sqrt(a b / n) - log sqrt(2 pi) - (stirlerr(a) + stirlerr(b) -
    stirlerr(n)) with n = a + b.
    """
    n = a + b
    return (
        -_bd0(a, n * bar)
        - _bd0(b, n * (1.0 - bar))
        + 0.5 * math.log(a * b / n)
        - _HALF_LOG_2PI
        - (_stirlerr(a) + _stirlerr(b) - _stirlerr(n))
    )


def beta_sf(bar: float, a: float, b: float) -> float:
    """P(X > bar) for X ~ Beta(a, b): the regularized incomplete beta 1 - I_bar(a, b) (scipy.stats.beta.sf).

    The prefactor x^a (1 - x)^b / B(a, b) is computed in log space (:func:`_log_beta_prefactor`) so counts in
    the millions neither overflow, underflow nor lose precision. The side whose continued fraction converges is
    evaluated directly: for bar above the bulk of the distribution the (small) upper tail itself, keeping its
    relative precision, and below it 1 - the (small) lower tail. Outside (0, 1) the answer is exact: 1 below the
    support, 0 above. (Not :func:`log_beta`: its lgamma difference loses ~1e-9 at a million visitors.)
    """
    if not (a > 0.0 and b > 0.0 and math.isfinite(a) and math.isfinite(b)):
        raise ValueError(f"Beta shape parameters must be positive and finite, got a={a}, b={b}")
    if math.isnan(bar):
        raise ValueError("bar must be a number, got NaN")
    if bar <= 0.0:
        return 1.0
    if bar >= 1.0:
        return 0.0
    log_prefactor = _log_beta_prefactor(bar, a, b)
    if bar < (a + 1.0) / (a + b + 2.0):
        lower = math.exp(log_prefactor) * _betacf(a, b, bar) / a
        return min(1.0, max(0.0, 1.0 - lower))
    upper = math.exp(log_prefactor) * _betacf(b, a, 1.0 - bar) / b
    return min(1.0, max(0.0, upper))
