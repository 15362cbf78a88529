"""Step 2 of the event worker: `Event` rows into the daily rollups, the breakdowns (by referrer,
UTM field and device class) and the experiments' exposures (step 1, `projects.events.ingest`, made the rows).

The rows are sharded by page (`projects.events.shards`). A pass takes each shard with rows
waiting whose lock is free (another worker holds the others), and in one transaction adds the
shard's next rows above its high-water mark, in sequence order, to the rollups and exposures, and
moves the mark past them: no row is written again. A page's rows are rolled up by its shard
alone, so unique visitors and bounces, which need a visitor's earlier events of the day, are read
exactly from the rows already rolled up.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from mvpvalidator import cache as app_cache
from projects.cache import analytics_ns
from projects.events import rollup_writes, shards
from projects.events.partitions import day_bounds
from projects.events.rollup_writes import BreakdownKey, RowKey
from projects.models import Dimension, Event, EventKind, Traffic
from projects.services.experiments import experiment_results_rolled_up
from projects.services.reports import test_cards_lock

# What a visit counts (the beacon only says the page's script ran).
INTERACTIONS = (EventKind.VIEW, EventKind.CTA_CLICK, EventKind.SIGNUP, EventKind.PREORDER)
COUNTED = {
    EventKind.VIEW: "views",
    EventKind.CTA_CLICK: "cta_clicks",
    EventKind.SIGNUP: "signups",
    EventKind.PREORDER: "preorders",
}
# The people who did something (a visitor's first event of the kind in the row's day), beside the event counts.
PEOPLE = {
    EventKind.CTA_CLICK: "clicked_visitors",
    EventKind.SIGNUP: "signed_up_visitors",
    EventKind.PREORDER: "preordered_visitors",
}
FIGURES = ("views", "visitors", "cta_clicks", "signups", "preorders", "bounces", *PEOPLE.values())

VisitKey = tuple[int, date, int | None, str, str, str, str]  # the row's key + visitor


@dataclass
class VisitorDay:
    """One visitor's events of one day in one rollup row, within a batch."""

    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    first_at: datetime | None = None


@dataclass
class Prior:
    events: int = 0
    views: int = 0
    kinds: frozenset[str] = frozenset()  # the kinds of PEOPLE the visitor already did


@dataclass
class Contribution:
    rows: dict[RowKey, dict[str, int]]
    exposures: dict[tuple[int, str], dict[str, Any]]


def _visits(events: Iterable[Any]) -> dict[VisitKey, VisitorDay]:
    visits: dict[VisitKey, VisitorDay] = defaultdict(VisitorDay)
    for e in events:
        key = (e.page_id, e.day, e.experiment_id, e.variant, e.channel, e.traffic, e.visitor_hash)
        visit = visits[key]
        visit.counts[e.kind] += 1
        if visit.first_at is None or e.occurred_at < visit.first_at:
            visit.first_at = e.occurred_at
    return visits


# Each dimension of `BreakdownRollup` and the `Event` field its value comes from.
DIMENSION_FIELDS: dict[str, str] = {
    Dimension.REFERRER: "referrer_host",
    Dimension.UTM_SOURCE: "utm_source",
    Dimension.UTM_MEDIUM: "utm_medium",
    Dimension.UTM_CAMPAIGN: "utm_campaign",
    Dimension.UTM_CONTENT: "utm_content",
    Dimension.UTM_TERM: "utm_term",
    Dimension.DEVICE: "device",
}
# The dimensions, in the order `_dimension_values` gives an event's values.
DIMENSIONS: tuple[str, ...] = tuple(str(d) for d in DIMENSION_FIELDS)
_DIMENSION_FIELDS: tuple[str, ...] = tuple(DIMENSION_FIELDS.values())

# The columns of a visitor's earlier events the two kinds of prior need, in this order.
_PRIOR_COLUMNS = ("page_id", "day", "experiment_id", "variant", "channel", "traffic", "visitor_hash", "kind")


def _prior_rows(events: list[Any]) -> list[tuple[Any, ...]]:
    """The events already rolled up of the batch's visitors on the batch's days, in rollup order
    (one query: both the daily rollups' and the breakdowns' priors are read from it)."""
    if not events:
        return []
    days = {e.day for e in events}
    return list(
        Event.objects.filter(
            shards.rolled_up(),
            page_id__in={e.page_id for e in events},
            day__in=days,
            # `day` is the UTC date of `occurred_at`: the same days as instants let PostgreSQL read
            # only those days' partitions (projects.events.partitions), not every day kept.
            occurred_at__gte=day_bounds(min(days))[0],
            occurred_at__lt=day_bounds(max(days))[1],
            visitor_hash__in={e.visitor_hash for e in events},
            kind__in=INTERACTIONS,
        )
        .order_by("shard", "seq")
        .values_list(*_PRIOR_COLUMNS, *_DIMENSION_FIELDS)
    )


def _priors(rows: list[tuple[Any, ...]]) -> dict[VisitKey, Prior]:
    """Each visit's (row key + visitor) events already rolled up."""
    counts: dict[VisitKey, list[Any]] = defaultdict(lambda: [0, 0, set()])
    for r in rows:
        tally = counts[r[:7]]
        tally[0] += 1
        tally[1] += r[7] == EventKind.VIEW
        if r[7] in PEOPLE:
            tally[2].add(r[7])
    return {key: Prior(n, views, frozenset(kinds)) for key, (n, views, kinds) in counts.items()}


def contributions(events: list[Any], priors: dict[VisitKey, Prior]) -> Contribution:
    """What `events` add to the rollups and the exposures, given each visitor's events of the day
    already counted (`priors`). Pure: the worker writes it, analytics adds it to live figures."""
    rows: dict[RowKey, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    for key, visit in _visits(events).items():
        row = rows[key[:6]]
        prior = priors.get(key, Prior())
        interactions = sum(visit.counts.get(kind, 0) for kind in INTERACTIONS)
        views = visit.counts.get(EventKind.VIEW, 0)
        for kind, name in COUNTED.items():
            row[name] += visit.counts.get(kind, 0)
        for kind, name in PEOPLE.items():
            row[name] += int(bool(visit.counts.get(kind)) and kind not in prior.kinds)
        if interactions and not prior.events:
            row["visitors"] += 1
        was_bounce = prior.events == 1 and prior.views == 1
        is_bounce = prior.events + interactions == 1 and prior.views + views == 1
        row["bounces"] += int(is_bounce) - int(was_bounce)
    exposures: dict[tuple[int, str], dict[str, Any]] = {}
    for e in events:
        if e.experiment_id is None or not e.variant or e.traffic != Traffic.HUMAN:
            continue
        seen = exposures.setdefault(
            (e.experiment_id, e.visitor_hash),
            {"variant": e.variant, "first_seen": e.occurred_at, "confirmed": False, "clicked": False,
             "signed_up": False, "preordered": False},
        )  # fmt: skip
        if e.occurred_at < seen["first_seen"]:
            seen["first_seen"], seen["variant"] = e.occurred_at, e.variant
        if e.kind != EventKind.VIEW:
            seen["confirmed"] = True  # ran the script (beacon) or interacted
        seen["clicked"] |= e.kind == EventKind.CTA_CLICK
        seen["signed_up"] |= e.kind == EventKind.SIGNUP
        seen["preordered"] |= e.kind == EventKind.PREORDER
    return Contribution(rows=dict(rows), exposures=exposures)


# --- Breakdowns: the figures by referrer, UTM field and device class --------------------------

DayKey = tuple[int, date, str, str]  # page, day, traffic, visitor


def _dimension_values(e: Any) -> tuple[str, ...]:
    return tuple(getattr(e, name) or "" for name in _DIMENSION_FIELDS)


@dataclass
class DayPrior:
    """A visitor's events of one day on one page already rolled up, and the values they are
    attributed to (those of their first event of the day, in rollup order)."""

    events: int = 0
    views: int = 0
    kinds: frozenset[str] = frozenset()
    values: tuple[str, ...] | None = None


def _attribution(events: list[Any]) -> tuple[str, ...]:
    """The values of a visitor's day: those of its first event in rollup (id) order, whatever its
    kind. One rule for every batch split: a later batch never moves a visitor (see `_day_priors`)."""
    return _dimension_values(events[0])


def _day_priors(rows: list[tuple[Any, ...]]) -> dict[DayKey, DayPrior]:
    """Each visitor's day (page, day, traffic, visitor) already rolled up, and its values: those
    of its first event (rows come in rollup order), which later events never change."""
    out: dict[DayKey, DayPrior] = {}
    n = len(_PRIOR_COLUMNS)
    for r in rows:
        key = (r[0], r[1], r[5], r[6])
        prior = out.get(key)
        if prior is None:
            prior = out[key] = DayPrior(values=tuple(v or "" for v in r[n:]))
        prior.events += 1
        if r[7] == EventKind.VIEW:
            prior.views += 1
        elif r[7] in PEOPLE and r[7] not in prior.kinds:
            prior.kinds = prior.kinds | {r[7]}
    return out


def breakdown_contributions(events: list[Any], priors: dict[DayKey, DayPrior]) -> dict[BreakdownKey, dict[str, int]]:
    """What `events` add to the breakdown rows, given each visitor's day already rolled up
    (`priors`). The figures of `contributions`, with a visitor counted once a day on a page, in
    the values of their first event of the day (in rollup order, whatever its kind); all their
    events of the day go to the same values, however the day's events were split into batches.
    `events` come in rollup (id) order. Pure, like `contributions`."""
    days: dict[DayKey, list[Any]] = defaultdict(list)
    for e in events:
        if e.kind in INTERACTIONS:
            days[(e.page_id, e.day, e.traffic, e.visitor_hash)].append(e)
    # First summed per whole set of values (visitors mostly share them), then spread per dimension.
    width = len(FIGURES)
    index = {name: i for i, name in enumerate(FIGURES)}
    counted = [(kind, index[name]) for kind, name in COUNTED.items()]
    people = [(kind, index[name]) for kind, name in PEOPLE.items()]
    visitors_at, bounces_at = index["visitors"], index["bounces"]
    by_values: dict[tuple[int, date, str, tuple[str, ...]], list[int]] = {}
    for key, mine in days.items():
        page_id, day, traffic, _visitor = key
        prior = priors.get(key)
        values = prior.values if prior is not None and prior.values is not None else _attribution(mine)
        total = by_values.setdefault((page_id, day, traffic, values), [0] * width)
        kinds: dict[str, int] = defaultdict(int)
        for e in mine:
            kinds[e.kind] += 1
        for kind, i in counted:
            total[i] += kinds.get(kind, 0)
        done = prior.kinds if prior is not None else frozenset()
        for kind, i in people:
            total[i] += int(bool(kinds.get(kind)) and kind not in done)
        events_before, views_before = (prior.events, prior.views) if prior is not None else (0, 0)
        total[visitors_at] += int(not events_before)
        was_bounce = events_before == 1 and views_before == 1
        is_bounce = events_before + len(mine) == 1 and views_before + kinds.get(EventKind.VIEW, 0) == 1
        total[bounces_at] += int(is_bounce) - int(was_bounce)
    rows: dict[BreakdownKey, list[int]] = {}
    for (page_id, day, traffic, values), total in by_values.items():
        for dimension, value in zip(DIMENSIONS, values, strict=True):
            row = rows.setdefault((page_id, day, dimension, value[:255], traffic), [0] * width)
            for i in range(width):
                row[i] += total[i]
    return {key: dict(zip(FIGURES, row, strict=True)) for key, row in rows.items()}


def pending(events: list[Any], *, breakdowns: bool) -> tuple[Contribution, dict[BreakdownKey, dict[str, int]]]:
    """What events not rolled up yet will add to the rollups and, when asked, the breakdowns
    (analytics' live part), as `rollup` computes it: one read of the visitors' earlier events."""
    prior = _prior_rows(events)
    rows = breakdown_contributions(events, _day_priors(prior)) if breakdowns else {}
    return contributions(events, _priors(prior)), rows


def rollup(*, batch: int | None = None) -> int:
    """One pass: up to `batch` rows of every shard with rows waiting whose lock is free, each
    shard in a transaction of its own. Returns how many rows (0 when nothing waits or other
    workers hold the shards that have some)."""
    batch = batch or settings.EVENT_FLUSH_BATCH
    return sum(_rollup_shard(shard, committed, batch) for shard, committed in shards.with_work())


def _rollup_shard(shard: int, committed: int, batch: int) -> int:
    """The shard's next rows above its mark, rolled up, and the mark moved past them.
    `committed`: the last number of the shard's sequence committed before this transaction began
    (every row numbered up to it is visible here), so a pass that reads fewer than `batch` rows
    moves the mark over the numbers of rows never stored (a duplicate skipped by its key)."""
    with transaction.atomic():
        state = shards.lock(shard)
        if state is None:
            return 0
        events = list(Event.objects.filter(shard=shard, seq__gt=state.rolled_up_to).order_by("seq")[:batch])
        mark = events[-1].seq if events else state.rolled_up_to
        if len(events) < batch:
            mark = max(mark, committed)
        if not events:
            if mark > state.rolled_up_to:
                state.rolled_up_to = mark
                state.save(update_fields=["rolled_up_to"])
            return 0
        # Rows stored before EVENT_SHARDS changed: their pages' new shard is held too, or the
        # batch waits for a pass that can take it.
        moved = {shards.shard_of(e.page_id) for e in events} - {shard}
        if moved and not shards.lock_also(moved):
            return 0
        prior = _prior_rows(events)
        adds = contributions(events, _priors(prior))
        rollup_writes.add_daily(adds.rows, FIGURES)
        rollup_writes.add_exposures(adds.exposures)
        rollup_writes.add_breakdowns(breakdown_contributions(events, _day_priors(prior)), FIGURES)
        test_cards_lock(events=events)
        state.rolled_up_to = mark
        state.last_rollup_at = timezone.now()
        state.events_rolled_up += len(events)
        state.save(update_fields=["rolled_up_to", "last_rollup_at", "events_rolled_up"])
        touched = {e.experiment_id for e in events if e.experiment_id}
        pages = {e.page_id for e in events}
        transaction.on_commit(lambda: _invalidate(touched, pages))
    return len(events)


def _invalidate(experiments: set[int], pages: set[int]) -> None:
    # An experiment's results only when the rollup changed what they are computed from (the
    # founder's previews, a beacon of someone already counted change none of it); the pages'
    # analytics after every rollup of their events.
    experiment_results_rolled_up(experiment_ids=experiments)
    app_cache.bump(*(analytics_ns(p) for p in pages))
