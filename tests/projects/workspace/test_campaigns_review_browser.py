"""Two review findings, in headless Chromium: the campaign tag the create form fills in as the name is
typed is the one the server stores (Django's `slugify`: "_" kept inside, stripped at the ends), and
completing a campaign asks first, with or without script, at a phone's width and a desktop's, with no
console error, no CSP violation and axe-core clean. Screenshots: /tmp/h/shots/f1-*.png."""

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils.text import slugify

from projects.models import Campaign
from tests.browser import assert_axe_clean, assert_no_errors, chromium_browser_fixture, watch  # noqa: F401
from tests.factories import ProjectFactory, UserFactory

SHOTS = Path("/tmp/h/shots")
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}
NAMES = [
    "my_campaign",
    "_lead and trail_",
    "__--x--__",
    "a  -  b__c",
    "Crème brûlée — été 2026",
    "Ωmega ünïcode",
    "ﬁnal ½ off!",
    "tab\there",
    "x" * 99 + "_y",
    "y" * 120,
]


def _sign_in(context, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


@pytest.mark.django_db(transaction=True)
def test_the_tag_filled_in_from_the_name_is_the_one_the_server_makes(live_server, chromium_browser):
    founder = UserFactory()
    project = ProjectFactory(owner=founder)
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        watch(page)
        _sign_in(context, live_server, founder)
        page.goto(f"{live_server.url}/projects/{project.pk}/campaigns/new")
        for name in NAMES:
            page.fill("#id_name", name)
            assert page.input_value("#id_utm_campaign") == slugify(name)[:100], name
        # What the page shows is what is stored: the form sent with the filled-in tag.
        page.fill("#id_name", "my_campaign")
        page.fill("#id_budget", "100")
        page.click("main button[type=submit]")
        page.wait_for_selector("h1:has-text('my_campaign')")
        assert Campaign.objects.get().utm_campaign == "my_campaign"
        assert_no_errors(page)
    finally:
        context.close()


def _complete_flow(page, live_server, campaign, *, device: str, shots: bool) -> None:
    detail = f"{live_server.url}/projects/{campaign.project_id}/campaigns/{campaign.pk}/"
    page.goto(detail)
    page.click("main .actions button:has-text('Complete')")
    page.wait_for_selector(f"h1:has-text('Complete “{campaign.name}”?')")
    if shots:
        assert page.evaluate("document.scrollingElement.scrollWidth") <= page.evaluate("innerWidth")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"f1-confirm-complete-{device}.png"), full_page=True)
        assert_no_errors(page)
        assert_axe_clean(page)
    campaign.refresh_from_db()
    assert campaign.status == "active"  # asked, nothing done
    page.click("main a:has-text('Cancel')")
    page.wait_for_selector("[data-testid=status]:has-text('Active')")
    page.click("main .actions button:has-text('Complete')")
    page.click("main button:has-text('Complete the campaign')")
    page.wait_for_selector("[data-testid=status]:has-text('Completed')")
    campaign.refresh_from_db()
    assert campaign.status == "completed"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("device", list(WIDTHS))
def test_complete_asks_first(live_server, chromium_browser, device):
    founder = UserFactory()
    project = ProjectFactory(owner=founder)
    campaign = Campaign.objects.create(
        project=project, name="Autumn", platform="google", budget=50, utm_campaign="autumn", status="active"
    )
    width, height = WIDTHS[device]
    context = chromium_browser.new_context(viewport={"width": width, "height": height}, is_mobile=device == "phone")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        watch(page)
        _sign_in(context, live_server, founder)
        _complete_flow(page, live_server, campaign, device=device, shots=True)
        assert_no_errors(page)
    finally:
        context.close()


@pytest.mark.django_db(transaction=True)
def test_complete_asks_first_without_script(live_server, chromium_browser):
    founder = UserFactory()
    project = ProjectFactory(owner=founder)
    campaign = Campaign.objects.create(
        project=project, name="Spring", platform="meta", budget=50, utm_campaign="spring", status="active"
    )
    context = chromium_browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        _sign_in(context, live_server, founder)
        _complete_flow(page, live_server, campaign, device="phone-noscript", shots=False)
    finally:
        context.close()
