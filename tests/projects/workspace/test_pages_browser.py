"""The editor's live preview in headless Chromium, at a desktop's and a phone's width: typing in
the form redraws the preview frame with the unsaved words, the Phone / Desktop switch resizes it,
and nothing breaks the CSP or logs an error. Screenshots go to test-artifacts/."""

from pathlib import Path

import pytest
from django.conf import settings as django_settings

from projects.models import LandingPage
from projects.services.pages import landing_page_create
from projects.services.prototypes import prototype_generate
from tests.browser import chromium_browser_fixture, watch  # noqa: F401 - the fixtures
from tests.factories import DEFAULT_PASSWORD, ProjectFactory, UserFactory

ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts"
WIDTHS = {"phone": 390, "desktop": 1280}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("device", list(WIDTHS))
def test_typing_redraws_the_preview_and_the_width_switch_resizes_it(live_server, chromium_browser, device):
    founder = UserFactory()
    project = ProjectFactory(owner=founder, name="Plant Pal")
    prototype_generate(project=project)
    page = landing_page_create(project=project, slug=f"plant-pal-{device}")
    context = chromium_browser.new_context(
        viewport={"width": WIDTHS[device], "height": 900}, is_mobile=device == "phone"
    )
    try:
        tab = context.new_page()
        seen = watch(tab)
        url = f"{live_server.url}/projects/{project.pk}/pages/{page.pk}/"
        tab.goto(url)
        tab.fill("#id_username", founder.email)
        tab.fill("#id_password", DEFAULT_PASSWORD)
        tab.click("button[type=submit]")
        tab.wait_for_url(url)
        frame = tab.frame_locator("iframe[title=Preview]")
        assert frame.locator("h1").inner_text() == page.headline

        tab.fill("#id_headline", "Plants that water themselves")
        frame.locator("h1", has_text="Plants that water themselves").wait_for(timeout=5000)
        assert LandingPage.objects.get(pk=page.pk).headline == page.headline  # not saved

        tab.check("#id_cta_kind_1")  # pre-order: a price is needed, and the preview says what to fix
        tab.fill("#id_preorder_price", "")
        tab.locator("#preview", has_text="Fix the fields marked").wait_for(timeout=5000)
        tab.fill("#id_preorder_price", "12")
        frame.locator("text=Buy now").first.wait_for(timeout=5000)

        tab.click("label[for=pw-phone]")  # also blurs the price: one more redraw may be on its way
        tab.wait_for_function("() => document.querySelector('iframe[title=Preview]')?.offsetWidth <= 390")
        tab.click("label[for=pw-desktop]")
        if device == "desktop":
            tab.wait_for_function("() => document.querySelector('iframe[title=Preview]')?.offsetWidth > 500")

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / f"page-editor-{device}.png"), full_page=True)
        assert tab.evaluate("document.scrollingElement.scrollWidth") <= tab.evaluate("innerWidth")
        assert not seen.csp_violations, seen.csp_violations
        assert not seen.console_errors, seen.console_errors
        assert not seen.page_errors, seen.page_errors
    finally:
        context.close()
