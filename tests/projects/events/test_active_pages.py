"""The set of pages the worker reads shrinks when a page goes quiet (issue 25, item 4), and a page
that has left it is read again from its next event on."""

import pytest
from django.core.management import call_command

from mvpvalidator.cache.backend import events_redis_client
from projects.events import buffer, ingest
from projects.models import DailyRollup, Event
from tests.projects.experiments.helpers import BROWSER

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


def redis_now_ms(client) -> int:
    seconds, micros = client.time()
    return seconds * 1000 + micros // 1000


def test_a_quiet_page_leaves_the_set_and_an_event_after_that_is_still_stored(client_factory, live_page):
    client = events_redis_client()
    stream, pages = buffer.stream_key(live_page.pk), buffer.active_pages_key()
    # The page's last event, sent and announced by another process longer ago than the quiet time
    # (an entry's id is its time in milliseconds, by Redis's clock).
    sent = redis_now_ms(client) - ingest.QUIET_MS - 1000
    old = buffer.TrackedEvent(id="q" * 32, page_id=live_page.pk, kind="view", visitor_hash="a" * 64, at=sent / 1000)
    client.xadd(stream, old.fields(), id=f"{sent}-0")
    client.sadd(pages, live_page.pk)

    assert ingest.forget_quiet_pages() == []  # its entry waits: the page stays
    call_command("flush_events")
    assert Event.objects.filter(page=live_page).count() == 1
    assert ingest.forget_quiet_pages() == [live_page.pk]  # empty, and quiet for long enough
    assert not client.sismember(pages, live_page.pk) and not client.exists(stream)

    # A visit now: this process announces the page with the event (its last announcement of the
    # page, if any, was as long ago as the page's last entry).
    client_factory(HTTP_USER_AGENT=BROWSER).get(f"/p/{live_page.slug}/")
    buffer.flush_outbox()
    assert client.sismember(pages, live_page.pk)
    call_command("flush_events")
    assert Event.objects.filter(page=live_page).count() == 2
    assert DailyRollup.objects.get(page=live_page).views == 2
    # Its stream is empty again, but its last entry is recent: it stays.
    assert client.xlen(stream) == 0
    assert ingest.forget_quiet_pages() == []
    assert client.sismember(pages, live_page.pk)
