"""Percentiles from fixed-bucket histograms, checked against exact percentiles of known timings."""

import math
import random

import pytest

from monitoring import histogram


def exact_percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def counts_of(values: list[float]) -> list[int]:
    counts = histogram.empty()
    for v in values:
        counts[histogram.bucket_of(v)] += 1
    return counts


def test_bucket_bounds_are_inclusive_upper_limits():
    assert histogram.bucket_of(0.1) == 0
    assert histogram.bucket_of(0.5) == 0
    assert histogram.bucket_of(0.51) == 1
    assert histogram.bucket_of(200) == histogram.BOUNDS_MS.index(200)
    assert histogram.bucket_of(10**6) == histogram.SIZE - 1


def test_empty_histogram_has_no_percentile():
    assert histogram.percentile(histogram.empty(), 0.95) is None
    assert histogram.summary(histogram.empty()) == {"p50": None, "p95": None, "p99": None}


def test_known_uniform_timings():
    values = [float(ms) for ms in range(1, 101)]  # 1..100 ms
    counts = counts_of(values)
    # Exact: p50 = 50, p95 = 95, p99 = 99. Each estimate lies in the bucket of the exact value.
    for q, exact in ((0.5, 50), (0.95, 95), (0.99, 99)):
        lower, upper = histogram.bucket_range(histogram.bucket_of(exact))
        estimate = histogram.percentile(counts, q)
        assert lower <= estimate <= upper, (q, estimate, lower, upper)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_lognormal_timings_within_one_bucket(seed):
    rng = random.Random(seed)
    values = [rng.lognormvariate(math.log(40), 0.8) for _ in range(5000)]
    counts = counts_of(values)
    for q in (0.5, 0.95, 0.99):
        exact = exact_percentile(values, q)
        lower, upper = histogram.bucket_range(histogram.bucket_of(exact))
        estimate = histogram.percentile(counts, q)
        assert lower <= estimate <= upper, (q, exact, estimate)
        # and within the bucket's relative width of the exact value
        assert abs(estimate - exact) <= (upper - lower)


def test_a_single_slow_outlier_moves_p99_not_p50():
    values = [5.0] * 99 + [2500.0]
    counts = counts_of(values)
    assert histogram.percentile(counts, 0.5) <= 5
    assert histogram.percentile(counts, 1.0) > 2000


def test_open_ended_bucket_reports_its_lower_edge():
    counts = histogram.empty()
    counts[-1] = 3
    assert histogram.percentile(counts, 0.5) == histogram.BOUNDS_MS[-1]
