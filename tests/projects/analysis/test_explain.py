"""projects.analysis.explain: every reason the verdict can give, in a founder's words (no threshold keys, no code
names, no "P(...)"), and a headline and a next step for every verdict. The page's own tests
(tests/projects/reports/test_report_page.py) read the same through HTTP."""

import re

import pytest

from projects.analysis.explain import explain
from projects.analysis.plain_reasons import plain_reason
from projects.analysis.score import score
from projects.analysis.score_inputs import Inputs
from projects.analysis.test_card import build_test_card
from projects.analysis.thresholds import LABELS, THRESHOLDS
from projects.analysis.variant_table import variant_rows

CARD = build_test_card(
    idea="Plant Pal", channel="paid_search", price=29.0, currency="USD", business_model="saas", expected_cpc=1.2
)
CASES = {
    "srm": Inputs(days=10, visitors=400, signups=30, srm_unhealthy=True),
    "bots": Inputs(days=10, visitors=400, signups=30, bot_share=0.6, traffic_views=1000),
    "early": Inputs(days=2.00004, visitors=48, signups=3, warm_visitors=20, warm_signups=5, referred_visitors=4),
    "futility": Inputs(days=10, visitors=400, signups=1),
    "few signups": Inputs(days=10, visitors=400, signups=20),
    "validated": Inputs(days=10, visitors=400, signups=80),
    "paid": Inputs(days=10, visitors=415, signups=41, confirmed=20, preorders=2, spend=504.0, clicks=460),
}
CODE = re.compile(r"\[[a-z_.]+\]|projects\.analysis|\bP\(|\bP =|\bLTV\b")


@pytest.mark.parametrize("case", list(CASES))
def test_every_reason_reads_without_keys_or_code_names(case):
    verdict = score(CARD, CASES[case]).to_dict()
    assert verdict["reasons"]
    for reason in verdict["reasons"]:
        text = plain_reason(reason)
        assert not CODE.search(text), (reason, text)
        assert not any(label in text.lower() for label in LABELS.values()), text
        assert not re.search(r"\d\.\d{3,} of \d+ days", text), text
    # The API keeps its keys: the machine-readable reasons are untouched.
    assert any(re.search(r"\[[a-z_.]+\]", r) for r in verdict["reasons"]) or case == "srm"


@pytest.mark.parametrize("case", list(CASES))
def test_every_verdict_has_a_headline_what_it_rests_on_and_a_next_step(case):
    report = {
        **score(CARD, CASES[case]).to_dict(),
        "inputs": CASES[case].__dict__,
        "test_card": CARD.to_dict(),
    }
    explained = explain(report, project_name="Plant Pal")
    assert explained.headline and explained.rests_on and explained.next_steps
    assert "Plant Pal" in explained.headline or report["verdict"] == "unhealthy"
    assert not CODE.search(" ".join([explained.headline, *(f.text for f in explained.rests_on), *explained.next_steps]))
    if report["verdict"] in ("unhealthy", "not enough data"):
        assert explained.components == ()  # no table of statistics a gate held back


def test_the_bars_are_named_in_plain_words_with_their_sources():
    report = {
        "verdict": "validated",
        "thresholds": {k: {"value": t.value, "source": t.source} for k, t in THRESHOLDS.items()},
    }
    rows = explain(report, project_name="x").thresholds
    assert len(rows) == len(THRESHOLDS)
    for row in rows:
        assert "_" not in row.label and "projects.analysis" not in row.cells[1], row
    by_label = {row.label: row.cells[0] for row in rows}
    assert by_label["Highest bot share the counts can carry"] == "30%"
    assert by_label["Sign-up rate to beat (paid search)"] == "5%"


def test_versions_are_compared_with_the_control_and_traffic_outside_tests_never():
    rows = variant_rows(
        [
            {"variant": "(none)", "visitors": 35, "signups": 9},
            {"variant": "bold", "visitors": 205, "signups": 24},
            {"variant": "control", "visitors": 210, "signups": 17},
        ]
    )
    assert rows["baseline"] == "control"
    by_name = {r["variant"]: r for r in rows["rows"]}
    assert by_name["Outside any A/B test"]["beat_text"] == "—"
    assert by_name["control"]["beat_text"] == "—"
    assert by_name["bold"]["rate_text"] == "11.7%" and by_name["bold"]["beat_text"] == "89%"
    assert variant_rows([{"variant": "", "visitors": 10, "signups": 2}])["baseline"] is None
