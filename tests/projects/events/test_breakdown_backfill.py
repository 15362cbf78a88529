"""The breakdowns rebuilt from the raw events (`rebuild_breakdowns`, review of issue 24, item 2):
the days rolled up before the breakdowns existed get the rows the worker would have written."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from projects.events.backfill import breakdowns_rebuild
from projects.models import BreakdownRollup, Traffic
from tests.projects.events.helpers import store_rolled_up_event
from tests.projects.events.test_analytics import browser
from tests.projects.events.test_breakdowns import EXPECTED, breakdown, drive

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]


def snapshot() -> dict[tuple, tuple]:
    return {
        (r.page_id, r.day, r.dimension, r.value, r.traffic): (
            r.views, r.visitors, r.bounces, r.cta_clicks, r.signups, r.preorders,
            r.clicked_visitors, r.signed_up_visitors, r.preordered_visitors,
        )
        for r in BreakdownRollup.objects.all()
    }  # fmt: skip


def rebuild(*args: str) -> str:
    out = StringIO()
    call_command("rebuild_breakdowns", *args, stdout=out)
    return out.getvalue()


def test_deleted_breakdowns_are_rebuilt_identical_and_a_second_run_changes_nothing(live_page):
    drive()
    call_command("flush_events", batch=2)
    written = snapshot()
    assert written
    BreakdownRollup.objects.all().delete()
    output = rebuild()
    assert snapshot() == written
    assert "rebuilt the breakdowns of 1 page-day(s)" in output
    assert f"page {live_page.pk}, {timezone.now().date().isoformat()}:" in output
    assert rebuild() and snapshot() == written


def test_the_day_of_the_upgrade_counts_the_visitors_seen_before_it(live_page):
    """Before the rebuild, the morning's visitors (rolled up before the breakdowns existed) count
    as already seen: their evening events add no visitor; after it, the day is whole."""
    drive()
    call_command("flush_events")
    BreakdownRollup.objects.all().delete()  # the morning, rolled up before migration 0020
    iphone = browser("visitor-iphone-0000001")
    iphone.get("/p/chaser/?utm_source=meta&utm_medium=paid_social&utm_campaign=launch&utm_content=red")
    call_command("flush_events")
    assert breakdown("utm_source")["meta"][1] == 0  # a visitor seen before: no one counted
    assert breakdowns_rebuild() == 1
    expected = dict(EXPECTED["utm_source"])
    views, *rest = expected["meta"]
    expected["meta"] = (views + 1, *rest)
    assert breakdown("utm_source") == expected


def test_days_without_raw_events_keep_their_rows(live_page, settings):
    drive()
    call_command("flush_events")
    today = timezone.now().date()
    worker_rows = snapshot()
    # The cutoff's own day may have lost part of its events to pruning: it is left as it is too.
    boundary = (timezone.now() - timedelta(days=settings.EVENT_RETENTION_DAYS)).date()
    store_rolled_up_event(
        key="old-" + "0" * 28, page=live_page, kind="view", visitor_hash="e" * 64, device="phone",
        occurred_at=timezone.now() - timedelta(days=settings.EVENT_RETENTION_DAYS), day=boundary,
        traffic=Traffic.HUMAN,
    )  # fmt: skip
    kept = [
        BreakdownRollup.objects.create(
            page=live_page, day=day, dimension="device", value="phone", traffic=Traffic.HUMAN, views=7, visitors=5
        )
        for day in (today - timedelta(days=3), today - timedelta(days=40), boundary)  # no raw event; pruned
    ]
    BreakdownRollup.objects.filter(day=today).delete()
    assert breakdowns_rebuild() == 1
    for row in kept:
        row.refresh_from_db()
        assert (row.views, row.visitors) == (7, 5), row.day
    assert {k: v for k, v in snapshot().items() if k[1] == today} == worker_rows


def test_the_days_option_limits_the_range(live_page):
    drive()
    call_command("flush_events")
    yesterday = timezone.now() - timedelta(days=1)
    store_rolled_up_event(
        key="yesterday-" + "0" * 22, page=live_page, kind="view", visitor_hash="y" * 64, device="phone",
        occurred_at=yesterday, day=yesterday.date(), traffic=Traffic.HUMAN,
    )  # fmt: skip
    assert "of 1 page-day(s)" in rebuild("--days", "1")
    assert not BreakdownRollup.objects.filter(day=yesterday.date()).exists()
    assert "of 2 page-day(s)" in rebuild("--days", "2")
    assert BreakdownRollup.objects.get(day=yesterday.date(), dimension="device").visitors == 1


@pytest.mark.parametrize("bad", ["0", "-3", "many", "1000000"])
def test_a_bad_days_option_is_refused(bad):
    with pytest.raises(CommandError):
        call_command("rebuild_breakdowns", "--days", bad)
