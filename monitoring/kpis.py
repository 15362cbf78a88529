"""The KPI reader API: counters, readers and their history, and the evaluation of every KPI of
`monitoring.kpi_catalog`.

Counters are tallied with the other metrics (`monitoring.metrics.record`, flushed each second)
under the `kpi` series; a reader turns them (or any other data) into a `Reading`.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from monitoring import metrics
from monitoring.kpi_catalog import BY_ID, CATALOG

Read = Callable[[int], "Reading"]
Hourly = Callable[[int], list[float | None]]

_readers: dict[str, Read] = {}
_histories: dict[str, Hourly] = {}


@dataclass(frozen=True)
class Reading:
    value: float | None
    detail: dict[str, Any] = field(default_factory=dict)
    note: str = ""


def _field(name: str) -> str:
    return metrics.field("kpi", name)


def count(name: str, n: int = 1) -> None:
    """Count `n` under the KPI counter `name` (no I/O)."""
    metrics.record({_field(name): n})


def _hour_ids(hours: int, now: float | None = None) -> range:
    current = int((now if now is not None else time.time()) // 3600)
    return range(current - hours + 1, current + 1)


def counter_hourly(name: str, *, hours: int) -> list[int]:
    """The counter per hour over the last `hours` hours, oldest first (current hour included)."""
    key = _field(name)
    return [fields.get(key, 0) for _, fields in metrics.read_hours(_hour_ids(hours))]


def counter_total(name: str, *, hours: int) -> int:
    return sum(counter_hourly(name, hours=hours))


def reader(kpi_id: str) -> Callable[[Read], Read]:
    def register(fn: Read) -> Read:
        if kpi_id not in BY_ID:
            raise KeyError(f"no KPI {kpi_id!r} in the catalog")
        _readers[kpi_id] = fn
        return fn

    return register


def history(kpi_id: str) -> Callable[[Hourly], Hourly]:
    def register(fn: Hourly) -> Hourly:
        if kpi_id not in BY_ID:
            raise KeyError(f"no KPI {kpi_id!r} in the catalog")
        _histories[kpi_id] = fn
        return fn

    return register


def ratio(num: str, den: str) -> tuple[Read, Hourly]:
    """(read, hourly) for the ratio of two counters; no denominator is no figure."""

    def read(hours: int) -> Reading:
        n, d = counter_total(num, hours=hours), counter_total(den, hours=hours)
        return Reading(n / d if d else None, {num: n, den: d})

    def hourly(hours: int) -> list[float | None]:
        pairs = zip(counter_hourly(num, hours=hours), counter_hourly(den, hours=hours), strict=True)
        return [n / d if d else None for n, d in pairs]

    return read, hourly


def _spark(kpi_id: str) -> list[float | None]:
    hourly = _histories.get(kpi_id)
    if hourly is None:
        return [None] * 7
    values = hourly(7 * 24)
    days: list[float | None] = []
    for day in range(7):
        known = [v for v in values[day * 24 : (day + 1) * 24] if v is not None]
        days.append(sum(known) / len(known) if known else None)
    return days


def evaluate(*, hours: int = 24) -> list[dict[str, Any]]:
    """Every KPI of the catalog, in its order, with its reading and its pass/fail."""
    rows = []
    for spec in CATALOG:
        read = _readers.get(spec.id)
        reading = read(hours) if read is not None else Reading(None, note="no reader")
        rows.append(
            {
                "id": spec.id,
                "group": spec.group,
                "name": spec.name,
                "target": spec.target,
                "unit": spec.unit,
                "source": spec.source,
                "value": reading.value,
                "pass": spec.passes(reading.value),
                "detail": reading.detail,
                "note": reading.note,
                "spark": _spark(spec.id),
                "failing_since": None,
            }
        )
    return rows
