"""What changed between two kept reports (projects.analysis.report_diff): pure, on report dicts as kept."""

from projects.analysis.report_diff import report_diff


def _report(**over):
    report = {
        "verdict": "not enough data",
        "score": None,
        "cost_per_signup": None,
        "cost_per_click": None,
        "inputs": {"days": 3.0, "visitors": 120, "signups": 4, "confirmed": None, "spend": "0.00", "bot_share": 0.1},
        "test_card": {
            "currency": "EUR",
            "channel": "paid_search",
            "signup_bar": 0.05,
            "price": 20.0,
            "locked_at": None,
        },
    }
    for key, value in over.items():
        if key in ("inputs", "test_card"):
            report[key] = {**report[key], **value}
        else:
            report[key] = value
    return report


def _by_key(diff):
    return {c.key: c for c in (*diff.verdict, *diff.inputs, *diff.costs, *diff.card)}


def test_counts_up_and_down_with_their_difference():
    before = _report()
    after = _report(inputs={"visitors": 420, "signups": 3})
    rows = _by_key(report_diff(before, after))
    assert (rows["inputs.visitors"].before, rows["inputs.visitors"].after) == ("120", "420")
    assert (rows["inputs.visitors"].direction, rows["inputs.visitors"].difference) == ("up", "+300")
    assert (rows["inputs.signups"].direction, rows["inputs.signups"].difference) == ("down", "−1")
    assert rows["inputs.days"].direction == "same" and rows["inputs.days"].difference == ""


def test_verdict_score_money_and_share_changes_are_said_in_their_units():
    before = _report(cost_per_signup="12.50")
    after = _report(
        verdict="validated",
        score=81.5,
        cost_per_signup="10.00",
        inputs={"spend": "300.00", "bot_share": 0.125},
        test_card={"signup_bar": 0.04},
    )
    rows = _by_key(report_diff(before, after))
    assert (rows["report.verdict"].before, rows["report.verdict"].after) == ("not enough data", "validated")
    assert rows["report.verdict"].direction == "changed"
    # No score before (a gate held it back): a change, not a difference.
    assert (rows["report.score"].before, rows["report.score"].after, rows["report.score"].direction) == (
        "—",
        "81.5",
        "changed",
    )
    assert rows["report.cost_per_signup"].difference == "−2.50 EUR"
    assert rows["report.cost_per_signup"].after == "10.00 EUR"
    assert (rows["inputs.spend"].direction, rows["inputs.spend"].difference) == ("up", "+300.00 EUR")
    assert rows["inputs.bot_share"].difference == "+2.5 points"
    assert (rows["card.signup_bar"].before, rows["card.signup_bar"].after) == ("5.0%", "4.0%")
    assert rows["card.signup_bar"].difference == "−1.0 points"


def test_identical_reports_have_no_changes_and_a_missing_figure_is_a_dash():
    report = _report()
    diff = report_diff(report, dict(report))
    assert diff.changes == ()
    rows = _by_key(diff)
    assert rows["inputs.confirmed"].before == rows["inputs.confirmed"].after == "—"
    # A figure neither report has (an older snapshot) gets no line at all.
    assert "inputs.paid_visitors" not in rows


def test_a_change_below_the_shown_precision_reads_as_unchanged():
    rows = _by_key(report_diff(_report(inputs={"bot_share": 0.1}), _report(inputs={"bot_share": 0.10001})))
    assert rows["inputs.bot_share"].direction == "same"


def test_the_channel_and_the_lock_read_in_words():
    after = _report(test_card={"channel": "paid_social", "locked_at": "2026-03-04T09:15:00Z"})
    rows = _by_key(report_diff(_report(), after))
    assert (rows["card.channel"].before, rows["card.channel"].after) == ("paid search", "paid social")
    assert rows["card.locked_at"].after == "2026-03-04 09:15 UTC" and rows["card.locked_at"].direction == "changed"
    assert [c.key for c in report_diff(_report(), after).changes] == ["card.channel", "card.locked_at"]


def test_garbage_values_do_not_raise():
    before = _report(inputs={"visitors": "many"}, score=float("nan"))
    rows = _by_key(report_diff(before, _report()))
    assert rows["inputs.visitors"].before == "many" and rows["inputs.visitors"].direction == "changed"
    assert report_diff({}, {}).changes == ()
