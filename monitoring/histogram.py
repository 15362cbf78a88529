"""Latency histograms with fixed bucket bounds, and percentiles estimated from them.

Pure arithmetic (no Django). Fixed bounds let every process add its counts into the same
Redis hash fields, and any window is the sum of its buckets. A percentile is interpolated
linearly inside the bucket that holds it, so its error is bounded by that bucket's width
(about 20-33% of the value in the ranges that matter).
"""

from bisect import bisect_left
from collections.abc import Sequence

# Upper bounds in milliseconds; the last bucket holds everything above the largest bound.
BOUNDS_MS: tuple[float, ...] = (
    0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120, 150, 200,
    250, 300, 400, 500, 600, 800, 1000, 1500, 2000, 3000, 5000, 10000, 30000,
)  # fmt: skip
SIZE = len(BOUNDS_MS) + 1


def bucket_of(ms: float) -> int:
    """Index of the bucket a duration falls in (bounds are inclusive upper limits)."""
    return bisect_left(BOUNDS_MS, ms)


def empty() -> list[int]:
    return [0] * SIZE


def add(into: list[int], other: Sequence[int]) -> list[int]:
    for i, n in enumerate(other[:SIZE]):
        into[i] += int(n)
    return into


def bucket_range(index: int) -> tuple[float, float]:
    lower = BOUNDS_MS[index - 1] if index > 0 else 0.0
    upper = BOUNDS_MS[index] if index < len(BOUNDS_MS) else BOUNDS_MS[-1]
    return lower, upper


def percentile(counts: Sequence[int], q: float) -> float | None:
    """The q-quantile (0 < q <= 1) of the durations counted, in ms; None when empty."""
    total = sum(counts)
    if total == 0:
        return None
    rank = q * total
    running = 0
    for index, n in enumerate(counts):
        if n == 0:
            continue
        if running + n >= rank:
            lower, upper = bucket_range(index)
            if upper <= lower:  # the open-ended last bucket: report its lower edge
                return lower
            share = (rank - running) / n
            return round(lower + (upper - lower) * share, 3)
        running += n
    return bucket_range(len(counts) - 1)[1]


def summary(counts: Sequence[int]) -> dict[str, float | None]:
    return {"p50": percentile(counts, 0.50), "p95": percentile(counts, 0.95), "p99": percentile(counts, 0.99)}
