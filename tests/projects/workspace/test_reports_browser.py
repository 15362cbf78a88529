"""The report screens in headless Chromium, phone (390 px) and desktop (1280 px): a founder keeps a report, keeps
a later one after more traffic, compares them by clicking only, edits the test card (a mistake beside its field,
then a good value), and prints the report, a kept report and the comparison without the navigation. No console
error, no CSP violation, axe-core clean. Screenshots go to /tmp/h/shots/h4-*.png for a person to look at."""

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

from projects.models import ReportSnapshot
from tests.browser import assert_axe_clean, assert_no_errors, chromium_browser_fixture, watch  # noqa: F401
from tests.projects.workspace.test_reports_kept import add_days

SHOTS = Path("/tmp/h/shots")
VIEWPORTS = {"phone": (390, 844), "desktop": (1280, 900)}


def _sign_in(context, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


def _check(page, name: str, device: str, *, expected_status: int | None = None) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth") <= page.evaluate("innerWidth"), name
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"h4-{name}-{device}.png"), full_page=True)
    assert_no_errors(page, expected_status=expected_status)
    assert_axe_clean(page)


def _print_check(page, name: str, device: str) -> None:
    """Print media: no top bar, navigation, buttons or forms; the report's panels still there."""
    page.emulate_media(media="print")
    try:
        hidden = page.evaluate(
            """() => [...document.querySelectorAll('.topbar, .subnav, .footer, main form, main button')]
                 .filter(el => getComputedStyle(el).display !== 'none').map(el => el.outerHTML.slice(0, 80))"""
        )
        assert hidden == [], (name, hidden)
        assert page.locator(".report .panel").first.is_visible()
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") in ("rgb(255, 255, 255)",)
        page.screenshot(path=str(SHOTS / f"h4-print-{name}-{device}.png"), full_page=True)
    finally:
        page.emulate_media(media="screen")
    if device == "desktop":
        page.pdf(path=str(SHOTS / f"h4-{name}.pdf"), format="A4", print_background=True)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_keep_compare_print_and_edit_the_card_by_clicking(live_server, chromium_browser, device, user, live_page):
    project = live_page.project
    add_days(project, live_page, days=8, campaigns=1)
    width, height = VIEWPORTS[device]
    context = chromium_browser.new_context(viewport={"width": width, "height": height}, is_mobile=device == "phone")
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        watch(page)
        _sign_in(context, live_server, user)

        # The report, then keep it.
        page.goto(f"{live_server.url}/projects/{project.pk}/report")
        assert page.get_attribute(".subnav a[aria-current=page]", "href") == f"/projects/{project.pk}/report"
        _check(page, "report", device)
        page.click("#snapshots button:has-text('Keep this report')")
        page.wait_for_selector("[data-testid=kept-reports]")
        # More traffic arrives; keep a later report.
        add_days(project, live_page, days=4, visitors=90, signups=1)
        page.goto(f"{live_server.url}/projects/{project.pk}/report")
        page.click("#snapshots button:has-text('Keep this report')")
        page.wait_for_selector("[data-testid=compare-form]")
        assert page.locator("[data-testid=kept-reports] tbody tr").count() == 2
        _check(page, "report-kept", device)
        _print_check(page, "report", device)

        # Compare them by clicking: the earlier and the later are preselected.
        first, second = ReportSnapshot.objects.filter(project=project).order_by("created_at", "id")
        page.click("[data-testid=compare-form] button:has-text('Compare')")
        page.wait_for_selector("[data-testid=compare-summary]")
        assert f"a={first.pk}&b={second.pk}" in page.url
        row = page.locator("tr[data-key='inputs.visitors']")
        assert "up" in (row.get_attribute("class") or "")
        assert "+" in row.locator("[data-testid=change]").inner_text()
        _check(page, "compare", device)
        _print_check(page, "compare", device)

        # A kept report, from its link.
        page.click(f"main a[href='/projects/{project.pk}/reports/{first.pk}/']")
        page.wait_for_selector("[data-testid=kept-note]")
        _check(page, "snapshot", device)
        _print_check(page, "snapshot", device)

        # The test card: a mistake beside its field, nothing saved; then a good value.
        page.goto(f"{live_server.url}/projects/{project.pk}/report")
        page.click("[data-testid=test-card-link]")
        page.wait_for_selector("#card-edit")
        assert page.get_attribute(".subnav a[aria-current=page]", "href") == f"/projects/{project.pk}/report"
        _check(page, "test-card", device)
        page.fill("#id_signup_bar", "150")
        page.click("#card-edit button:has-text('Save the test card')")
        page.wait_for_selector(".form-errors")
        assert page.get_attribute("#id_signup_bar", "aria-invalid") == "true"
        assert "less than 100%" in page.inner_text("#bar-signup_bar")
        _check(page, "test-card-error", device, expected_status=400)
        page.fill("#id_signup_bar", "6")
        page.click("#card-edit button:has-text('Save the test card')")
        page.wait_for_selector("text=Test card saved")
        assert "6.0%" in page.inner_text("[data-term=signup_bar]")
    finally:
        context.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_the_locked_card_and_the_glossary_read_cleanly(live_server, chromium_browser, device, user, live_page):
    from django.core.management import call_command

    from tests.projects.experiments.helpers import BROWSER

    project = live_page.project
    Client(HTTP_USER_AGENT=BROWSER).get(f"/p/{live_page.slug}/?utm_source=google&utm_medium=cpc")
    call_command("flush_events")
    width, height = VIEWPORTS[device]
    context = chromium_browser.new_context(viewport={"width": width, "height": height}, is_mobile=device == "phone")
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        watch(page)
        _sign_in(context, live_server, user)
        page.goto(f"{live_server.url}/projects/{project.pk}/test-card")
        assert page.locator("[data-testid=locked]").is_visible()
        assert page.locator("#card-edit").count() == 0
        _check(page, "test-card-locked", device)
        page.goto(f"{live_server.url}/projects/glossary#g-funnel")
        _check(page, "glossary", device)
    finally:
        context.close()
