"""Statistics of landing-page A/B experiments: re-exports of their homes in :mod:`projects.analysis`.

:mod:`~projects.analysis.distributions` (normal, chi-square, Beta), :mod:`~projects.analysis.frequentist`,
:mod:`~projects.analysis.bayesian`, :mod:`~projects.analysis.sequential`, :mod:`~projects.analysis.planning`,
:mod:`~projects.analysis.experiments` (``analyse``) and :mod:`~projects.analysis.thresholds` (the gates and
significance levels). This module keeps the old import path working until its callers import those.
"""

from projects.analysis.bayesian import (
    MC_DRAWS,
    MC_SEED,
    expected_loss,
    expected_loss_per_arm,
    posterior,
    prob_beat_control,
    prob_best,
)
from projects.analysis.distributions import chi2_sf, log_beta, norm_cdf, norm_ppf
from projects.analysis.experiments import Analysis, Arm, ArmResult, Decision, Gate, Gates, SrmResult, analyse
from projects.analysis.frequentist import Lift, holm, relative_lift, two_proportion_ztest, wilson_interval
from projects.analysis.json_ready import json_ready
from projects.analysis.planning import days_to_decision, sample_size_per_variant, srm_test
from projects.analysis.sequential import MSPRT_TAU2, always_valid_p, sequential_decision
from projects.analysis.thresholds import (
    MIN_CONVERSIONS_PER_VARIANT,
    MIN_DAYS,
    MIN_VISITORS_PER_VARIANT,
    SEQUENTIAL_ALPHA,
    SRM_ALPHA,
)

__all__ = [
    "MC_DRAWS",
    "MC_SEED",
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
    "json_ready",
    "log_beta",
    "norm_cdf",
    "norm_ppf",
    "posterior",
    "prob_beat_control",
    "prob_best",
    "relative_lift",
    "sample_size_per_variant",
    "sequential_decision",
    "srm_test",
    "two_proportion_ztest",
    "wilson_interval",
]
