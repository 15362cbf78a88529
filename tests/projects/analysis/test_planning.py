"""projects.analysis.planning checked against independent references (scipy / statsmodels).

No database is used.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    proportion_effectsize,
)

from projects.analysis import planning
from tests.projects.analysis.references import (
    EXACT,
)

# --- SRM -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("observed", "weights"),
    [
        ([510, 490], [1, 1]),
        ([800, 200], [80, 20]),
        ([760, 240], [0.8, 0.2]),
        ([5100, 4000, 900], [5, 4, 1.2]),
        ([200, 210, 190, 205, 195], [1, 1, 1, 1, 1]),
        ([1000, 0], [1, 1]),
        ([1, 0], [1, 1]),
    ],
)
def test_srm_matches_scipy_chisquare(observed, weights):
    statistic, p = planning.srm_test(observed, weights)
    f_exp = np.array(weights, dtype=float) / sum(weights) * sum(observed)
    ref = sps.chisquare(observed, f_exp)
    assert statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert p == pytest.approx(ref.pvalue, rel=EXACT, abs=1e-300)


def test_srm_zero_total_and_bad_input():
    assert planning.srm_test([0, 0, 0], [1, 1, 1]) == (0.0, 1.0)
    with pytest.raises(ValueError):
        planning.srm_test([1, 2], [1])
    with pytest.raises(ValueError):
        planning.srm_test([1, 2], [1, 0])


# --- planning ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("baseline", "mde", "alpha", "power"),
    [
        (0.1, 0.2, 0.05, 0.8),
        (0.02, 0.1, 0.05, 0.8),
        (0.3, 0.5, 0.05, 0.9),
        (0.05, 0.3, 0.01, 0.8),
        (0.5, 0.9, 0.1, 0.7),
        (0.001, 1.0, 0.05, 0.8),
    ],
)
def test_sample_size_matches_statsmodels(baseline, mde, alpha, power):
    h = proportion_effectsize(baseline * (1 + mde), baseline)
    expected = NormalIndPower().solve_power(effect_size=h, alpha=alpha, power=power, ratio=1.0)
    got = planning.sample_size_per_variant(baseline, mde, alpha, power)
    assert got == math.ceil(expected - 1e-9)  # identical after ceil ...
    assert abs(got - expected) < 1  # ... i.e. within one visitor


@pytest.mark.parametrize(("baseline", "mde"), [(0.0, 0.2), (1.0, 0.2), (0.9, 0.2), (0.1, 0.0)])
def test_sample_size_rejects_impossible_plans(baseline, mde):
    with pytest.raises(ValueError):
        planning.sample_size_per_variant(baseline, mde)


def test_days_to_decision():
    # Equal split of 100 visitors/day over 2 arms: the arm at 400 needs 600 more at 50/day.
    assert planning.days_to_decision(1000, [400, 700], 100, 2) == pytest.approx(12.0)
    # 80/20 split: the small arm gets 20/day and needs 800 more.
    assert planning.days_to_decision(1000, [900, 200], 100, 2, weights=[80, 20]) == pytest.approx(40.0)
    assert planning.days_to_decision(1000, [1000, 1200], 100, 2) == 0.0
    assert planning.days_to_decision(None, [10, 10], 100, 2) is None
    assert planning.days_to_decision(1000, [10, 10], 0, 2) is None
    with pytest.raises(ValueError):
        planning.days_to_decision(1000, [10], 100, 2)
