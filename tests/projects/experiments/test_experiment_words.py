"""The lead sentence of the results screen (`projects.analysis.experiment_words`): pure, on results
shaped as the API returns them, including ones `analyse` computes."""

import pytest

from projects.analysis.experiment_bars import interval_bars, scale_top
from projects.analysis.experiment_words import about, lead_sentence, percent
from projects.analysis.experiments import Arm, analyse

NAMES = {"a": "The page", "b": "Variant B", "c": "Variant C"}


def results(arms, *, days=10.0, per_day=None, mde=0.2, status="running", bots=None, limit=0.2):
    """What `experiment_results` returns for these (key, visitors, signups) arms: `analyse` plus health."""
    analysis = analyse(
        [Arm(key, 1.0, n, c, key == "a") for key, n, c in arms],
        days_running=days,
        visitors_per_day=per_day,
        mde_relative=mde,
    ).to_dict()
    too_many = bots is not None and bots > limit
    return {
        **analysis,
        "status": status,
        "health": {"bot_share": bots, "bot_share_limit": limit, "too_many_bots": too_many, "srm": analysis["srm"]},
    }


def test_no_visitors_yet():
    lead = lead_sentence(results([("a", 0, 0), ("b", 0, 0)], days=0), NAMES)
    assert lead.headline == "No visitors yet" and lead.tone == "neutral"
    assert (
        "once the experiment is started"
        in lead_sentence(results([("a", 0, 0), ("b", 0, 0)], days=0, status="draft"), NAMES).text
    )


def test_too_early_says_how_many_visitors_so_far_and_what_a_verdict_needs():
    lead = lead_sentence(results([("a", 22, 1), ("b", 18, 2)], days=1), NAMES)
    assert lead.sentence == (
        "Too early: 40 visitors so far. A verdict needs at least 100 visitors and 25 sign-ups in each arm, "
        "over at least 7 days."
    )


def test_a_variant_ahead_gives_its_chance_the_visitors_and_days_still_needed():
    data = results([("a", 600, 30), ("b", 600, 42)], days=4, per_day=300)
    lead = lead_sentence(data, NAMES)
    b = data["arms"][1]
    needed = data["sample_size_per_variant"]
    missing = 2 * (needed - 600)
    assert data["decision"]["status"] == "collecting"
    assert lead.headline == "Variant B is ahead" and lead.tone == "warn"
    assert lead.text.startswith(f"{percent(b['prob_beat_control'])} chance it converts better than the page, ")
    assert f"about {about(missing)} more visitors" in lead.text
    assert lead.text.endswith("at today's traffic, before it is safe to call.")
    assert f"about {int(-(-data['days_to_decision'] // 1))} days" in lead.text


def test_the_page_ahead_when_every_variant_trails():
    lead = lead_sentence(results([("a", 600, 42), ("b", 600, 30)], days=4, per_day=300), NAMES)
    assert lead.headline == "The page is ahead"
    assert "chance it converts better than Variant B" in lead.text


def test_a_winner_is_safe_to_call():
    data = results([("a", 5000, 250), ("b", 5000, 400)], days=14)
    assert data["decision"]["status"] == "winner"
    lead = lead_sentence(data, NAMES)
    assert lead.headline == "Variant B wins" and lead.tone == "ok"
    assert lead.text.endswith("and it is safe to call.") and "(+60% sign-ups)" in lead.text


def test_every_variant_worse_means_the_page_wins():
    data = results([("a", 5000, 400), ("b", 5000, 250)], days=14)
    assert data["decision"]["status"] == "loser"
    assert lead_sentence(data, NAMES).headline == "The page wins"


def test_no_clear_difference_after_the_planned_sample():
    data = results([("a", 20000, 1000), ("b", 20000, 1010)], days=30, mde=0.2)
    assert data["decision"]["status"] == "no_difference"
    lead = lead_sentence(data, NAMES)
    assert lead.headline == "No clear difference"
    assert lead.text.startswith("after 20,000 visitors per arm, a lift of 20% or more is unlikely.")


def test_health_problems_come_before_any_verdict():
    winner = results([("a", 5000, 250), ("b", 5000, 400)], days=14, bots=0.35)
    lead = lead_sentence(winner, NAMES)
    assert lead.headline == "Too many bots" and lead.tone == "bad"
    assert lead.text.startswith("35% of the views are known bots (the limit is 20%)")
    broken = results([("a", 5000, 250), ("b", 3000, 240)], days=14)
    assert broken["srm"]["unhealthy"]
    assert lead_sentence(broken, NAMES).headline == "The split is off"


@pytest.mark.parametrize(("n", "text"), [(0, "0"), (87, "87"), (1284, "1,300"), (1250, "1,300"), (10_040, "10,000")])
def test_about_rounds_to_two_significant_figures(n, text):
    assert about(n) == text


@pytest.mark.parametrize(("share", "text"), [(0.91, "91%"), (0.9996, ">99%"), (1.0, "100%"), (0.001, "<1%"), (0, "0%")])
def test_percent_never_claims_certainty_it_does_not_have(share, text):
    assert percent(share) == text


def test_interval_bars_share_one_round_scale():
    top, bars = interval_bars(
        [
            {"key": "a", "rate": 0.05, "wilson_low": 0.04, "wilson_high": 0.062},
            {"key": "b", "rate": None, "wilson_low": 0.0, "wilson_high": 0.0},
        ]
    )
    assert top == scale_top(0.062) == 0.1
    assert (bars[0].low_x, bars[0].width, bars[0].rate_x) == (40.0, 22.0, 50.0)
    assert bars[1].rate_x is None and bars[1].width == 0.5
