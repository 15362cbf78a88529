"""`python -m bench` judges each workload by its ratio and by the production guide's KPIs."""

import pytest

from bench.__main__ import table
from bench.harness import Verdict, WrkResult, error_rate


def run(*, requests=1000, errors=0, p95_ms=10.0) -> WrkResult:
    return WrkResult(requests_per_second=100, p50_ms=5, p95_ms=p95_ms, p99_ms=20, errors=errors, requests=requests)


@pytest.mark.parametrize(
    ("ratio", "op", "target", "met"),
    [(0.5, ">=", 0.5, True), (0.49, ">=", 0.5, False), (1.5, "<=", 1.5, True), (1.51, "<=", 1.5, False)],
)
def test_the_ratio_is_held_to_its_target_in_its_direction(ratio, op, target, met):
    assert Verdict("w", "ref", ratio, op, target).met is met


@pytest.mark.parametrize(
    ("p95_ms", "errors", "met"), [(199.9, 0.009, True), (200.0, 0.0, False), (10.0, 0.01, False), (None, None, True)]
)
def test_a_met_ratio_still_fails_on_the_latency_or_error_kpi(p95_ms, errors, met):
    assert Verdict("w", "ref", 3.0, ">=", 1.0, p95_ms=p95_ms, error_rate=errors).met is met


def test_error_rate_counts_failed_requests_over_all_attempted():
    assert error_rate([run(requests=990, errors=10), run(requests=1000)]) == pytest.approx(10 / 1990)
    assert error_rate([run(requests=0, errors=5)]) == 1.0  # nothing answered at all


def test_the_table_says_which_verdict_is_not_met():
    rows = table([Verdict("fast", "ref", 2.0, ">=", 1.0, p95_ms=5.0), Verdict("slow", "ref", 0.4, ">=", 0.7)])
    assert "| fast | ref | 2.00 | >= 1.0 | 5.0 | - | met |" in rows
    assert "| slow | ref | 0.40 | >= 0.7 | - | - | **not met** |" in rows
