"""Security events per hour, as the dashboard's charts and KPIs read them: an hour's counts are
read once it has settled and kept by the process, the hours still open are read every time, and
a deletion of events is seen at once."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from security import selectors
from security.models import EventKind, SecurityEvent
from security.services import security_data_clear

pytestmark = pytest.mark.django_db

# Ten past an hour (in the past: a deletion reaches every event made here): the hours before are
# settled (past their end by HOUR_SETTLES_AFTER), the current one is open.
NOW = datetime.now(UTC).replace(minute=10, second=0, microsecond=0) - timedelta(hours=1)
SINCE = NOW - timedelta(hours=24)


def _event(at: datetime, kind: str = EventKind.SCANNER_PATH) -> None:
    SecurityEvent.objects.create(kind=kind, created_at=at)


def _counts(hours_ago: int) -> dict[str, int]:
    return selectors.events_by_hour(since=SINCE, now=NOW)[(NOW - timedelta(hours=hours_ago)).replace(minute=0)]


def test_every_hour_is_there_with_its_counts_by_kind():
    _event(NOW - timedelta(hours=2))
    _event(NOW - timedelta(hours=2), EventKind.LOGIN_FAILED)
    _event(NOW - timedelta(minutes=1))
    hours = selectors.events_by_hour(since=SINCE, now=NOW)
    assert len(hours) == 25 and min(hours) == SINCE.replace(minute=0) and max(hours) == NOW.replace(minute=0)
    assert hours[(NOW - timedelta(hours=2)).replace(minute=0)] == {EventKind.SCANNER_PATH: 1, EventKind.LOGIN_FAILED: 1}
    assert hours[NOW.replace(minute=0)] == {EventKind.SCANNER_PATH: 1}
    assert hours[(NOW - timedelta(hours=1)).replace(minute=0)] == {}


def test_a_settled_hour_is_read_once_and_an_open_one_every_time():
    _event(NOW - timedelta(hours=2))
    assert _counts(2) == {EventKind.SCANNER_PATH: 1}
    # Written behind the reader's back into settled hours (events are recorded as they happen,
    # so this never occurs): the kept counts show that those hours are not read again.
    _event(NOW - timedelta(hours=2))
    _event(NOW - timedelta(hours=20))
    _event(NOW - timedelta(minutes=3))  # the open hour
    with CaptureQueriesContext(connection) as queries:
        hours = selectors.events_by_hour(since=SINCE, now=NOW)
    assert hours[(NOW - timedelta(hours=2)).replace(minute=0)] == {EventKind.SCANNER_PATH: 1}
    assert hours[(NOW - timedelta(hours=20)).replace(minute=0)] == {}
    assert hours[NOW.replace(minute=0)] == {EventKind.SCANNER_PATH: 1}
    # One query, from the first open hour on.
    event_queries = [q["sql"] for q in queries.captured_queries if "security_securityevent" in q["sql"]]
    assert len(event_queries) == 1


def test_an_hour_still_settling_is_read_again():
    # Three past: the hour before ended three minutes ago and may still receive a late commit.
    now = NOW.replace(minute=3)
    before = (now - timedelta(hours=1)).replace(minute=0)
    _event(now - timedelta(minutes=10))
    assert selectors.events_by_hour(since=SINCE, now=now)[before] == {EventKind.SCANNER_PATH: 1}
    _event(now - timedelta(minutes=10))
    assert selectors.events_by_hour(since=SINCE, now=now)[before] == {EventKind.SCANNER_PATH: 2}


def test_a_deletion_of_events_is_seen_at_once(django_capture_on_commit_callbacks):
    _event(NOW - timedelta(hours=2))
    assert _counts(2) == {EventKind.SCANNER_PATH: 1}
    with django_capture_on_commit_callbacks(execute=True):
        cleared = security_data_clear(older_than=timedelta(seconds=1), expired_blocks=False)
    assert cleared.events == 1
    assert _counts(2) == {}


def test_a_longer_window_reads_only_the_hours_it_lacks():
    _event(NOW - timedelta(days=3))
    assert selectors.events_by_hour(since=SINCE, now=NOW)[(NOW - timedelta(hours=2)).replace(minute=0)] == {}
    week = selectors.events_by_hour(since=NOW - timedelta(days=7), now=NOW)
    assert len(week) == 7 * 24 + 1
    assert week[(NOW - timedelta(days=3)).replace(minute=0)] == {EventKind.SCANNER_PATH: 1}


def test_kept_hours_are_read_again_after_a_while(monkeypatch):
    """What nothing announces (events deleted in the admin, say) is seen once the kept hours are
    read again, SETTLED_HOURS_REREAD_SECONDS later."""
    clock = [1000.0]
    monkeypatch.setattr(selectors.time, "monotonic", lambda: clock[0])
    _event(NOW - timedelta(hours=2))
    assert _counts(2) == {EventKind.SCANNER_PATH: 1}
    SecurityEvent.objects.all().delete()  # no bump: the kept count stands for now
    clock[0] += selectors.SETTLED_HOURS_REREAD_SECONDS - 1
    assert _counts(2) == {EventKind.SCANNER_PATH: 1}
    clock[0] += 2
    assert _counts(2) == {}
