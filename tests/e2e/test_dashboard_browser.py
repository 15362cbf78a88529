"""The staff performance monitor in headless Chromium: a staff user signs in through the login
page, sees every panel and the charts, watches a figure change with the in-place refresh, pauses
it, unblocks an address, and nothing on the way logs an error or a CSP violation. The page is
also checked at a phone's width. Screenshots are kept in test-artifacts/."""

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from monitoring.kpi_catalog import CATALOG, GROUPS
from security.models import BlockedIP, BlockRule
from security.services import ip_block
from tests.browser import browser_page_fixture, chromium_browser_fixture, watch  # noqa: F401 - the fixtures
from tests.factories import DEFAULT_PASSWORD, UserFactory

ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts"
PANELS = (
    "health", "performance", "kpis", "platform", "errors", "database", "cache", "security", "external", "requests",
)  # fmt: skip


def _sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/performance-monitor/")
    assert page.url.startswith(f"{base}/accounts/login/?next=/performance-monitor/")
    page.fill("#id_username", email)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/performance-monitor/")


@pytest.mark.django_db(transaction=True)
def test_staff_watch_the_dashboard_refresh_and_unblock_an_address(live_server, browser_page):
    staff = UserFactory(is_staff=True)
    ip_block(ip="198.51.100.7", rule=BlockRule.SCANNER, reason="probing scanner paths (/.env)")
    page = browser_page
    seen = watch(page)
    ARTIFACTS.mkdir(exist_ok=True)

    _sign_in(page, live_server.url, staff.email)
    for name in PANELS:
        assert page.locator(f"section#{name}").is_visible(), name
    assert page.locator("section#performance svg[role=img]").count() >= 1
    assert page.locator("svg[role=img]").count() >= 3
    assert page.locator("#refresh-interval").is_visible()  # the controls appear with script on
    # Every KPI of the production guide, each with its badge, figure and 7-day sparkline.
    assert page.locator("section#kpis tr.kpi-row").count() == len(CATALOG)
    for spec in CATALOG:
        row = page.locator(f"[data-testid=kpi-{spec.id}]")
        assert row.is_visible(), spec.id
        assert row.locator(".badge").count() == 1 and row.locator("svg.sparkline").count() == 1, spec.id
    assert page.locator("section#kpis h3").all_inner_texts() == [title for _, title in GROUPS]

    # The in-place refresh: the page's own requests raise the 5-minute request count.
    before = page.inner_text("[data-testid=requests-5m]")
    page.select_option("#refresh-interval", "5")
    page.wait_for_function(
        "(before) => document.querySelector('[data-testid=requests-5m]').textContent !== before",
        arg=before,
        timeout=15_000,
    )
    assert re.match(r"Updated ", page.inner_text("#refresh-status"))
    assert page.url == f"{live_server.url}/performance-monitor/"  # in place, not a reload
    for name in PANELS:
        assert page.locator(f"section#{name}").count() == 1, name
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    # Paused, nothing changes.
    page.click("#refresh-pause")
    assert page.inner_text("#refresh-pause") == "Resume"
    paused = page.inner_text("[data-testid=generated-at]")
    page.wait_for_timeout(6_000)
    assert page.inner_text("[data-testid=generated-at]") == paused

    # Unblock from the security panel (a POST with the CSRF token).
    row = page.locator("[data-testid='blocked-198.51.100.7']")
    assert row.is_visible()
    row.locator("button", has_text="Unblock").click()
    page.wait_for_url(f"{live_server.url}/performance-monitor/#security")
    assert "198.51.100.7 is unblocked." in page.inner_text(".flash")
    assert page.locator("[data-testid='blocked-198.51.100.7']").count() == 0
    assert BlockedIP.objects.get().unblocked_at is not None

    assert not seen.csp_violations, seen.csp_violations
    assert not seen.console_errors, seen.console_errors
    assert not seen.page_errors, seen.page_errors
    assert not seen.dialogs, seen.dialogs


@pytest.mark.django_db(transaction=True)
def test_the_dashboard_is_readable_on_a_phone(live_server, chromium_browser):
    staff = UserFactory(is_staff=True)
    context = chromium_browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        page = context.new_page()
        seen = watch(page)
        _sign_in(page, live_server.url, staff.email)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"the page scrolls sideways by {overflow}px on a phone"
        assert page.locator("section#performance svg[role=img]").first.bounding_box()["width"] <= 390
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=True)
        assert not seen.csp_violations and not seen.console_errors and not seen.page_errors
    finally:
        context.close()
