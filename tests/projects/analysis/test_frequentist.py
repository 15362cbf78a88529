"""projects.analysis.frequentist checked against independent references (statsmodels).

No database is used.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportions_ztest,
)

from projects.analysis import frequentist
from tests.projects.analysis.references import (
    EXACT,
    PAIRS,
    has_variance,
    pair_params,
)

# --- Wilson interval -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("conversions", "visitors"),
    [(0, 1), (1, 1), (0, 100), (100, 100), (3, 10), (123, 4567), (50_000, 1_000_000), (1, 2)],
)
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_wilson_matches_statsmodels(conversions, visitors, confidence):
    low, high = frequentist.wilson_interval(conversions, visitors, confidence)
    ref_low, ref_high = proportion_confint(conversions, visitors, alpha=1 - confidence, method="wilson")
    assert low == pytest.approx(ref_low, abs=1e-12)
    assert high == pytest.approx(ref_high, abs=1e-12)
    assert 0.0 <= low <= conversions / visitors <= high <= 1.0


def test_wilson_zero_visitors_is_the_whole_support():
    assert frequentist.wilson_interval(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(("conversions", "visitors"), [(-1, 10), (5, -1), (11, 10)])
def test_wilson_rejects_bad_counts(conversions, visitors):
    with pytest.raises(ValueError):
        frequentist.wilson_interval(conversions, visitors)


# --- z-test --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("c1", "n1", "c2", "n2"), pair_params(has_variance))
def test_ztest_matches_statsmodels(c1, n1, c2, n2):
    z, p = frequentist.two_proportion_ztest(c1, n1, c2, n2)
    ref_z, ref_p = proportions_ztest([c2, c1], [n2, n1])
    assert z == pytest.approx(ref_z, rel=1e-9, abs=1e-12)
    assert p == pytest.approx(ref_p, rel=1e-9, abs=1e-15)


def test_ztest_sign_convention_variant_minus_control():
    z, _ = frequentist.two_proportion_ztest(20, 1000, 30, 1000)
    assert z > 0  # variant (arm 2) better -> positive
    z, _ = frequentist.two_proportion_ztest(30, 1000, 20, 1000)
    assert z < 0


def test_ztest_keeps_tiny_p_values():
    z, p = frequentist.two_proportion_ztest(1000, 10_000, 1500, 10_000)
    assert p == pytest.approx(proportions_ztest([1500, 1000], [10_000, 10_000])[1], rel=1e-6)
    assert 0.0 < p < 1e-20


@pytest.mark.parametrize(("c1", "n1", "c2", "n2"), pair_params(lambda c1, n1, c2, n2: not has_variance(c1, n1, c2, n2)))
def test_ztest_without_variance_reports_no_evidence(c1, n1, c2, n2):
    """statsmodels gives NaN (0/0) here; we report z = 0, p = 1 so JSON and comparisons keep working."""
    assert frequentist.two_proportion_ztest(c1, n1, c2, n2) == (0.0, 1.0)
    if n1 and n2:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            ref_z, _ = proportions_ztest([c2, c1], [n2, n1])
        assert not np.isfinite(ref_z) or ref_z == 0


# --- relative lift -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("c1", "n1", "c2", "n2"), pair_params(lambda c1, n1, c2, n2: c1 > 0 and c2 > 0))
@pytest.mark.parametrize("confidence", [0.9, 0.95])
def test_relative_lift_matches_statsmodels_ratio_interval(c1, n1, c2, n2, confidence):
    result = frequentist.relative_lift(c1, n1, c2, n2, confidence)
    ref_low, ref_high = confint_proportions_2indep(c2, n2, c1, n1, method="log", compare="ratio", alpha=1 - confidence)
    assert result.lift == pytest.approx((c2 / n2) / (c1 / n1) - 1, rel=1e-12, abs=1e-15)
    assert result.low == pytest.approx(ref_low - 1, rel=EXACT, abs=1e-12)
    assert result.high == pytest.approx(ref_high - 1, rel=EXACT, abs=1e-12)
    assert result.low <= result.lift <= result.high


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        ("zero-conversions-control", frequentist.Lift(None, None, None)),
        ("zero-conversions-both", frequentist.Lift(None, None, None)),
        ("zero-visitors-variant", frequentist.Lift(None, None, None)),
        ("zero-visitors-control", frequentist.Lift(None, None, None)),
        ("zero-conversions-variant", frequentist.Lift(-1.0, None, None)),
    ],
)
def test_relative_lift_undefined_cases(pair, expected):
    assert frequentist.relative_lift(*PAIRS[pair]) == expected


# --- Holm ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pvalues",
    [
        [0.01],
        [0.04, 0.01],
        [0.01, 0.04, 0.03, 0.005],
        [0.02, 0.02, 0.5, 1.0],
        [0.3, 0.0, 0.049, 0.0125],
        [0.9, 0.8, 0.7, 0.6],
    ],
)
def test_holm_matches_statsmodels(pvalues):
    expected = multipletests(pvalues, method="holm")[1]
    assert frequentist.holm(pvalues) == pytest.approx(list(expected), abs=1e-15)


def test_holm_empty():
    assert frequentist.holm([]) == []
