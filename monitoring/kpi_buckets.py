"""The hour buckets of `monitoring.metrics` as the KPIs read them: each reduced once to the fields
a KPI reads.

A KPI reads few of a bucket's fields: the requests of the platform's own routes summed over
methods, routes and statuses, the totals of the query and health series, and the KPI counters.
A bucket holds every route's fields (thousands in an hour of a busy platform), and an evaluation
reads a week of hour buckets for the sparklines. So each bucket is reduced to those fields
first, under the same field names (the requests under the one label set `ALL`), and every
figure of metric fields computes the same number from a reduced bucket, or from a sum of them,
as from the whole bucket: the reduction only adds what the figure would have added anyway.

A settled bucket (one `metrics` keeps between reads, the same dict each time: see
`reuse_settled`) keeps its reduction next to it, so a refresh reduces only the buckets that can
still change, and the cost of an evaluation does not grow with the number of routes.
"""

import threading

from monitoring import metrics

# Requests that are not the platform's own work (static files): left out of the KPIs.
NOT_KPI_ROUTES = ("<static>",)
# The label set (method, route, status class) the reduced requests are kept under.
ALL = ("*", "*", "*")
REQUEST_SERIES = "r"

_REQUEST = REQUEST_SERIES + metrics.SEP
_ALL = metrics.SEP.join((REQUEST_SERIES, *ALL)) + metrics.SEP
# Kept as they are: the query and health series' totals, and the KPI counters.
_KEPT = ("q" + metrics.SEP + "all" + metrics.SEP, "h" + metrics.SEP + "all" + metrics.SEP, "k" + metrics.SEP)

# {hour: (the settled bucket, its reduction)}, oldest first.
_reduced: dict[int, tuple[dict[str, int], dict[str, int]]] = {}
_lock = threading.Lock()


def kpi_request(parts: list[str]) -> bool:
    """Whether a split request field (`r|method|route|status class|stat`) counts for the KPIs."""
    return len(parts) == 5 and parts[2] not in NOT_KPI_ROUTES


def reduce(fields: dict[str, int]) -> dict[str, int]:
    """The fields a KPI reads: the KPI requests' stats summed under `ALL`, the query and health
    totals and the KPI counters."""
    out: dict[str, int] = {}
    for name, n in fields.items():
        if name.startswith(_REQUEST):
            parts = metrics.split(name)
            if kpi_request(parts):
                key = _ALL + parts[4]
                out[key] = out.get(key, 0) + n
        elif name.startswith(_KEPT):
            out[name] = n
    return out


def hours(hour_ids: list[int], *, now: float) -> dict[int, dict[str, int]]:
    """The reduced live hour buckets, by hour (the dicts are shared: read them, never change
    them). Raises `CacheUnavailable` when the store is away."""
    out: dict[int, dict[str, int]] = {}
    for hour, fields in metrics.read_hours(hour_ids, reuse_settled=True, now=now):
        kept = _reduced.get(hour)
        if kept is not None and kept[0] is fields:
            out[hour] = kept[1]
            continue
        reduced = out[hour] = reduce(fields)
        if metrics.settled("h", hour, now=now):
            with _lock:
                _reduced.pop(hour, None)  # re-read: it moves to the end
                _reduced[hour] = (fields, reduced)
                while len(_reduced) > metrics.SETTLED_KEPT:
                    _reduced.pop(next(iter(_reduced)))
    return out
