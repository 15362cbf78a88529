"""The analytics page in headless Chromium at a phone's width (390 px) and a desktop's (1280 px):
the founder filters it to the last week by clicking, new traffic rolled up appears in the figures
region in place (no page load), no console error, no CSP violation, axe-core clean. Screenshots go
to /tmp/h/shots/h3-analytics-*.png."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from projects.models import BreakdownRollup, DailyRollup, Traffic
from tests.browser import assert_axe_clean, assert_no_errors, chromium_browser_fixture, watch  # noqa: F401
from tests.factories import ProjectFactory, UserFactory, generate_and_publish
from tests.projects.events.test_devices import ANDROID_CHROME_PHONE, IPHONE_SAFARI, WINDOWS_CHROME

SHOTS = Path("/tmp/h/shots")
VIEWPORTS = {"phone": (390, 844), "desktop": (1280, 900)}


def _sign_in(context, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


def _visit(slug: str, ua: str, query: str = "", referrer: str = "") -> None:
    extra = {"HTTP_REFERER": referrer} if referrer else {}
    assert Client(HTTP_USER_AGENT=ua).get(f"/p/{slug}/{query}", **extra).status_code == 200


def _figure(page, name: str) -> int:
    return int(page.inner_text(f"[data-testid=summary] [data-figure={name}]"))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_founder_reads_last_weeks_analytics_and_sees_new_traffic_in_place(
    live_server, chromium_browser, device, settings
):
    settings.ENABLE_RATE_LIMITING = False
    founder = UserFactory(name="Ada Founder")
    project = ProjectFactory(owner=founder, name="Invoice Chaser")
    page_row = generate_and_publish(project, slug="chaser")
    # Older traffic (20 days ago): in the last 30 days, not in the last week.
    old = timezone.now().date() - timedelta(days=20)
    DailyRollup.objects.create(page=page_row, day=old, channel="search", traffic=Traffic.HUMAN, views=40,
                               visitors=30, signups=3, signed_up_visitors=3)  # fmt: skip
    BreakdownRollup.objects.create(page=page_row, day=old, dimension="device", value="desktop",
                                   traffic=Traffic.HUMAN, views=40, visitors=30, signups=3)  # fmt: skip
    # This week, through the public page.
    _visit("chaser", IPHONE_SAFARI, "?utm_source=meta&utm_medium=paid_social&utm_campaign=launch")
    _visit("chaser", WINDOWS_CHROME, referrer="https://news.ycombinator.com/item?id=1")
    call_command("flush_events")

    width, height = VIEWPORTS[device]
    context = chromium_browser.new_context(viewport={"width": width, "height": height}, is_mobile=device == "phone")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        watch(page)
        _sign_in(context, live_server, founder)
        page.goto(f"{live_server.url}/projects/{project.pk}/")
        page.click("nav.subnav a:has-text('Analytics')")
        page.wait_for_selector("#results-live")
        assert page.get_attribute("nav.subnav a:has-text('Analytics')", "aria-current") == "page"
        assert _figure(page, "visitors") == 32  # the last 30 days (the default)

        page.select_option("#id_period", "7")
        page.click("form.analytics-range button[type=submit]")
        page.wait_for_url("**period=7**")
        assert _figure(page, "visitors") == 2
        assert "Phone" in page.inner_text("[data-testid=table-device]")
        assert "news.ycombinator.com" in page.inner_text("[data-testid=table-referrer]")
        assert page.evaluate("document.scrollingElement.scrollWidth") <= page.evaluate("innerWidth")
        page.screenshot(path=str(SHOTS / f"h3-analytics-{device}.png"), full_page=True)
        assert_no_errors(page)
        assert_axe_clean(page)

        # New traffic, rolled up: the figures region refreshes in place (live.js fires
        # `live-refresh` every 30 s; the test fires it at once), the page is not reloaded.
        page.evaluate("window.notReloaded = true")
        _visit("chaser", ANDROID_CHROME_PHONE, "?utm_source=news&utm_medium=email")
        call_command("flush_events")
        page.evaluate("htmx.trigger(document.getElementById('results-live'), 'live-refresh')")
        # (A selector, not a JS predicate: the CSP forbids evaluating strings.)
        page.wait_for_selector("[data-testid=summary] [data-figure=visitors]:text-is('3')")
        assert page.evaluate("window.notReloaded") is True
        live_url = page.get_attribute("#results-live", "hx-get")
        assert "period=7" in live_url and live_url.endswith("fragment=live")
        assert "news" in page.inner_text("[data-testid=table-utm_source]")
        assert page.locator("[data-testid=as-of]").count() == 1
        # One live region, outside the replaced figures, its text swapped in out of band.
        assert page.locator("[role=status]").count() == 1
        assert page.locator("#results-live [role=status], #results-live #analytics-status").count() == 0
        status = page.inner_text("#analytics-status").strip()
        assert status.startswith("Figures as of ") and page.inner_text("[data-testid=as-of]") in status
        assert_no_errors(page)
        assert_axe_clean(page)

        # A bad range: the message beside the field.
        page.select_option("#id_period", "custom")
        page.fill("#id_from", "2026-03-10")
        page.fill("#id_to", "2026-03-01")
        page.click("form.analytics-range button[type=submit]")
        page.wait_for_selector("#id_from_error")
        assert "on or before the last day" in page.inner_text("#id_from_error")
        page.screenshot(path=str(SHOTS / f"h3-analytics-error-{device}.png"), full_page=True)
        assert_no_errors(page, expected_status=400)
        assert_axe_clean(page)

        # A period the form does not offer (an edited address): its message beside the period.
        page.goto(f"{live_server.url}/projects/{project.pk}/analytics?period=90")
        assert "Choose a period from the list." in page.inner_text("#id_period_error")
        assert page.get_attribute("#id_period", "aria-describedby") == "id_period_error"
        page.screenshot(path=str(SHOTS / f"f2-analytics-period-error-{device}.png"), full_page=True)
        assert_no_errors(page, expected_status=400)
        assert_axe_clean(page)
    finally:
        context.close()
