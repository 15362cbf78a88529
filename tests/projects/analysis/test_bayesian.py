"""projects.analysis.bayesian checked against independent references: scipy numerical integration for the
exact formulas, numpy-vectorised simulation for the integrated ones of any number of arms. No database is used.
"""

from __future__ import annotations

import pytest

from projects.analysis import bayesian
from projects.analysis.bayesian import prob_rate_above
from tests.projects.analysis.cards import sf
from tests.projects.analysis.references import (
    EXACT,
    INTEGRATION,
    numpy_reference,
    pair_params,
    ref_loss,
    ref_prob_beat,
    reference_tolerances,
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


# --- Bayesian: any number of arms, by numerical integration --------------------------------------------------------


@pytest.mark.parametrize(("c1", "n1", "c2", "n2"), pair_params())
def test_best_arms_of_two_arms_equal_the_exact_forms(c1, n1, c2, n2):
    probs, losses = bayesian.best_arms([(c1, n1), (c2, n2)])
    exact = bayesian.prob_beat_control(c1, n1, c2, n2)
    assert probs[1] == pytest.approx(exact, abs=INTEGRATION)
    assert probs[0] == pytest.approx(1 - exact, abs=INTEGRATION)
    assert losses[1] == pytest.approx(bayesian.expected_loss(c1, n1, c2, n2), abs=INTEGRATION)
    assert losses[0] == pytest.approx(bayesian.expected_loss(c2, n2, c1, n1), abs=INTEGRATION)


FIVE_ARMS = [(20, 1000), (30, 1000), (25, 1000), (22, 1000), (28, 1000)]


@pytest.mark.parametrize(
    "arms",
    [
        pytest.param(FIVE_ARMS, id="five-close"),
        pytest.param([(0, 0), (0, 10), (10, 10)], id="empty-zero-all"),
        pytest.param([(160, 4000), (55, 1000), (30, 1000)], id="unequal"),
        pytest.param([(0, 5000), (1, 5000), (0, 5000), (2, 5000)], id="hardly-any-conversions"),
        pytest.param([(50_000, 1_000_000), (50_600, 1_000_000), (50_300, 1_000_000)], id="large-counts"),
        pytest.param([(30, 600), (1, 1), (90, 1000), (0, 0), (120, 1000)], id="mixed"),
    ],
)
def test_best_arms_match_the_numpy_reference(arms):
    probs = bayesian.prob_best(arms)
    losses = bayesian.expected_loss_per_arm(arms)
    ref_probs, ref_losses, loss_sd = numpy_reference(arms)
    prob_tolerances, loss_tolerances = reference_tolerances(ref_probs, loss_sd)
    assert sum(probs) == pytest.approx(1.0, abs=1e-12)
    for got, expected, tolerance in zip(probs, ref_probs, prob_tolerances, strict=True):
        assert got == pytest.approx(expected, abs=tolerance)
    for got, expected, tolerance in zip(losses, ref_losses, loss_tolerances, strict=True):
        assert got == pytest.approx(expected, abs=tolerance)


def test_best_arms_follow_the_arms_and_not_their_order():
    probs, losses = bayesian.best_arms(FIVE_ARMS)
    order = [3, 0, 4, 1, 2]
    moved_probs, moved_losses = bayesian.best_arms([FIVE_ARMS[i] for i in order])
    assert moved_probs == pytest.approx([probs[i] for i in order], abs=1e-12)
    assert moved_losses == pytest.approx([losses[i] for i in order], abs=1e-12)
    twins, twin_losses = bayesian.best_arms([(25, 1000)] * 4)
    assert twins == pytest.approx([0.25] * 4, abs=1e-12)
    assert len(set(twin_losses)) == 1 and twin_losses[0] > 0


def test_best_arms_need_two_arms():
    with pytest.raises(ValueError, match="two arms"):
        bayesian.best_arms([(3, 10)])
    with pytest.raises(ValueError, match="cannot exceed"):
        bayesian.best_arms([(3, 10), (11, 10)])


def test_prob_rate_above_uses_the_uniform_prior_of_projects_stats():
    assert prob_rate_above(30, 400, 0.05) == pytest.approx(sf(30, 400, 0.05), abs=1e-12)
    assert prob_rate_above(0, 0, 0.25) == pytest.approx(0.75, abs=1e-15)  # no data: the uniform prior
    with pytest.raises(ValueError, match="cannot exceed"):
        prob_rate_above(5, 4, 0.1)
