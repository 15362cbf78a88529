"""The campaign screens in headless Chromium at a phone's width (390 px) and a desktop's (1280 px), by
clicking only: create a campaign (its tag follows the name as it is typed), build its tagged link,
copy it, upload a bad spend file (every bad line named, nothing imported) then a good one, start
the campaign. No console error, no CSP violation, axe-core clean, nothing wider than the screen.
Screenshots go to /tmp/h/shots/h2-*.png for a person to look at."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

from projects.models import Campaign, CampaignSpend
from projects.services.campaigns import spend_today
from tests.browser import assert_axe_clean, assert_no_errors, chromium_browser_fixture, watch  # noqa: F401
from tests.factories import ProjectFactory, UserFactory, generate_and_publish

SHOTS = Path("/tmp/h/shots")
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}


def _sign_in(context, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


def _check(page, name: str, device: str) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth") <= page.evaluate("innerWidth"), name
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"h2-{name}-{device}.png"), full_page=True)
    # A refused form answers 400 on purpose (Chromium logs the load as failed): that line alone is allowed.
    assert_no_errors(page, expected_status=400)
    assert_axe_clean(page)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("device", list(WIDTHS))
def test_a_founder_creates_a_campaign_builds_its_link_and_uploads_spend(live_server, chromium_browser, device):
    founder = UserFactory(name="Ada Founder")
    project = ProjectFactory(owner=founder, name="Invoice Chaser", currency="EUR")
    generate_and_publish(project, slug=f"chaser-{device}")
    width, height = WIDTHS[device]
    context = chromium_browser.new_context(viewport={"width": width, "height": height}, is_mobile=device == "phone")
    context.set_default_timeout(10_000)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    try:
        page = context.new_page()
        watch(page)
        _sign_in(context, live_server, founder)
        page.goto(f"{live_server.url}/projects/{project.pk}/")
        page.click("nav.subnav a:has-text('Campaigns')")
        page.wait_for_selector("text=No campaign yet")
        _check(page, "list-empty", device)

        # Create: a mistake first, beside its field; the tag follows the name as it is typed.
        page.click("main a:has-text('New campaign')")
        page.fill("#id_name", "Google search, autumn")
        page.wait_for_function("() => document.querySelector('#id_utm_campaign').value === 'google-search-autumn'")
        page.select_option("#id_platform", "google")
        page.fill("#id_budget", "-5")
        page.click("main button[type=submit]")
        assert page.get_attribute("#id_budget", "aria-invalid") == "true"
        assert "greater than or equal to 0" in page.inner_text("#id_budget_error")
        _check(page, "create-error", device)
        page.fill("#id_budget", "300")
        page.click("main button[type=submit]")
        page.wait_for_selector("h1:has-text('Google search, autumn')")
        campaign = Campaign.objects.get()
        assert campaign.utm_campaign == "google-search-autumn"

        # The link: the ad's name added, then copied.
        page.fill("#id_utm_content", "video 1")
        page.click("button:has-text('Update the link')")
        page.wait_for_function("() => document.querySelector('#tagged-link').value.includes('utm_content=video%201')")
        link = page.input_value("#tagged-link")
        assert link == (
            f"{live_server.url}/p/chaser-{device}/?utm_source=google&utm_medium=cpc"
            "&utm_campaign=google-search-autumn&utm_content=video%201"
        )
        assert "Google Ads adds gclid" in page.inner_text("[data-testid=click-note]")
        page.click("button.copy-button")
        page.wait_for_selector("[data-copy-status=tagged-link]:has-text('Copied')")
        assert page.evaluate("navigator.clipboard.readText()") == link
        _check(page, "detail-link", device)

        # A bad file: every bad line named, nothing imported.
        today = spend_today()[0]
        days = [(today - timedelta(days=n)).isoformat() for n in (3, 2, 1)]
        bad = f"date,spend,clicks\n{days[0]},12.00,10\n2026-13-01,5,1\n{days[1]},-4,2\n{days[0]},3,x\n".encode()
        page.set_input_files("#id_upload-file", {"name": "bad.csv", "mimeType": "text/csv", "buffer": bad})
        page.click("button:has-text('Upload')")
        errors = page.wait_for_selector("[data-testid=file-errors]")
        text = errors.inner_text()
        assert "Nothing was imported" in text
        for line in ("Line 3", "Line 4", "Line 5"):
            assert line in text
        assert CampaignSpend.objects.count() == 0
        _check(page, "upload-bad", device)

        # A good file: the days added, the table and costs filled in.
        good = f"date,spend,impressions,clicks\n{days[0]},30.00,4000,20\n{days[1]},45.50,5000,30\n".encode()
        page.set_input_files("#id_upload-file", {"name": "good.csv", "mimeType": "text/csv", "buffer": good})
        page.click("button:has-text('Upload')")
        page.wait_for_selector("text=The file is imported: 2 days added, 0 replaced.")
        assert CampaignSpend.objects.filter(campaign=campaign).count() == 2
        assert "75.50 EUR" in page.inner_text("[data-field=spend]")
        page.wait_for_selector("figure.chart-figure svg")
        _check(page, "upload-good", device)

        # One more day by hand, then start the campaign.
        page.fill("#id_day-date", days[2])
        page.fill("#id_day-spend", "10")
        page.click("button:has-text('Save the day')")
        page.wait_for_selector("text=added.")
        page.click("main button:has-text('Start')")
        page.wait_for_selector("[data-testid=status]:has-text('Active')")
        _check(page, "detail-active", device)

        page.click("nav.subnav a:has-text('Campaigns')")
        page.wait_for_selector("text=85.50 EUR")
        _check(page, "list", device)
    finally:
        context.close()


@pytest.mark.django_db(transaction=True)
def test_the_link_can_be_copied_when_the_clipboard_is_refused_and_without_script(live_server, chromium_browser):
    founder = UserFactory()
    project = ProjectFactory(owner=founder)
    generate_and_publish(project, slug="fallback")
    campaign = Campaign.objects.create(project=project, name="Reddit", platform="reddit", budget=50, utm_campaign="rd")
    url = f"{live_server.url}/projects/{project.pk}/campaigns/{campaign.pk}/"

    # The browser refuses the clipboard: the link is selected for the founder to copy.
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        context.add_init_script(
            "Object.defineProperty(navigator, 'clipboard', "
            "{value: {writeText: () => Promise.reject(new Error('refused'))}});"
        )
        page = context.new_page()
        watch(page)
        _sign_in(context, live_server, founder)
        page.goto(url)
        page.click("button.copy-button")
        page.wait_for_selector("[data-copy-status=tagged-link]:has-text('press Ctrl+C')")
        selected = page.evaluate(
            "() => { const i = document.activeElement; "
            "return [i.id, i.selectionStart, i.selectionEnd, i.value.length]; }"
        )
        assert selected[0] == "tagged-link" and selected[1] == 0 and selected[2] == selected[3] > 0
        assert_no_errors(page)
    finally:
        context.close()

    # Without script: no Copy button, the link in a readonly input anyone can select.
    context = chromium_browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    try:
        page = context.new_page()
        _sign_in(context, live_server, founder)
        page.goto(url)
        assert not page.is_visible("button.copy-button")
        assert page.get_attribute("#tagged-link", "readonly") is not None
        assert "utm_source=reddit&utm_medium=paid_social&utm_campaign=rd" in page.input_value("#tagged-link")
        assert "Reddit Ads adds rdt_cid" in page.inner_text("[data-testid=click-note]")
    finally:
        context.close()
