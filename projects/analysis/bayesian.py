"""Bayesian figures with Beta(1, 1) priors: exact P(variant beats control) and expected loss for two arms, seeded
Monte Carlo P(best) / expected loss for more arms, and the posterior P(rate > bar) the demand score is built on.
"""

from __future__ import annotations

import numpy as np

from projects.analysis.counts import check_counts
from projects.analysis.distributions import beta_sf, log_beta

__all__ = [
    "MC_DRAWS",
    "MC_SEED",
    "expected_loss",
    "expected_loss_per_arm",
    "monte_carlo",
    "posterior",
    "prob_beat_control",
    "prob_best",
    "prob_rate_above",
]


# Default number of Monte Carlo draws for P(best) with more than two arms: the standard error of a probability is at
# most sqrt(0.25 / 200_000) ~ 0.0011, well below the precision anyone reads from a results page.
MC_DRAWS = 200_000
MC_SEED = 12345


def posterior(conversions: int, visitors: int) -> tuple[int, int]:
    # Beta(1, 1) (uniform) prior + binomial likelihood -> Beta(1 + conversions, 1 + non-conversions).
    check_counts(conversions, visitors)
    return 1 + conversions, 1 + visitors - conversions


def _prob_x_greater(a_x: int, b_x: int, a_y: int, b_y: int) -> float:
    """P(X > Y) for independent X ~ Beta(a_x, b_x), Y ~ Beta(a_y, b_y) with integer shape parameters.

    Evan Miller, "Formulas for Bayesian A/B Testing", https://www.evanmiller.org/bayesian-ab-testing.html:
    P(X > Y) = sum_{i=0}^{a_x - 1} B(a_y + i, b_y + b_x) / ((b_x + i) B(1 + i, b_x) B(a_y, b_y)).
    The sum runs over the smaller first shape parameter (using P(X > Y) = 1 - P(Y > X), ties having probability 0)
    so the cost is O(min(conversions)) rather than O(max). Terms are summed in log space so large counts neither
    overflow nor underflow, and with numpy: term i + 1 over term i is
    (a_y + i)(b_x + i) / ((a_y + b_y + b_x + i)(1 + i)) (from B(a + 1, b) = B(a, b) a / (a + b)), so the logs of
    all terms are the first term's log plus a cumulative sum of those ratios' logs, no per-term lgamma. The
    cumulative sum's rounding stays near 1e-10 relative over 50,000 terms (tests/projects/analysis/ hold it to the
    scipy integration at 1e-6).
    """
    if a_x > a_y:
        return 1.0 - _prob_x_greater(a_y, b_y, a_x, b_x)
    i = np.arange(a_x - 1, dtype=np.float64)
    steps = np.log(a_y + i) + np.log(b_x + i) - np.log(a_y + b_y + b_x + i) - np.log1p(i)
    logs = np.empty(a_x, dtype=np.float64)
    logs[0] = log_beta(a_y, b_y + b_x) - log_beta(a_y, b_y)  # b_x B(1, b_x) = 1
    np.cumsum(steps, out=logs[1:])
    logs[1:] += logs[0]
    return min(1.0, max(0.0, float(np.exp(logs).sum())))


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


def monte_carlo(arms: list[tuple[int, int]], draws: int, seed: int) -> tuple[list[float], list[float]]:
    """Seeded Monte Carlo over the Beta posteriors: (P(arm is best), E[max_j p_j - p_arm]) for every arm.

    Draws from each posterior are compared (numpy, one array of ``draws`` per arm); a fixed seed makes the figures
    reproducible between calls. Method: the same posterior quantities as Chris Stucchio's decision rule (link in
    :func:`expected_loss`), estimated by https://en.wikipedia.org/wiki/Monte_Carlo_integration.
    """
    if len(arms) < 2:
        raise ValueError("need at least two arms")
    if draws < 1:
        raise ValueError("draws must be >= 1")
    shapes = np.array([posterior(c, n) for c, n in arms], dtype=np.float64)
    # A seeded, reproducible stream is the point here (same figures on every call); nothing is secret.
    rng = np.random.default_rng(seed)
    samples = rng.beta(shapes[:, :1], shapes[:, 1:], size=(len(arms), draws))
    # The loss E[max_j p_j - p_k] splits into E[max] - E[p_k]: only the maximum of each draw is needed. argmax
    # takes the first of tied draws, as a scan of each draw would.
    winners = samples.argmax(axis=0)
    wins = np.bincount(winners, minlength=len(arms))
    mean_best = float(np.take_along_axis(samples, winners[np.newaxis, :], axis=0).mean())
    means = samples.mean(axis=1)
    return [float(w) / draws for w in wins], [max(0.0, mean_best - float(m)) for m in means]


def prob_best(arms: list[tuple[int, int]], draws: int = MC_DRAWS, seed: int = MC_SEED) -> list[float]:
    """Monte Carlo probability that each arm (conversions, visitors) has the highest conversion rate."""
    return monte_carlo(arms, draws, seed)[0]


def expected_loss_per_arm(arms: list[tuple[int, int]], draws: int = MC_DRAWS, seed: int = MC_SEED) -> list[float]:
    """Monte Carlo expected loss of shipping each arm: E[max_j p_j - p_arm] (absolute conversion rate)."""
    return monte_carlo(arms, draws, seed)[1]


def prob_rate_above(successes: int, trials: int, bar: float) -> float:
    """Posterior P(rate > bar) after ``successes`` of ``trials``, uniform Beta(1, 1) prior (:func:`posterior`)."""
    a, b = posterior(successes, trials)
    return beta_sf(bar, a, b)
