"""Step 2 of the event worker: `Event` rows into the daily rollups and the experiments'
exposures (step 1, `projects.events.ingest`, made the rows).

One worker at a time, holding the row lock of `EventWorkerState` (others skip the step), takes
the oldest rows not rolled up, adds them to the rollups and exposures, and marks them rolled up,
in one transaction. Unique visitors and bounces need a visitor's earlier events of the day: they
are read from the rows already rolled up, which one rollup at a time keeps exact.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from mvpvalidator import cache as app_cache
from projects.cache import analytics_ns, experiment_ns
from projects.models import (
    DailyRollup,
    Event,
    EventKind,
    EventWorkerState,
    ExperimentExposure,
    Traffic,
    Variant,
)
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

RowKey = tuple[int, date, int | None, str, str, str]  # page, day, experiment, variant, channel, traffic
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


def _priors(visits: dict[VisitKey, VisitorDay], *, exclude_keys: Iterable[str] = ()) -> dict[VisitKey, Prior]:
    """The events already rolled up of the batch's visitors on the batch's days (one query)."""
    if not visits:
        return {}
    pages = {k[0] for k in visits}
    days = {k[1] for k in visits}
    visitors = {k[6] for k in visits}
    qs = Event.objects.filter(
        rolled_up=True, page_id__in=pages, day__in=days, visitor_hash__in=visitors, kind__in=INTERACTIONS
    )
    excluded = list(exclude_keys)
    if excluded:
        qs = qs.exclude(key__in=excluded)
    rows = qs.values("page_id", "day", "experiment_id", "variant", "channel", "traffic", "visitor_hash").annotate(
        n=Count("id"),
        views=Count("id", filter=Q(kind=EventKind.VIEW)),
        **{name: Count("id", filter=Q(kind=kind)) for kind, name in PEOPLE.items()},
    )
    fields = ("page_id", "day", "experiment_id", "variant", "channel", "traffic", "visitor_hash")
    return {
        tuple(r[f] for f in fields): Prior(r["n"], r["views"], frozenset(k for k, name in PEOPLE.items() if r[name]))
        for r in rows
    }


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


def pending_contribution(events: list[Any]) -> Contribution:
    """What events not rolled up yet will add (analytics' live part): as `rollup` computes it."""
    return contributions(events, _priors(_visits(events)))


def _apply(contribution: Contribution) -> None:
    rows = contribution.rows
    if rows:
        existing: dict[RowKey, DailyRollup] = {}
        for r in DailyRollup.objects.filter(page_id__in={k[0] for k in rows}, day__in={k[1] for k in rows}):
            existing[(r.page_id, r.day, r.experiment_id, r.variant, r.channel, r.traffic)] = r
        changed: list[DailyRollup] = []
        created: list[DailyRollup] = []
        for key, adds in rows.items():
            row = existing.get(key)
            if row is None:
                page_id, day, experiment_id, variant, channel, traffic = key
                created.append(
                    DailyRollup(
                        page_id=page_id, day=day, experiment_id=experiment_id, variant=variant,
                        channel=channel, traffic=traffic, **adds,
                    )
                )  # fmt: skip
            else:
                for name, n in adds.items():
                    setattr(row, name, getattr(row, name) + n)
                changed.append(row)
        DailyRollup.objects.bulk_create(created)
        DailyRollup.objects.bulk_update(changed, list(FIGURES), batch_size=500)
    exposures = contribution.exposures
    if exposures:
        known = {
            (x.experiment_id, x.visitor_hash): x
            for x in ExperimentExposure.objects.filter(
                experiment_id__in={k[0] for k in exposures}, visitor_hash__in={k[1] for k in exposures}
            )
        }
        changed_x: list[ExperimentExposure] = []
        created_x: list[ExperimentExposure] = []
        # What the exposures add to their variant's people and converted counts (see Variant).
        counts: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
        for (experiment_id, visitor), seen in exposures.items():
            x = known.get((experiment_id, visitor))
            if x is None:
                x = ExperimentExposure(experiment_id=experiment_id, visitor_hash=visitor, **seen)
                created_x.append(x)
                before = (False, False)
            else:
                flags = ("confirmed", "clicked", "signed_up", "preordered")
                if not any(seen[f] and not getattr(x, f) for f in flags):
                    continue
                before = (x.confirmed, x.confirmed and x.signed_up)
                for f in flags:
                    setattr(x, f, getattr(x, f) or seen[f])
                changed_x.append(x)
            after = (x.confirmed, x.confirmed and x.signed_up)
            tally = counts[(experiment_id, x.variant)]
            tally[0] += int(after[0]) - int(before[0])
            tally[1] += int(after[1]) - int(before[1])
        ExperimentExposure.objects.bulk_create(created_x, batch_size=1000)
        ExperimentExposure.objects.bulk_update(
            changed_x, ["confirmed", "clicked", "signed_up", "preordered"], batch_size=500
        )
        for (experiment_id, variant_key), (people, converted) in counts.items():
            if people or converted:
                Variant.objects.filter(experiment_id=experiment_id, key=variant_key).update(
                    people=F("people") + people, converted=F("converted") + converted
                )


def _lock_state() -> EventWorkerState | None:
    """The rollup lock: the state row, locked for this transaction; None if another worker holds it."""
    EventWorkerState.objects.get_or_create(pk=1)
    if connection.features.has_select_for_update_skip_locked:
        return EventWorkerState.objects.select_for_update(skip_locked=True).filter(pk=1).first()
    # SQLite has no row locks: a write takes the database's write lock until the commit, so the
    # rollups of two processes run one after the other (the second waits, then sees the first's).
    EventWorkerState.objects.filter(pk=1).update(last_rollup_at=timezone.now())
    return EventWorkerState.objects.get(pk=1)


def rollup(*, batch: int | None = None) -> int:
    """Roll up to `batch` of the oldest rows not rolled up yet. Returns how many (0 when another
    worker holds the lock or nothing is waiting)."""
    batch = batch or settings.EVENT_FLUSH_BATCH
    with transaction.atomic():
        state = _lock_state()
        if state is None:
            return 0
        events = list(Event.objects.filter(rolled_up=False).order_by("id")[:batch])
        if not events:
            return 0
        visits = _visits(events)
        _apply(contributions(events, _priors(visits)))
        Event.objects.filter(pk__in=[e.pk for e in events]).update(rolled_up=True)
        test_cards_lock(events=events)
        state.last_rollup_at = timezone.now()
        state.events_rolled_up += len(events)
        state.save(update_fields=["last_rollup_at", "events_rolled_up"])
        touched = {e.experiment_id for e in events if e.experiment_id}
        pages = {e.page_id for e in events}
        transaction.on_commit(lambda: _invalidate(touched, pages))
    return len(events)


def _invalidate(experiments: set[int], pages: set[int]) -> None:
    app_cache.bump(*(experiment_ns(e) for e in experiments), *(analytics_ns(p) for p in pages))
