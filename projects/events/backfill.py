"""The breakdowns (`BreakdownRollup`) rebuilt from the raw events still kept: once after the
upgrade that added them (migration 0020 created the table empty, so the days rolled up before
have no referrer, UTM or device rows), or whenever they are in doubt.

A day is rebuilt under the rollup lock of the page's shard (`projects.events.shards`), one (page,
day) per transaction: its rows are deleted and written again from its events already rolled up,
with the worker's own pure `breakdown_contributions`, so the result is what the worker would
have written had the breakdowns existed then. Events not rolled up yet are left to the worker,
which adds them to the rebuilt rows. Days whose raw events are gone (older than
EVENT_RETENTION_DAYS), or may be in part (the cutoff's own day), keep the rows they have.
"""

from collections.abc import Callable, Iterator
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from mvpvalidator import cache as app_cache
from projects.cache import analytics_ns
from projects.events import shards
from projects.events.rollup import DIMENSION_FIELDS, FIGURES, INTERACTIONS, breakdown_contributions
from projects.models import BreakdownRollup, Event

# What `breakdown_contributions` reads of an event.
_COLUMNS = ("id", "page_id", "day", "kind", "traffic", "visitor_hash", *DIMENSION_FIELDS.values())


def rebuildable_days(*, days: int | None = None) -> Iterator[tuple[int, date]]:
    """The (page, day) pairs with events rolled up whose raw events are all still kept, oldest
    first; with `days`, only the last `days` days (today included)."""
    today = timezone.now().date()
    first = (timezone.now() - timedelta(days=settings.EVENT_RETENTION_DAYS)).date() + timedelta(days=1)
    if days is not None:
        first = max(first, today - timedelta(days=days - 1))
    pairs = (
        Event.objects.filter(shards.rolled_up(), day__gte=first, kind__in=INTERACTIONS)
        .values_list("page_id", "day")
        .distinct()
        .order_by("day", "page_id")
    )
    yield from pairs.iterator()


def _rebuild_day(page_id: int, day: date) -> int:
    """One page's day: its rows deleted and written again from its events rolled up. Returns the rows written."""
    with transaction.atomic():
        shards.wait_for(shards.shard_of(page_id))
        events = list(
            Event.objects.filter(shards.rolled_up(), page_id=page_id, day=day, kind__in=INTERACTIONS)
            .order_by("shard", "seq")
            .only(*_COLUMNS)
        )
        BreakdownRollup.objects.filter(page_id=page_id, day=day).delete()
        rows = breakdown_contributions(events, {})
        BreakdownRollup.objects.bulk_create(
            [
                BreakdownRollup(page_id=p, day=d, dimension=dimension, value=value, traffic=traffic,
                                **{name: max(0, figures[name]) for name in FIGURES})
                for (p, d, dimension, value, traffic), figures in rows.items()
            ],
            batch_size=500,
        )  # fmt: skip
        transaction.on_commit(lambda: app_cache.bump(analytics_ns(page_id)))
    return len(rows)


def breakdowns_rebuild(*, days: int | None = None, report: Callable[[int, date, int], None] | None = None) -> int:
    """Rebuild the breakdowns of every (page, day) whose raw events are still kept (the last
    `days` days only, when given), a day at a time; `report(page_id, day, rows)` is called after
    each. Returns how many (page, day) were rebuilt."""
    if days is not None and days < 1:
        raise ValueError("days must be at least 1")
    rebuilt = 0
    for page_id, day in list(rebuildable_days(days=days)):
        rows = _rebuild_day(page_id, day)
        rebuilt += 1
        if report is not None:
            report(page_id, day, rows)
    return rebuilt
