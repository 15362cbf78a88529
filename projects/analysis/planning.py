"""Health check and planning of an A/B experiment: the sample-ratio-mismatch (SRM) chi-square test, the sample size
per variant for a minimum detectable effect, and the days left until every arm has it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from projects.analysis.distributions import chi2_sf, norm_cdf, norm_ppf

__all__ = ["Plan", "days_to_decision", "plan_experiment", "sample_size_per_variant", "srm_test"]


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
    *,
    min_days_left: float = 0.0,
) -> float | None:
    """Days until every arm reaches ``needed_per_variant`` visitors at the current traffic, and never fewer than
    ``min_days_left`` (what is left of the minimum run: a decision waits for it however fast the traffic is).

    ``visitors_per_day`` is the page's total traffic; each arm receives ``weight / sum(weights)`` of it (an equal
    ``1 / n_variants`` share when weights are not given), so with an 80/20 split the small arm sets the pace.
    Returns ``min_days_left`` (0.0 by default) when every arm is already there and None when it cannot be estimated
    (no sample size, no traffic).
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
    return max(days, min_days_left)


@dataclass(frozen=True)
class Plan:
    """What an experiment needs before it starts, at the page's current traffic."""

    baseline_rate: float
    mde_relative: float
    arms: int
    coverage: float
    # None when the lift would take the rate past 100 % (no sample can show it).
    per_arm: int | None
    total: int | None
    # Visitors of the page per day, and the share of them the experiment sees.
    visitors_per_day: float
    in_experiment_per_day: float
    # None without traffic (or without a sample size): no estimate.
    days: float | None


def plan_experiment(
    *, baseline_rate: float, mde_relative: float, arms: int, coverage: float, visitors_per_day: float
) -> Plan:
    """Visitors needed per arm (:func:`sample_size_per_variant`) and in all, and the days they take
    when ``coverage`` of the page's ``visitors_per_day`` are split evenly between ``arms`` arms."""
    if arms < 2:
        raise ValueError("an experiment has at least two arms")
    if not 0.0 < coverage <= 1.0:
        raise ValueError("coverage must be in (0, 1]")
    per_arm: int | None
    try:
        per_arm = sample_size_per_variant(baseline_rate, mde_relative)
    except ValueError:
        per_arm = None
    total = per_arm * arms if per_arm is not None else None
    daily = max(visitors_per_day, 0.0) * coverage
    days = total / daily if total is not None and daily > 0.0 else None
    return Plan(
        baseline_rate=baseline_rate,
        mde_relative=mde_relative,
        arms=arms,
        coverage=coverage,
        per_arm=per_arm,
        total=total,
        visitors_per_day=visitors_per_day,
        in_experiment_per_day=daily,
        days=days,
    )
