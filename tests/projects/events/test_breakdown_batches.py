"""Breakdown attribution does not depend on how the worker split a day's events into batches: a
visitor's day belongs to the values of its first event in rollup order, whatever its kind, and
a later batch never moves it (review of issue 24, item 1)."""

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from projects.events import worker
from projects.events.rollup import rollup
from projects.models import BreakdownRollup, Event, EventKind, Traffic
from tests.projects.events.helpers import store_event

pytestmark = pytest.mark.django_db

_keys = count(1)
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def event(page, visitor: str, kind: str, minute: int, **values: str) -> Event:
    at = START + timedelta(minutes=minute)
    return store_event(
        key=f"batch-{next(_keys):06d}", page=page, kind=kind, visitor_hash=visitor, occurred_at=at, day=at.date(),
        traffic=Traffic.HUMAN, **values,
    )  # fmt: skip


def rows(dimension: str = "utm_source") -> dict[str, tuple[int, ...]]:
    """value → (views, visitors, bounces, clicks, clicked people, signups, signed-up people)."""
    return {
        r.value: (r.views, r.visitors, r.bounces, r.cta_clicks, r.clicked_visitors, r.signups, r.signed_up_visitors)
        for r in BreakdownRollup.objects.filter(dimension=dimension, traffic=Traffic.HUMAN)
    }


def all_rows() -> dict[tuple[str, str], tuple[int, ...]]:
    return {
        (r.dimension, r.value): (
            r.views, r.visitors, r.bounces, r.cta_clicks, r.clicked_visitors, r.signups, r.signed_up_visitors,
            r.preorders, r.preordered_visitors,
        )
        for r in BreakdownRollup.objects.filter(traffic=Traffic.HUMAN)
    }  # fmt: skip


def roll_all(batch: int) -> None:
    while rollup(batch=batch):
        pass


def test_a_click_before_the_view_keeps_the_visitor_and_their_signup_in_its_values(live_page):
    """The review's repro: one batch per event gave {'early': view, visitor, click; 'later': signup}."""
    event(live_page, "v" * 64, EventKind.CTA_CLICK, 0, utm_source="early")
    rollup()
    event(live_page, "v" * 64, EventKind.VIEW, 1, utm_source="later")
    rollup()
    event(live_page, "v" * 64, EventKind.SIGNUP, 2)
    rollup()
    assert rows() == {"early": (1, 1, 0, 1, 1, 1, 1)}


def traffic(page) -> None:
    """Four visitors of one day, their events interleaved in the order the worker reads them:
    - a visitor who clicks (tagged early) before their view (tagged later), then signs up;
    - a visitor who views from a newsletter, views again with another tag, and clicks;
    - a visitor whose only event is a view from a search engine (a bounce);
    - a visitor who signs up first (no tags), then views with a tag and pre-orders."""
    a, b, c, d = "a" * 64, "b" * 64, "c" * 64, "d" * 64
    event(page, a, EventKind.CTA_CLICK, 0, utm_source="early", device="phone")
    event(page, b, EventKind.VIEW, 1, utm_source="news", utm_medium="email", device="desktop")
    event(page, a, EventKind.VIEW, 2, utm_source="later", referrer_host="x.com", device="phone")
    event(page, d, EventKind.SIGNUP, 3, device="tablet")
    event(page, c, EventKind.VIEW, 4, referrer_host="www.google.com", device="desktop")
    event(page, b, EventKind.VIEW, 5, utm_source="ads", utm_medium="cpc", device="desktop")
    event(page, a, EventKind.SIGNUP, 6, device="phone")
    event(page, d, EventKind.VIEW, 7, utm_source="meta", device="tablet")
    event(page, b, EventKind.CTA_CLICK, 8, device="desktop")
    event(page, d, EventKind.PREORDER, 9, device="tablet")


def test_the_values_are_those_of_each_visitors_first_event(live_page):
    traffic(live_page)
    roll_all(1000)
    assert rows() == {
        "early": (1, 1, 0, 1, 1, 1, 1),
        "news": (2, 1, 0, 1, 1, 0, 0),
        "": (2, 2, 1, 0, 0, 1, 1),  # the bounce, and the visitor who signed up before their tagged view
    }
    assert rows("referrer") == {"": (4, 3, 0, 2, 2, 2, 2), "www.google.com": (1, 1, 1, 0, 0, 0, 0)}


@pytest.mark.parametrize("batch", [1000, 5, 3, 2, 1], ids=lambda n: f"batch-{n}")
def test_every_batch_split_gives_the_same_breakdown_rows(live_page, batch):
    """One batch, two batches (5 of 10 events), three and four batches, one event per batch."""
    traffic(live_page)
    roll_all(batch)
    assert worker.backlog().unrolled == 0
    assert all_rows() == {
        ("utm_source", "early"): (1, 1, 0, 1, 1, 1, 1, 0, 0),
        ("utm_source", "news"): (2, 1, 0, 1, 1, 0, 0, 0, 0),
        ("utm_source", ""): (2, 2, 1, 0, 0, 1, 1, 1, 1),
        ("utm_medium", "email"): (2, 1, 0, 1, 1, 0, 0, 0, 0),
        ("utm_medium", ""): (3, 3, 1, 1, 1, 2, 2, 1, 1),
        ("utm_campaign", ""): (5, 4, 1, 2, 2, 2, 2, 1, 1),
        ("utm_content", ""): (5, 4, 1, 2, 2, 2, 2, 1, 1),
        ("utm_term", ""): (5, 4, 1, 2, 2, 2, 2, 1, 1),
        ("referrer", ""): (4, 3, 0, 2, 2, 2, 2, 1, 1),
        ("referrer", "www.google.com"): (1, 1, 1, 0, 0, 0, 0, 0, 0),
        ("device", "phone"): (1, 1, 0, 1, 1, 1, 1, 0, 0),
        ("device", "desktop"): (3, 2, 1, 1, 1, 0, 0, 0, 0),
        ("device", "tablet"): (1, 1, 0, 0, 0, 1, 1, 1, 1),
    }
