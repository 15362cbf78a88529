"""The demand score, its thresholds and the test card: re-exports of their homes in :mod:`projects.analysis`.

:mod:`~projects.analysis.thresholds` (the one table of defaults with their sources),
:mod:`~projects.analysis.test_card`, :mod:`~projects.analysis.score_inputs`, :mod:`~projects.analysis.score` and
:mod:`~projects.analysis.distributions` (``beta_sf``) / :mod:`~projects.analysis.bayesian` (``prob_rate_above``).
This module keeps the old import path working until its callers import those.
"""

from projects.analysis.bayesian import prob_rate_above
from projects.analysis.distributions import beta_sf
from projects.analysis.score import Component, Verdict, score
from projects.analysis.score_inputs import Inputs
from projects.analysis.test_card import TestCard, build_test_card
from projects.analysis.thresholds import (
    BUSINESS_MODELS,
    CHANNELS,
    COMPONENTS,
    OVERRIDABLE,
    THRESHOLDS,
    VERDICTS,
    Threshold,
)

__all__ = [
    "BUSINESS_MODELS",
    "CHANNELS",
    "COMPONENTS",
    "OVERRIDABLE",
    "THRESHOLDS",
    "VERDICTS",
    "Component",
    "Inputs",
    "TestCard",
    "Threshold",
    "Verdict",
    "beta_sf",
    "build_test_card",
    "prob_rate_above",
    "score",
]
