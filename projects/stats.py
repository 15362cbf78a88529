"""Statistics for landing-page A/B experiments (2-5 variants, conversion = a visitor who signed up).

Pure standard-library Python on purpose: the web runtime does not ship scipy/numpy, and every figure here is
small enough (a handful of arms, integer counts) to compute exactly or with a cheap seeded simulation. The test
suite (tests/projects/test_stats.py) checks each figure against scipy / statsmodels.

Contents:

* frequentist per-arm and pairwise figures: Wilson interval, pooled two-proportion z-test, relative lift with a
  log-ratio (Katz) interval, Holm adjustment;
* Bayesian figures with Beta(1, 1) priors: exact P(variant beats control) and expected loss for two arms, seeded
  Monte Carlo P(best) / expected loss for more arms;
* a sequential-safe test (mixture SPRT always-valid p-value) so founders may look at results every day;
* a sample-ratio-mismatch (SRM) chi-square test, sample size and days-to-decision planning;
* :func:`analyse`, the entry point of the experiment results API, which combines all of it into a verdict.

Conventions: "control" is the arm the founder already has; lifts and z statistics are variant minus control, so a
positive value always means the variant converts better.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any

__all__ = [
    "MC_DRAWS",
    "MIN_CONVERSIONS_PER_VARIANT",
    "MIN_DAYS",
    "MIN_VISITORS_PER_VARIANT",
    "MSPRT_TAU2",
    "SEQUENTIAL_ALPHA",
    "SRM_ALPHA",
    "Analysis",
    "Arm",
    "ArmResult",
    "Decision",
    "Gate",
    "Gates",
    "Lift",
    "SrmResult",
    "always_valid_p",
    "analyse",
    "chi2_sf",
    "days_to_decision",
    "expected_loss",
    "expected_loss_per_arm",
    "holm",
    "log_beta",
    "norm_cdf",
    "norm_ppf",
    "prob_beat_control",
    "prob_best",
    "relative_lift",
    "sample_size_per_variant",
    "sequential_decision",
    "srm_test",
    "two_proportion_ztest",
    "wilson_interval",
]

# --- Constants: every threshold the verdict depends on lives here -------------------------------------------------

# Minimum-data gates. The normal approximations behind the z-test, the Wilson interval and the mixture SPRT are poor
# with fewer than ~25 successes per arm, and a week covers the weekday/weekend cycle of landing-page traffic.
MIN_VISITORS_PER_VARIANT = 100
MIN_CONVERSIONS_PER_VARIANT = 25
MIN_DAYS = 7

# A sample-ratio mismatch is a bug in the traffic split, not a statistical fluke; the conventional threshold
# (Fabijan et al., "Diagnosing Sample Ratio Mismatch", KDD 2019, https://doi.org/10.1145/3292500.3330722) is kept
# strict because a false alarm blocks the verdict.
SRM_ALPHA = 0.001

# Significance level of the sequential decision (always-valid p-values, Holm-adjusted across variants).
SEQUENTIAL_ALPHA = 0.05

# Mixing variance tau^2 of the mSPRT (on the absolute difference of conversion rates). Johari et al. (Always Valid
# Inference, https://arxiv.org/abs/1512.04922, section on choosing the mixing distribution) show the test is most
# efficient when the N(0, tau^2) mixture matches the size of effects one expects to find; Optimizely fits it to its
# history of experiments. We have no such history, so tau = 0.02 (tau^2 = 4e-4): the default 20 % relative MDE at a
# 10 % sign-up rate, a typical landing-page baseline. In a simulation of 30 daily looks comparing tau^2 in
# {1e-4, 4e-4, 1e-3, 2.5e-3, 1e-2}, it had (near-)best power for baselines of 3-10 % with 20-50 % lifts and lost
# about a quarter of the power of tau^2 = 1e-3 only for a 20 % baseline with 50 visitors per arm per day: larger
# values lose power on small absolute effects, smaller ones on large effects. Validity (false-positive control)
# holds for any tau^2 > 0.
MSPRT_TAU2 = 0.02**2

# Default number of Monte Carlo draws for P(best) with more than two arms: the standard error of a probability is at
# most sqrt(0.25 / 200_000) ~ 0.0011, well below the precision anyone reads from a results page.
MC_DRAWS = 200_000
MC_SEED = 12345

_STD_NORMAL = NormalDist()


# --- Distribution helpers ------------------------------------------------------------------------------------------


def norm_cdf(x: float) -> float:
    """Standard normal CDF.

    Written with ``erfc`` rather than ``NormalDist().cdf`` (``0.5 * (1 + erf)``) so the lower tail keeps its relative
    precision instead of cancelling to 0 for x < -8. Source: https://en.wikipedia.org/wiki/Normal_distribution
    (cumulative distribution function in terms of the error function).
    """
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _norm_sf(x: float) -> float:
    # Survival function 1 - Phi(x) without the cancellation of ``1 - norm_cdf(x)`` for large x (tiny p-values).
    return 0.5 * math.erfc(x / math.sqrt(2.0))


def norm_ppf(p: float) -> float:
    """Standard normal quantile (inverse CDF), ``statistics.NormalDist.inv_cdf``.

    NormalDist implements Wichura's algorithm AS241 (https://doi.org/10.2307/2347330), accurate to about 1e-16,
    so no scipy is needed for critical values.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    return _STD_NORMAL.inv_cdf(p)


def _z_two_sided(confidence: float) -> float:
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
    eps = 1e-15
    tiny = 1e-300
    # Common prefactor x^a e^-x / Gamma(a), in log space so it neither overflows nor underflows for big a or x.
    log_prefactor = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1.0:
        term = total = 1.0 / a
        ap = a
        for _ in range(10_000):
            ap += 1.0
            term *= x / ap
            total += term
            if abs(term) < abs(total) * eps:
                break
        return max(0.0, 1.0 - total * math.exp(log_prefactor))
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        if abs(d) < tiny:
            d = tiny
        c = b + an / c
        if abs(c) < tiny:
            c = tiny
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < eps:
            break
    return min(1.0, math.exp(log_prefactor) * h)


def chi2_sf(statistic: float, df: int) -> float:
    """Chi-square survival function: P(X >= statistic) = Q(df / 2, statistic / 2).

    Source: https://en.wikipedia.org/wiki/Chi-squared_distribution (CDF as a regularized gamma function).
    """
    if df < 1:
        raise ValueError("df must be >= 1")
    return _regularized_gamma_q(df / 2.0, statistic / 2.0)


# --- Validation ----------------------------------------------------------------------------------------------------


def _check_counts(conversions: int, visitors: int) -> None:
    if visitors < 0 or conversions < 0:
        raise ValueError(f"counts must be non-negative, got conversions={conversions}, visitors={visitors}")
    if conversions > visitors:
        raise ValueError(f"conversions ({conversions}) cannot exceed visitors ({visitors})")


# --- Frequentist figures -------------------------------------------------------------------------------------------


def wilson_interval(conversions: int, visitors: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a conversion rate.

    Chosen over the textbook Wald interval because it stays inside [0, 1] and keeps its coverage with the 0 %
    and 100 % rates small experiments produce. Formula: Wilson (1927), https://doi.org/10.2307/2276774, as in
    https://en.wikipedia.org/wiki/Binomial_proportion_confidence_interval#Wilson_score_interval and
    ``statsmodels.stats.proportion.proportion_confint(method="wilson")``.

    With no visitors nothing is known about the rate, so the whole support (0.0, 1.0) is returned rather than an
    error: the results page shows an arm that has not been served yet.
    """
    _check_counts(conversions, visitors)
    if visitors == 0:
        return (0.0, 1.0)
    z = _z_two_sided(confidence)
    z2 = z * z
    n = float(visitors)
    p = conversions / n
    denominator = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denominator
    half_width = z * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denominator
    # At 0 or n conversions the bound is exactly 0 or 1; floating point would leave a ~1e-17 residue.
    low = 0.0 if conversions == 0 else max(0.0, centre - half_width)
    high = 1.0 if conversions == visitors else min(1.0, centre + half_width)
    return (low, high)


def two_proportion_ztest(c1: int, n1: int, c2: int, n2: int) -> tuple[float, float]:
    """Pooled two-proportion z-test; returns (z, two-sided p).

    Sign convention: arm 1 is the control, arm 2 the variant and z = (p2 - p1) / se, so z > 0 means the variant
    converts better. That is ``statsmodels.stats.proportion.proportions_ztest([c2, c1], [n2, n1])`` (statsmodels
    subtracts the second proportion from the first). The standard error uses the pooled rate, i.e. the variance
    under the null hypothesis of equal rates. Source:
    https://en.wikipedia.org/wiki/Two-proportion_Z-test and
    https://www.statsmodels.org/stable/generated/statsmodels.stats.proportion.proportions_ztest.html

    When the pooled variance is 0 (no conversions at all, or only conversions, in both arms) or an arm has no
    visitors, the data carry no evidence of a difference: the observed rates are identical or undefined. The
    statistic would be 0/0, so (0.0, 1.0) is returned - "no difference detected" - instead of NaN, which would
    break JSON and every comparison downstream.
    """
    _check_counts(c1, n1)
    _check_counts(c2, n2)
    if n1 == 0 or n2 == 0:
        return (0.0, 1.0)
    pooled = (c1 + c2) / (n1 + n2)
    variance = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)
    if variance <= 0.0:
        return (0.0, 1.0)
    z = (c2 / n2 - c1 / n1) / math.sqrt(variance)
    return (z, min(1.0, 2.0 * _norm_sf(abs(z))))


@dataclass(frozen=True)
class Lift:
    """Relative lift of a variant over control, (p_v - p_c) / p_c, with its confidence interval.

    ``lift`` is None when the control rate is 0 or an arm has no visitors (a ratio to nothing); ``low``/``high`` are
    None additionally when the variant has no conversions (the log-ratio interval needs both counts > 0).
    """

    lift: float | None
    low: float | None
    high: float | None


def relative_lift(c_control: int, n_control: int, c_variant: int, n_variant: int, confidence: float = 0.95) -> Lift:
    """Relative lift with the delta-method interval on log(p_v / p_c) (Katz et al. log method for a risk ratio).

    Var(log RR) ~ 1/c_v - 1/n_v + 1/c_c - 1/n_c; the interval exp(log RR +- z se) - 1 is asymmetric like the lift
    itself (it can never fall below -100 %). Sources: Katz, Baptista, Azen, Pike (1978),
    https://doi.org/10.2307/2530610; https://en.wikipedia.org/wiki/Relative_risk#Inference; identical to
    ``statsmodels.stats.proportion.confint_proportions_2indep(method="log", compare="ratio")`` minus 1.
    """
    _check_counts(c_control, n_control)
    _check_counts(c_variant, n_variant)
    z = _z_two_sided(confidence)
    if n_control == 0 or n_variant == 0 or c_control == 0:
        return Lift(None, None, None)
    rate_control = c_control / n_control
    rate_variant = c_variant / n_variant
    ratio = rate_variant / rate_control
    if c_variant == 0:
        return Lift(ratio - 1.0, None, None)
    se = math.sqrt(max(0.0, 1.0 / c_variant - 1.0 / n_variant + 1.0 / c_control - 1.0 / n_control))
    log_ratio = math.log(ratio)
    return Lift(ratio - 1.0, math.exp(log_ratio - z * se) - 1.0, math.exp(log_ratio + z * se) - 1.0)


def holm(pvalues: list[float]) -> list[float]:
    """Holm-Bonferroni step-down adjusted p-values, returned in the input order.

    Controls the family-wise error rate when several variants are each compared with control, uniformly more
    powerful than plain Bonferroni and valid under any dependence (the comparisons share the control arm).
    Source: Holm (1979), https://www.jstor.org/stable/4615733; https://en.wikipedia.org/wiki/Holm%E2%80%93Bonferroni_method;
    same as ``statsmodels.stats.multitest.multipletests(method="holm")``.
    """
    m = len(pvalues)
    for p in pvalues:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p-values must be in [0, 1], got {p}")
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [0.0] * m
    running_max = 0.0
    for rank, index in enumerate(order):
        # The running maximum keeps adjusted p-values monotone in the raw ones (the step-down "stop" rule).
        running_max = max(running_max, min(1.0, (m - rank) * pvalues[index]))
        adjusted[index] = running_max
    return adjusted


# --- Bayesian figures (Beta(1, 1) priors) --------------------------------------------------------------------------


def posterior(conversions: int, visitors: int) -> tuple[int, int]:
    # Beta(1, 1) (uniform) prior + binomial likelihood -> Beta(1 + conversions, 1 + non-conversions).
    _check_counts(conversions, visitors)
    return 1 + conversions, 1 + visitors - conversions


def _prob_x_greater(a_x: int, b_x: int, a_y: int, b_y: int) -> float:
    """P(X > Y) for independent X ~ Beta(a_x, b_x), Y ~ Beta(a_y, b_y) with integer shape parameters.

    Evan Miller, "Formulas for Bayesian A/B Testing", https://www.evanmiller.org/bayesian-ab-testing.html:
    P(X > Y) = sum_{i=0}^{a_x - 1} B(a_y + i, b_y + b_x) / ((b_x + i) B(1 + i, b_x) B(a_y, b_y)).
    Each term is evaluated as exp of a sum of lgammas so large counts neither overflow nor underflow; the sum runs
    over the smaller first shape parameter (using P(X > Y) = 1 - P(Y > X), ties having probability 0) so the cost
    is O(min(conversions)) rather than O(max).
    """
    if a_x > a_y:
        return 1.0 - _prob_x_greater(a_y, b_y, a_x, b_x)
    log_b_y = log_beta(a_y, b_y)
    total = math.fsum(
        math.exp(log_beta(a_y + i, b_y + b_x) - math.log(b_x + i) - log_beta(1 + i, b_x) - log_b_y) for i in range(a_x)
    )
    return min(1.0, max(0.0, total))


def prob_beat_control(c_control: int, n_control: int, c_variant: int, n_variant: int) -> float:
    """Exact posterior probability that the variant's conversion rate exceeds the control's.

    Closed form of Evan Miller (https://www.evanmiller.org/bayesian-ab-testing.html) with Beta(1, 1) priors; see
    :func:`_prob_x_greater`.
    """
    a_c, b_c = posterior(c_control, n_control)
    a_v, b_v = posterior(c_variant, n_variant)
    return _prob_x_greater(a_v, b_v, a_c, b_c)


def expected_loss(c_control: int, n_control: int, c_variant: int, n_variant: int) -> float:
    """Expected loss (in absolute conversion rate) of shipping the variant: E[max(p_c - p_v, 0)].

    Closed form from Chris Stucchio, "Easy Evaluation of Decision Rules in Bayesian A/B Testing" (2014,
    https://www.chrisstucchio.com/blog/2014/bayesian_ab_decision_rule.html; the loss VWO's SmartStats reports):
    E[(p_c - p_v)+] = E[p_c] P(Beta(a_c + 1, b_c) > Beta(a_v, b_v)) - E[p_v] P(Beta(a_c, b_c) > Beta(a_v + 1, b_v)),
    because x * Beta(a, b) density = a / (a + b) * Beta(a + 1, b) density. For the loss of keeping control, swap
    the arms.
    """
    a_c, b_c = posterior(c_control, n_control)
    a_v, b_v = posterior(c_variant, n_variant)
    mean_c = a_c / (a_c + b_c)
    mean_v = a_v / (a_v + b_v)
    loss = mean_c * _prob_x_greater(a_c + 1, b_c, a_v, b_v) - mean_v * _prob_x_greater(a_c, b_c, a_v + 1, b_v)
    return max(0.0, loss)


def _monte_carlo(arms: list[tuple[int, int]], draws: int, seed: int) -> tuple[list[float], list[float]]:
    """Seeded Monte Carlo over the Beta posteriors: (P(arm is best), E[max_j p_j - p_arm]) for every arm.

    There is no practical closed form beyond two arms, so draws from each posterior are compared; a fixed seed makes
    the figures reproducible between page loads. Method: the same posterior quantities as Chris Stucchio's decision
    rule (link in :func:`expected_loss`), estimated by https://en.wikipedia.org/wiki/Monte_Carlo_integration.
    """
    if len(arms) < 2:
        raise ValueError("need at least two arms")
    if draws < 1:
        raise ValueError("draws must be >= 1")
    posteriors = [posterior(c, n) for c, n in arms]
    # A seeded, reproducible stream is the point here (same figures on every page load); nothing is secret.
    rng = random.Random(seed)  # noqa: S311
    betavariate = rng.betavariate
    # One column of draws per arm; the loss E[max_j p_j - p_k] splits into E[max] - E[p_k], so only the maximum of
    # each draw has to be tracked per draw.
    columns = [[betavariate(a, b) for _ in range(draws)] for a, b in posteriors]
    wins = [0] * len(arms)
    best_values = []
    for row in zip(*columns, strict=True):
        best = max(row)
        wins[row.index(best)] += 1
        best_values.append(best)
    mean_best = math.fsum(best_values) / draws
    return [w / draws for w in wins], [max(0.0, mean_best - math.fsum(column) / draws) for column in columns]


def prob_best(arms: list[tuple[int, int]], draws: int = MC_DRAWS, seed: int = MC_SEED) -> list[float]:
    """Monte Carlo probability that each arm (conversions, visitors) has the highest conversion rate."""
    return _monte_carlo(arms, draws, seed)[0]


def expected_loss_per_arm(arms: list[tuple[int, int]], draws: int = MC_DRAWS, seed: int = MC_SEED) -> list[float]:
    """Monte Carlo expected loss of shipping each arm: E[max_j p_j - p_arm] (absolute conversion rate)."""
    return _monte_carlo(arms, draws, seed)[1]


# --- Sequential testing --------------------------------------------------------------------------------------------


def always_valid_p(
    c_control: int,
    n_control: int,
    c_variant: int,
    n_variant: int,
    tau2: float = MSPRT_TAU2,
    previous: float | None = None,
) -> float:
    """Always-valid p-value of the mixture SPRT for the difference of two conversion rates.

    Johari, Pekelis, Walsh, "Always Valid Inference: Bringing Sequential Analysis to A/B Testing",
    https://arxiv.org/abs/1512.04922 (and Johari et al., "Peeking at A/B Tests", KDD 2017,
    https://doi.org/10.1145/3097983.3097992), the method of Optimizely's Stats Engine. With the normal
    approximation theta_hat = p_v - p_c ~ N(theta, V) and a N(0, tau^2) mixture over theta, the mixture likelihood
    ratio against theta = 0 is

        Lambda = sqrt(V / (V + tau^2)) * exp(tau^2 theta_hat^2 / (2 V (V + tau^2)))

    which for equal arms of n visitors, V = 2 sigma^2 / n, is the paper's
    sqrt(2 sigma^2 / (2 sigma^2 + n tau^2)) exp(n^2 tau^2 theta_hat^2 / (4 sigma^2 (2 sigma^2 + n tau^2))).
    V = p (1 - p) (1/n_c + 1/n_v) with the pooled rate p: the variance under the null being tested, as in the
    pooled z-test (the paper plugs in an estimate of sigma^2 for Bernoulli data). Lambda is (under the normal
    approximation) a martingale under the null, so by Ville's inequality P(sup Lambda >= 1/alpha) <= alpha:
    p = min(1, 1 / Lambda) may be looked at after every visitor without inflating false positives.

    The running minimum over looks is what is always valid: pass the previous look's value as ``previous`` and the
    result never increases. With no information (an empty arm, or a pooled variance of 0) Lambda = 1, i.e. p = 1.
    """
    _check_counts(c_control, n_control)
    _check_counts(c_variant, n_variant)
    if tau2 <= 0.0:
        raise ValueError("tau2 must be > 0")
    if previous is not None and not 0.0 <= previous <= 1.0:
        raise ValueError(f"previous must be in [0, 1], got {previous}")
    p_value = 1.0
    if n_control > 0 and n_variant > 0:
        pooled = (c_control + c_variant) / (n_control + n_variant)
        variance = pooled * (1.0 - pooled) * (1.0 / n_control + 1.0 / n_variant)
        if variance > 0.0:
            diff = c_variant / n_variant - c_control / n_control
            log_lambda = 0.5 * math.log(variance / (variance + tau2)) + tau2 * diff * diff / (
                2.0 * variance * (variance + tau2)
            )
            # exp of a non-positive number: no overflow, underflows gracefully to 0.0 for overwhelming evidence.
            p_value = math.exp(min(0.0, -log_lambda))
    if previous is not None:
        p_value = min(p_value, previous)
    return p_value


def sequential_decision(p_always_valid: float, alpha: float = SEQUENTIAL_ALPHA) -> bool:
    """True when the always-valid p-value rejects "no difference" at level alpha (safe at any look)."""
    return p_always_valid <= alpha


# --- Health check and planning -------------------------------------------------------------------------------------


def srm_test(observed: list[int], weights: list[float]) -> tuple[float, float]:
    """Sample-ratio-mismatch check: Pearson chi-square goodness of fit of visitors to the planned split.

    Expected counts are total * weight / sum(weights); the p-value is the chi-square survival function with
    k - 1 degrees of freedom (:func:`chi2_sf`). Source: https://en.wikipedia.org/wiki/Pearson%27s_chi-squared_test;
    same as ``scipy.stats.chisquare(observed, f_exp)``. With no visitors there is nothing to test: (0.0, 1.0).
    """
    if len(observed) != len(weights):
        raise ValueError("observed and weights must have the same length")
    if len(observed) < 2:
        raise ValueError("need at least two groups")
    if any(o < 0 for o in observed):
        raise ValueError("observed counts must be non-negative")
    if any(not w > 0.0 for w in weights):
        raise ValueError("weights must be positive")
    total = sum(observed)
    if total == 0:
        return (0.0, 1.0)
    weight_sum = math.fsum(weights)
    statistic = 0.0
    for count, weight in zip(observed, weights, strict=True):
        expected = total * weight / weight_sum
        statistic += (count - expected) ** 2 / expected
    return (statistic, chi2_sf(statistic, len(observed) - 1))


def sample_size_per_variant(baseline_rate: float, mde_relative: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Visitors needed in each arm for a two-sided two-proportion test to detect a relative lift of ``mde_relative``.

    Uses Cohen's effect size h = 2 asin(sqrt(p2)) - 2 asin(sqrt(p1)) (the arcsine transform stabilises the binomial
    variance to 1/(4n)), and solves the two-sided normal power equation
    power = Phi(h sqrt(n/2) - z_{1-alpha/2}) + Phi(-h sqrt(n/2) - z_{1-alpha/2}) for n, exactly what
    ``statsmodels.stats.power.NormalIndPower().solve_power(proportion_effectsize(p2, p1), ...)`` does. Sources:
    Cohen (1988), Statistical Power Analysis, ch. 6, https://en.wikipedia.org/wiki/Cohen%27s_h;
    https://www.statsmodels.org/stable/generated/statsmodels.stats.power.NormalIndPower.html
    The result is rounded up: a fractional visitor cannot be recruited.
    """
    if not 0.0 < baseline_rate < 1.0:
        raise ValueError(f"baseline_rate must be in (0, 1), got {baseline_rate}")
    if not mde_relative > 0.0:
        raise ValueError(f"mde_relative must be > 0, got {mde_relative}")
    if not 0.0 < alpha < 1.0 or not 0.0 < power < 1.0:
        raise ValueError("alpha and power must be in (0, 1)")
    target = baseline_rate * (1.0 + mde_relative)
    if target >= 1.0:
        raise ValueError(f"a {mde_relative:.0%} lift on {baseline_rate:.2%} exceeds a 100 % conversion rate")
    h = abs(2.0 * math.asin(math.sqrt(target)) - 2.0 * math.asin(math.sqrt(baseline_rate)))
    z_alpha = norm_ppf(1.0 - alpha / 2.0)

    def achieved_power(n: float) -> float:
        shift = h * math.sqrt(n / 2.0)
        return norm_cdf(shift - z_alpha) + norm_cdf(-shift - z_alpha)

    # The one-tailed closed form over-estimates n by the tiny far-tail term; bisection then solves the exact equation.
    high = 2.0 * ((z_alpha + norm_ppf(power)) / h) ** 2
    low = 0.0
    for _ in range(200):
        middle = (low + high) / 2.0
        if achieved_power(middle) < power:
            low = middle
        else:
            high = middle
        if high - low < 1e-9 * high:
            break
    return math.ceil(high - 1e-9)


def days_to_decision(
    needed_per_variant: int | None,
    visitors_so_far_per_variant: list[int],
    visitors_per_day: float,
    n_variants: int,
    weights: list[float] | None = None,
) -> float | None:
    """Days until every arm reaches ``needed_per_variant`` visitors at the current traffic.

    ``visitors_per_day`` is the page's total traffic; each arm receives ``weight / sum(weights)`` of it (an equal
    ``1 / n_variants`` share when weights are not given), so with an 80/20 split the small arm sets the pace.
    Returns 0.0 when every arm is already there and None when it cannot be estimated (no sample size, no traffic).
    """
    if n_variants < 1 or len(visitors_so_far_per_variant) != n_variants:
        raise ValueError("visitors_so_far_per_variant must have one entry per variant")
    if weights is not None and (len(weights) != n_variants or any(not w > 0.0 for w in weights)):
        raise ValueError("weights must be positive, one per variant")
    if needed_per_variant is None:
        return None
    shares = [1.0 / n_variants] * n_variants if weights is None else [w / math.fsum(weights) for w in weights]
    days = 0.0
    for so_far, share in zip(visitors_so_far_per_variant, shares, strict=True):
        missing = needed_per_variant - so_far
        if missing <= 0:
            continue
        if not visitors_per_day > 0.0:
            return None
        days = max(days, missing / (visitors_per_day * share))
    return days


# --- Entry point ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arm:
    key: str  # variant key, e.g. "control", "b"
    weight: float  # planned share of traffic (any positive numbers; normalised)
    visitors: int
    conversions: int
    is_control: bool


@dataclass(frozen=True)
class ArmResult:
    """Figures for one arm; the "vs control" fields are None on the control arm itself."""

    key: str
    is_control: bool
    weight_share: float
    visitors: int
    conversions: int
    rate: float | None
    wilson_low: float
    wilson_high: float
    # Pairwise exact P(rate_arm > rate_control); for every arm count this is a two-arm comparison, so it is exact.
    prob_beat_control: float | None
    # P(this arm has the highest rate of all): exact for two arms, Monte Carlo for more.
    prob_best: float
    # E[max over arms of rate - rate of this arm]: exact for two arms, Monte Carlo for more.
    expected_loss: float
    lift: float | None = None
    lift_low: float | None = None
    lift_high: float | None = None
    z: float | None = None
    p_value: float | None = None
    p_value_holm: float | None = None
    always_valid_p: float | None = None
    always_valid_p_holm: float | None = None


@dataclass(frozen=True)
class SrmResult:
    statistic: float
    p_value: float
    unhealthy: bool


@dataclass(frozen=True)
class Gate:
    required: float
    actual: float
    met: bool


@dataclass(frozen=True)
class Gates:
    min_visitors_per_variant: Gate
    min_conversions_per_variant: Gate
    min_days: Gate
    enough_data: bool


@dataclass(frozen=True)
class Decision:
    # "unhealthy" | "collecting" | "winner" | "loser" | "no_difference" (see analyse()).
    status: str
    winner: str | None
    reason: str


@dataclass(frozen=True)
class Analysis:
    arms: tuple[ArmResult, ...]
    srm: SrmResult
    gates: Gates
    mde_relative: float
    sample_size_per_variant: int | None
    days_to_decision: float | None
    decision: Decision

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready plain values: floats to 6 significant digits, NaN/inf (never expected) as None."""
        return json_ready(asdict(self))


def json_ready(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        # Significant digits rather than decimal places so a p-value of 3e-9 does not collapse to 0.
        return float(f"{value:.6g}")
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    raise TypeError(f"unexpected value {value!r}")


def _validate_arms(arms: list[Arm]) -> None:
    if not 2 <= len(arms) <= 5:
        raise ValueError(f"an experiment has 2 to 5 arms, got {len(arms)}")
    if sum(1 for arm in arms if arm.is_control) != 1:
        raise ValueError("exactly one arm must be the control")
    if len({arm.key for arm in arms}) != len(arms):
        raise ValueError("arm keys must be unique")
    for arm in arms:
        _check_counts(arm.conversions, arm.visitors)
        if not (arm.weight > 0.0 and math.isfinite(arm.weight)):
            raise ValueError(f"arm {arm.key!r}: weight must be a positive number")


def analyse(
    arms: list[Arm],
    *,
    days_running: float,
    visitors_per_day: float | None = None,
    mde_relative: float = 0.2,
    previous_always_valid_p: dict[str, float] | None = None,
    draws: int = MC_DRAWS,
) -> Analysis:
    """Every figure of the results page and a verdict.

    ``visitors_per_day`` is the page's total traffic; when omitted it is estimated as visitors so far / days running.
    ``previous_always_valid_p`` maps variant key -> always-valid p of the previous look (the value returned in
    ``arms[i].always_valid_p``) so the p-value never goes back up. ``draws`` sets the Monte Carlo size for 3+ arms
    (about 0.4 s of CPU per arm at the default).

    Decision, in order (sequential p-values are Holm-adjusted across variants when there are 2+ variants):

    * ``unhealthy``: SRM p < SRM_ALPHA - the split is broken, so no verdict of any kind is given;
    * ``collecting``: a minimum-data gate is not met;
    * ``winner``: at least one variant has adjusted always-valid p <= 0.05 and a positive lift; the best such
      variant (highest rate) is ``winner``;
    * ``loser``: every variant has adjusted always-valid p <= 0.05 and a negative lift - keep the control;
    * ``no_difference``: nothing above, and every arm has reached the planned sample size for the MDE (or no
      sample size can be planned because the control rate leaves no room for the MDE) - an effect as large as the
      MDE is unlikely, stop the test;
    * ``collecting`` otherwise (gates met, no decisive result yet, planned sample size not reached).
    """
    _validate_arms(arms)
    if days_running < 0.0:
        raise ValueError("days_running must be >= 0")
    if not mde_relative > 0.0:
        raise ValueError("mde_relative must be > 0")
    previous = previous_always_valid_p or {}

    control = next(arm for arm in arms if arm.is_control)
    variants = [arm for arm in arms if not arm.is_control]
    weight_sum = math.fsum(arm.weight for arm in arms)

    # Bayesian "best arm" figures: exact for two arms, one seeded simulation for more.
    counts = [(arm.conversions, arm.visitors) for arm in arms]
    if len(arms) == 2:
        first, second = counts
        p_second = prob_beat_control(first[0], first[1], second[0], second[1])
        best_probs = [1.0 - p_second, p_second]
        losses = [expected_loss(second[0], second[1], first[0], first[1]), expected_loss(*first, *second)]
    else:
        best_probs, losses = _monte_carlo(counts, draws, MC_SEED)

    # Pairwise comparisons with control, then Holm across variants for both kinds of p-value.
    pairwise: dict[str, dict[str, float | None]] = {}
    for arm in variants:
        z, p_value = two_proportion_ztest(control.conversions, control.visitors, arm.conversions, arm.visitors)
        lift = relative_lift(control.conversions, control.visitors, arm.conversions, arm.visitors)
        pairwise[arm.key] = {
            "lift": lift.lift,
            "lift_low": lift.low,
            "lift_high": lift.high,
            "z": z,
            "p_value": p_value,
            "prob_beat_control": prob_beat_control(
                control.conversions, control.visitors, arm.conversions, arm.visitors
            ),
            "always_valid_p": always_valid_p(
                control.conversions,
                control.visitors,
                arm.conversions,
                arm.visitors,
                previous=previous.get(arm.key),
            ),
        }
    keys = [arm.key for arm in variants]
    for field, adjusted_field in (("p_value", "p_value_holm"), ("always_valid_p", "always_valid_p_holm")):
        raw = [pairwise[k][field] for k in keys]
        for k, value in zip(keys, holm([v for v in raw if v is not None]), strict=True):
            pairwise[k][adjusted_field] = value

    results: list[ArmResult] = []
    for index, arm in enumerate(arms):
        low, high = wilson_interval(arm.conversions, arm.visitors)
        extra = pairwise.get(arm.key, {})
        results.append(
            ArmResult(
                key=arm.key,
                is_control=arm.is_control,
                weight_share=arm.weight / weight_sum,
                visitors=arm.visitors,
                conversions=arm.conversions,
                rate=arm.conversions / arm.visitors if arm.visitors else None,
                wilson_low=low,
                wilson_high=high,
                prob_beat_control=extra.get("prob_beat_control"),
                prob_best=best_probs[index],
                expected_loss=losses[index],
                lift=extra.get("lift"),
                lift_low=extra.get("lift_low"),
                lift_high=extra.get("lift_high"),
                z=extra.get("z"),
                p_value=extra.get("p_value"),
                p_value_holm=extra.get("p_value_holm"),
                always_valid_p=extra.get("always_valid_p"),
                always_valid_p_holm=extra.get("always_valid_p_holm"),
            )
        )

    statistic, srm_p = srm_test([arm.visitors for arm in arms], [arm.weight for arm in arms])
    srm = SrmResult(statistic=statistic, p_value=srm_p, unhealthy=srm_p < SRM_ALPHA)

    min_visitors = min(arm.visitors for arm in arms)
    min_conversions = min(arm.conversions for arm in arms)
    gate_visitors = Gate(MIN_VISITORS_PER_VARIANT, min_visitors, min_visitors >= MIN_VISITORS_PER_VARIANT)
    gate_conversions = Gate(
        MIN_CONVERSIONS_PER_VARIANT, min_conversions, min_conversions >= MIN_CONVERSIONS_PER_VARIANT
    )
    gate_days = Gate(MIN_DAYS, days_running, days_running >= MIN_DAYS)
    gates = Gates(
        min_visitors_per_variant=gate_visitors,
        min_conversions_per_variant=gate_conversions,
        min_days=gate_days,
        enough_data=gate_visitors.met and gate_conversions.met and gate_days.met,
    )

    # Planning at the control's observed rate; undefined when that rate leaves no room for the MDE (0 % or a lift
    # that would exceed 100 %).
    needed: int | None = None
    if control.visitors > 0:
        control_rate = control.conversions / control.visitors
        if control_rate > 0.0 and control_rate * (1.0 + mde_relative) < 1.0:
            needed = sample_size_per_variant(control_rate, mde_relative)
    total_visitors = sum(arm.visitors for arm in arms)
    if visitors_per_day is None and days_running > 0.0:
        visitors_per_day = total_visitors / days_running
    days_left = days_to_decision(
        needed,
        [arm.visitors for arm in arms],
        visitors_per_day or 0.0,
        len(arms),
        weights=[arm.weight for arm in arms],
    )

    decision = _decide(results, srm, gates, needed, days_left, mde_relative)
    return Analysis(
        arms=tuple(results),
        srm=srm,
        gates=gates,
        mde_relative=mde_relative,
        sample_size_per_variant=needed,
        days_to_decision=days_left,
        decision=decision,
    )


def _decide(
    results: list[ArmResult],
    srm: SrmResult,
    gates: Gates,
    needed: int | None,
    days_left: float | None,
    mde_relative: float,
) -> Decision:
    if srm.unhealthy:
        return Decision(
            "unhealthy",
            None,
            f"Traffic split does not match the plan (sample ratio mismatch, p = {srm.p_value:.2g} < {SRM_ALPHA}). "
            "Results are not trustworthy; fix the split and restart the experiment.",
        )
    if not gates.enough_data:
        missing = []
        if not gates.min_visitors_per_variant.met:
            missing.append(f"at least {MIN_VISITORS_PER_VARIANT} visitors per variant")
        if not gates.min_conversions_per_variant.met:
            missing.append(f"at least {MIN_CONVERSIONS_PER_VARIANT} sign-ups per variant")
        if not gates.min_days.met:
            missing.append(f"at least {MIN_DAYS} days of traffic")
        return Decision("collecting", None, "Not enough data yet: needs " + ", ".join(missing) + ".")

    variants = [r for r in results if not r.is_control]
    significant = [
        r
        for r in variants
        if r.always_valid_p_holm is not None and sequential_decision(r.always_valid_p_holm) and r.lift is not None
    ]
    better = [r for r in significant if r.lift is not None and r.lift > 0]
    if better:
        best = max(better, key=lambda r: (r.rate or 0.0, r.prob_best))
        return Decision(
            "winner",
            best.key,
            f"Variant {best.key!r} converts better than control (lift {best.lift:+.1%}, always-valid p = "
            f"{best.always_valid_p_holm:.2g} after Holm adjustment).",
        )
    worse = [r for r in significant if r.lift is not None and r.lift < 0]
    if len(worse) == len(variants):
        return Decision(
            "loser",
            None,
            "Every variant converts significantly worse than control: keep the control page.",
        )
    if needed is None:
        return Decision(
            "no_difference",
            None,
            f"No significant difference, and the control's conversion rate leaves no room for a {mde_relative:.0%} "
            "lift, so more traffic is unlikely to change that.",
        )
    if all(r.visitors >= needed for r in results):
        return Decision(
            "no_difference",
            None,
            f"Planned sample size reached without a significant difference: a lift of {mde_relative:.0%} or more is "
            "unlikely. Keep the simpler page or test a bolder change.",
        )
    eta = f" (about {math.ceil(days_left)} more days at current traffic)" if days_left is not None else ""
    return Decision(
        "collecting",
        None,
        f"No significant difference yet; keep the test running until {needed} visitors per variant{eta}.",
    )
