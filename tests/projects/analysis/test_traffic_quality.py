"""projects.analysis.traffic_quality: the bot-share gate, judged only from enough views (no database)."""

from __future__ import annotations

import math

import pytest

from projects.analysis.frequentist import wilson_interval
from projects.analysis.score import score
from projects.analysis.score_inputs import Inputs
from projects.analysis.thresholds import BOT_SHARE_LIMIT, THRESHOLDS
from projects.analysis.traffic_quality import HEALTHY, TOO_EARLY, UNHEALTHY, traffic_quality
from tests.projects.analysis.cards import saas_card

MINIMUM = int(THRESHOLDS["min_bot_share_views"].value)


def test_the_minimum_is_in_the_table_with_its_source_and_the_arithmetic_it_claims():
    entry = THRESHOLDS["min_bot_share_views"]
    assert entry.value == MINIMUM == 100 and "nist.gov" in entry.source
    # "+/-9 points" at the limit, and the two Wilson intervals the entry quotes.
    assert round(100 * 1.96 * math.sqrt(BOT_SHARE_LIMIT * (1 - BOT_SHARE_LIMIT) / MINIMUM)) == 9
    assert [round(100 * x) for x in wilson_interval(44, 100)] == [35, 54]
    assert [round(100 * x) for x in wilson_interval(11, 25)] == [27, 63]


@pytest.mark.parametrize(
    ("share", "views", "status"),
    [
        (None, 0, TOO_EARLY),
        (0.44, 25, TOO_EARLY),  # the day 0
        (1.0, MINIMUM - 1, TOO_EARLY),
        (0.31, MINIMUM, UNHEALTHY),
        (0.30, MINIMUM, HEALTHY),  # at the limit: healthy, as before
        (0.0, 5000, HEALTHY),
    ],
)
def test_the_gate(share, views, status):
    quality = traffic_quality(bot_share=share, views=views)
    assert quality.status == status and quality.minimum_views == MINIMUM and quality.limit == BOT_SHARE_LIMIT
    if status == TOO_EARLY:
        assert quality.reason.startswith("Too early to judge traffic quality")
    assert quality.to_dict()["status"] == status


@pytest.mark.parametrize(("share", "views"), [(1.5, 200), (-0.1, 200), (0.2, -1), (0.2, True), (0.2, 1.5)])
def test_bad_input_is_refused(share, views):
    with pytest.raises(ValueError):
        traffic_quality(bot_share=share, views=views)


def test_the_verdict_says_too_early_instead_of_unhealthy():
    early = score(saas_card(), Inputs(days=0.01, visitors=14, signups=0, bot_share=0.44, traffic_views=25))
    assert early.verdict == "not enough data" and early.traffic_quality["status"] == TOO_EARLY
    assert any(r.startswith("Too early to judge traffic quality") for r in early.reasons)
    late = score(saas_card(), Inputs(days=0.01, visitors=56, signups=0, bot_share=0.44, traffic_views=100))
    assert late.verdict == "unhealthy" and late.traffic_quality["status"] == UNHEALTHY


def test_a_bot_share_of_no_views_is_refused():
    with pytest.raises(ValueError, match="traffic_views"):
        Inputs(days=1, visitors=0, signups=0, bot_share=0.5)
    assert Inputs(days=1, visitors=0, signups=0, bot_share=0.5, traffic_views=2).judged_views == 2
    assert Inputs(days=1, visitors=300, signups=0).judged_views == 300  # no count given: the cold visitors
