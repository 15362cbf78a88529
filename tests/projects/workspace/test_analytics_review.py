"""The analytics page after the review of issue 24: the breakdowns' first day said when earlier
traffic is not in them (item 2), and the period's error and the live status (item 4)."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from projects.models import BreakdownRollup, DailyRollup, Traffic
from tests.projects.events.test_analytics import browser
from tests.projects.events.test_breakdowns import drive

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]

GAP = 'data-testid="breakdowns-gap"'


def page(client, project, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = client.get(f"/projects/{project.pk}/analytics" + (f"?{query}" if query else ""))
    return response.content.decode()


def test_the_page_says_where_the_breakdowns_start_until_they_are_rebuilt(
    client, user, project, live_page, django_capture_on_commit_callbacks
):
    drive()
    call_command("flush_events")
    client.force_login(user)
    assert GAP not in page(client, project)  # the worker wrote both: nothing to say
    BreakdownRollup.objects.all().delete()  # the day was rolled up before the breakdowns existed
    cache.clear()
    html = page(client, project)
    assert re.search(GAP + r">The tables by referring site, UTM tag and device have no rows in this range:", html)
    with django_capture_on_commit_callbacks(execute=True):  # the rebuild bumps the page's cached figures
        call_command("rebuild_breakdowns", stdout=StringIO())
    assert GAP not in page(client, project)
    # Older traffic whose raw events are pruned: the tables start on the first day they have.
    cache.clear()
    DailyRollup.objects.create(
        page=live_page, day=timezone.now().date() - timedelta(days=40), channel="direct", traffic=Traffic.HUMAN,
        views=3, visitors=2,
    )  # fmt: skip
    html = page(client, project, period="custom", **{"from": (timezone.now().date() - timedelta(days=60)).isoformat()})
    today = timezone.now().date()
    assert f"start on {today.day} {today:%b %Y}: earlier traffic was counted before they existed" in html
    assert GAP not in page(client, project, period="7")  # the range's traffic is all in them


def test_a_bad_period_is_an_error_beside_the_period(client, user, project):
    client.force_login(user)
    response = client.get(f"/projects/{project.pk}/analytics?period=90")
    assert response.status_code == 400
    html = response.content.decode()
    error = re.search(r'<div class="errors" id="id_period_error">(.*?)</div>', html, re.S)
    assert error and "Choose a period from the list." in error.group(1)
    select = re.search(r"<select[^>]*>", html).group(0)
    assert 'aria-invalid="true"' in select and 'aria-describedby="id_period_error"' in select
    assert 'data-testid="range-fallback"' in html
    assert "id_period_error" not in page(client, project, period="7")


def test_one_live_region_outside_the_figures_and_each_refresh_updates_it_out_of_band(client, user, project, live_page):
    client.force_login(user)
    html = page(client, project)
    assert html.count('role="status"') == 1
    status = re.search(r'<div id="analytics-status"[^>]*role="status"[^>]*>(.*?)</div>', html, re.S)
    assert status and "Figures as of no rollup yet." in status.group(1)
    assert html.index('id="analytics-status"') < html.index('id="results-live"')  # not inside the swapped region
    assert "hx-swap-oob" not in html
    browser("visitor-status-0000001").get("/p/chaser/")
    call_command("flush_events", stdout=StringIO())  # rolled up: the worker's time is now known
    response = client.get(f"/projects/{project.pk}/analytics?fragment=live", HTTP_HX_REQUEST="true")
    fragment = response.content.decode()
    assert fragment.lstrip().startswith('<div id="results-live"') and 'role="status"' not in fragment
    oob = re.search(r'<div id="analytics-status" hx-swap-oob="innerHTML">(.*?)</div>\s*$', fragment, re.S)
    as_of = re.search(r'data-testid="as-of">(\d\d:\d\d UTC)</time>', fragment)
    assert oob and as_of and f"Figures as of {as_of.group(1)}." in oob.group(1)
