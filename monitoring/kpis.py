"""The KPI reader API: counters, readers and their evaluation against the catalog's bars.

A minimal implementation of the shared contract (count, counter_total, counter_hourly, Reading,
reader, history, ratio, evaluate): counters are fields of the per-minute metrics
(`monitoring.metrics.record`), read back from its hour buckets.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from monitoring import metrics
from monitoring.kpi_catalog import CATALOG

PREFIX = "kpi" + metrics.SEP


@dataclass(frozen=True)
class Reading:
    value: float | None
    detail: dict[str, Any] = field(default_factory=dict)
    note: str = ""


ReadFn = Callable[[int], Reading]
HistoryFn = Callable[[int], list[float | None]]
_readers: dict[str, ReadFn] = {}
_histories: dict[str, HistoryFn] = {}


def count(name: str, n: int = 1) -> None:
    """Add `n` to the KPI counter `name` (no I/O: the metrics tally is flushed in the background)."""
    metrics.record({PREFIX + name: n})


def counter_hourly(name: str, *, hours: int) -> list[int]:
    """The counter per hour over the last `hours` hours, oldest first, the current one included."""
    current = int(time.time() // 3600)
    key = PREFIX + name
    return [fields.get(key, 0) for _, fields in metrics.read_hours(range(current - hours + 1, current + 1))]


def counter_total(name: str, *, hours: int) -> int:
    return sum(counter_hourly(name, hours=hours))


def reader(kpi_id: str) -> Callable[[ReadFn], ReadFn]:
    def register(fn: ReadFn) -> ReadFn:
        _readers[kpi_id] = fn
        return fn

    return register


def history(kpi_id: str) -> Callable[[HistoryFn], HistoryFn]:
    def register(fn: HistoryFn) -> HistoryFn:
        _histories[kpi_id] = fn
        return fn

    return register


def ratio(num: str, den: str) -> tuple[ReadFn, HistoryFn]:
    """A reader and a history for num ÷ den (None where den is 0)."""

    def read(hours: int) -> Reading:
        n, d = counter_total(num, hours=hours), counter_total(den, hours=hours)
        return Reading(round(n / d, 4) if d else None, {"numerator": n, "denominator": d, "counters": [num, den]})

    def hourly(hours: int) -> list[float | None]:
        nums, dens = counter_hourly(num, hours=hours), counter_hourly(den, hours=hours)
        return [round(a / b, 4) if b else None for a, b in zip(nums, dens, strict=True)]

    return read, hourly


def evaluate(*, hours: int = 24) -> list[dict[str, Any]]:
    out = []
    for spec in CATALOG:
        read = _readers.get(spec.id)
        reading = read(hours) if read is not None else Reading(None, note="not measured")
        hourly = _histories.get(spec.id)
        spark: list[float | None] = []
        if hourly is not None:
            points = hourly(7 * 24)
            for day in range(7):
                values = [v for v in points[day * 24 : (day + 1) * 24] if v is not None]
                spark.append(sum(values) / len(values) if values else None)
        out.append({
            "id": spec.id, "group": spec.group, "name": spec.name, "target": spec.target, "unit": spec.unit,
            "source": spec.source, "value": reading.value, "pass": spec.passes(reading.value),
            "detail": reading.detail, "note": reading.note, "spark": spark, "failing_since": None,
        })  # fmt: skip
    return out
