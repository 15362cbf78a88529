"""projects.analysis.bayesian checked against independent references: scipy numerical integration for the
exact formulas, numpy-vectorised simulation for the Monte Carlo ones. No database is used.
"""

from __future__ import annotations

import pytest

from projects.analysis import bayesian
from projects.analysis.bayesian import prob_rate_above
from tests.projects.analysis.cards import sf
from tests.projects.analysis.references import (
    EXACT,
    MC,
    PAIRS,
    loss_tolerance,
    numpy_reference,
    pair_params,
    ref_loss,
    ref_prob_beat,
)

# --- Bayesian: exact formulas vs numerical integration -------------------------------------------------------------


@pytest.mark.parametrize(("c1", "n1", "c2", "n2"), pair_params())
def test_prob_beat_control_matches_integration(c1, n1, c2, n2):
    assert bayesian.prob_beat_control(c1, n1, c2, n2) == pytest.approx(ref_prob_beat(c1, n1, c2, n2), abs=EXACT)


@pytest.mark.parametrize(("c1", "n1", "c2", "n2"), pair_params())
def test_expected_loss_matches_integration(c1, n1, c2, n2):
    assert bayesian.expected_loss(c1, n1, c2, n2) == pytest.approx(ref_loss(c1, n1, c2, n2), abs=EXACT)
    # ... and the loss of keeping control (arms swapped).
    assert bayesian.expected_loss(c2, n2, c1, n1) == pytest.approx(ref_loss(c2, n2, c1, n1), abs=EXACT)


def test_prob_beat_control_symmetry_and_ties():
    assert bayesian.prob_beat_control(20, 1000, 20, 1000) == pytest.approx(0.5, abs=1e-12)
    assert bayesian.prob_beat_control(0, 0, 0, 0) == pytest.approx(0.5, abs=1e-12)
    p = bayesian.prob_beat_control(20, 1000, 30, 1000)
    assert bayesian.prob_beat_control(30, 1000, 20, 1000) == pytest.approx(1 - p, abs=1e-12)


# --- Bayesian: Monte Carlo -----------------------------------------------------------------------------------------


MC_PAIRS = ("typical", "zero-conversions-variant", "all-conversions-both", "one-visitor-each", "unequal-80-20")


@pytest.mark.parametrize("pair", [*MC_PAIRS, "zero-visitors-control"])
def test_monte_carlo_two_arms_matches_exact(pair):
    c1, n1, c2, n2 = PAIRS[pair]
    draws = 50_000
    probs = bayesian.prob_best([(c1, n1), (c2, n2)], draws=draws)
    losses = bayesian.expected_loss_per_arm([(c1, n1), (c2, n2)], draws=draws)
    exact = bayesian.prob_beat_control(c1, n1, c2, n2)
    assert probs[1] == pytest.approx(exact, abs=MC)
    assert probs[0] == pytest.approx(1 - exact, abs=MC)
    _, _, loss_sd = numpy_reference([(c1, n1), (c2, n2)], draws=100_000)
    tolerance = loss_tolerance(loss_sd, draws)
    assert losses[1] == pytest.approx(bayesian.expected_loss(c1, n1, c2, n2), abs=tolerance[1])
    assert losses[0] == pytest.approx(bayesian.expected_loss(c2, n2, c1, n1), abs=tolerance[0])


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
    probs = bayesian.prob_best(arms, draws=draws)
    losses = bayesian.expected_loss_per_arm(arms, draws=draws)
    ref_probs, ref_losses, loss_sd = numpy_reference(arms)
    assert sum(probs) == pytest.approx(1.0, abs=1e-12)
    assert probs == pytest.approx(list(ref_probs), abs=MC)
    for got, expected, tolerance in zip(losses, ref_losses, loss_tolerance(loss_sd, draws), strict=True):
        assert got == pytest.approx(expected, abs=tolerance)


def test_monte_carlo_is_reproducible_with_the_seed():
    assert bayesian.prob_best(FIVE_ARMS, draws=2000) == bayesian.prob_best(FIVE_ARMS, draws=2000)
    assert bayesian.prob_best(FIVE_ARMS, draws=2000) != bayesian.prob_best(FIVE_ARMS, draws=2000, seed=1)


def test_prob_rate_above_uses_the_uniform_prior_of_projects_stats():
    assert prob_rate_above(30, 400, 0.05) == pytest.approx(sf(30, 400, 0.05), abs=1e-12)
    assert prob_rate_above(0, 0, 0.25) == pytest.approx(0.75, abs=1e-15)  # no data: the uniform prior
    with pytest.raises(ValueError, match="cannot exceed"):
        prob_rate_above(5, 4, 0.1)
