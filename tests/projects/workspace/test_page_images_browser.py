"""The page's images section in headless Chromium, phone and desktop widths: a refused upload
shows its message beside the field, a good one comes back on the page with its preview, without a
console error or a CSP violation. Screenshots go to /tmp/shots-d2/."""

from pathlib import Path

import pytest
from PIL import Image

from projects.services.pages import landing_page_create
from projects.services.prototypes import prototype_generate
from tests.browser import browser_page_fixture, chromium_browser_fixture, watch  # noqa: F401 - the fixtures
from tests.factories import DEFAULT_PASSWORD, ProjectFactory, UserFactory

SHOTS = Path("/tmp/shots-d2")


@pytest.mark.django_db(transaction=True)
def test_uploading_in_a_browser(live_server, browser_page, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    owner = UserFactory()
    project = ProjectFactory(owner=owner, name="Leafwise")
    prototype_generate(project=project)
    page = landing_page_create(project=project, slug="leafwise")
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("these are my notes, not a picture\n" * 20)
    logo = tmp_path / "logo.png"
    Image.new("RGB", (600, 300), (15, 118, 110)).save(logo, "PNG")

    seen = watch(browser_page)
    browser_page.goto(f"{live_server.url}/accounts/login/")
    browser_page.fill("input[name=username], input[name=email]", owner.email)
    browser_page.fill("input[name=password]", DEFAULT_PASSWORD)
    browser_page.click("button[type=submit]")
    images = f"{live_server.url}/projects/{project.pk}/pages/{page.pk}/images"
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, viewport in (
        ("phone-375", {"width": 375, "height": 812}),
        ("desktop-1280", {"width": 1280, "height": 800}),
    ):
        browser_page.set_viewport_size(viewport)
        browser_page.goto(images)
        browser_page.set_input_files("#id_logo", str(not_an_image))
        browser_page.click("text=Upload logo")
        error = browser_page.text_content("#logo-errors")
        assert "This file is not an image we can use" in error
        assert browser_page.get_attribute("#id_logo", "aria-invalid") == "true"
        assert browser_page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
        browser_page.screenshot(path=str(SHOTS / f"images-refused-{name}.png"), full_page=True)
    browser_page.set_input_files("#id_logo", str(logo))
    browser_page.click("text=Upload logo")
    browser_page.goto(images)
    assert browser_page.eval_on_selector(".page-image-current img", "e => e.complete && e.naturalWidth") == 512
    assert browser_page.eval_on_selector(".page-qr img", "e => e.complete && e.naturalWidth") > 0
    browser_page.screenshot(path=str(SHOTS / "images-with-logo-desktop-1280.png"), full_page=True)
    # A refused form answers 400 (as every form of the site does), which Chromium reports as a failed load.
    errors = [e for e in seen.console_errors if "status of 400" not in e]
    assert errors == [] and seen.csp_violations == [] and seen.page_errors == [], seen
