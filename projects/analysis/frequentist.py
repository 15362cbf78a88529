"""Frequentist figures of an A/B experiment: Wilson interval, pooled two-proportion z-test, relative lift with a
log-ratio (Katz) interval, Holm adjustment.

Conventions: "control" is the arm the founder already has; lifts and z statistics are variant minus control, so a
positive value always means the variant converts better.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from projects.analysis.counts import check_counts
from projects.analysis.distributions import norm_sf, z_two_sided

__all__ = ["Lift", "holm", "relative_lift", "two_proportion_ztest", "wilson_interval"]


def wilson_interval(conversions: int, visitors: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a conversion rate.

    Chosen over the textbook Wald interval because it stays inside [0, 1] and keeps its coverage with the 0 %
    and 100 % rates small experiments produce. Formula: Wilson (1927), https://doi.org/10.2307/2276774, as in
    https://en.wikipedia.org/wiki/Binomial_proportion_confidence_interval#Wilson_score_interval and
    ``statsmodels.stats.proportion.proportion_confint(method="wilson")``.

    With no visitors nothing is known about the rate, so the whole support (0.0, 1.0) is returned rather than an
    error: the results page shows an arm that has not been served yet.
    """
    check_counts(conversions, visitors)
    if visitors == 0:
        return (0.0, 1.0)
    z = z_two_sided(confidence)
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
    check_counts(c1, n1)
    check_counts(c2, n2)
    if n1 == 0 or n2 == 0:
        return (0.0, 1.0)
    pooled = (c1 + c2) / (n1 + n2)
    variance = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)
    if variance <= 0.0:
        return (0.0, 1.0)
    z = (c2 / n2 - c1 / n1) / math.sqrt(variance)
    return (z, min(1.0, 2.0 * norm_sf(abs(z))))


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
    check_counts(c_control, n_control)
    check_counts(c_variant, n_variant)
    z = z_two_sided(confidence)
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
