"""The public page with a logo, a hero image and a theme, in headless Chromium at phone and desktop
widths: the images load at the size reserved for them, the theme and fonts apply, nothing overflows,
no console error and no CSP violation. Screenshots go to /tmp/shots-d2/."""

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from projects.models import LandingPage
from projects.services.page_images import page_image_set
from projects.services.pages import landing_page_create, landing_page_publish
from projects.services.prototypes import prototype_generate
from tests.browser import browser_page_fixture, chromium_browser_fixture, watch  # noqa: F401 - the fixtures
from tests.factories import ProjectFactory, UserFactory

SHOTS = Path("/tmp/shots-d2")
VIEWPORTS = (("phone-375", {"width": 375, "height": 812}), ("desktop-1280", {"width": 1280, "height": 800}))


def _logo() -> SimpleUploadedFile:
    image = Image.new("RGBA", (480, 120), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 10, 100, 110), radius=24, fill=(15, 118, 110, 255))
    draw.ellipse((28, 38, 72, 82), fill=(255, 255, 255, 255))
    draw.rectangle((120, 45, 440, 75), fill=(23, 32, 51, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return SimpleUploadedFile("logo.png", out.getvalue())


def _hero() -> SimpleUploadedFile:
    width, height = 1600, 1000
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / height
        draw.line([(0, y), (width, y)], fill=(round(20 + 40 * t), round(110 + 60 * t), round(100 + 40 * t)))
    for i, (x, y, r) in enumerate(((400, 500, 260), (1050, 420, 320), (1300, 820, 180))):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(240, 250 - 20 * i, 235))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return SimpleUploadedFile("hero.jpg", out.getvalue())


@pytest.mark.django_db(transaction=True)
def test_the_themed_page_with_logo_and_hero_in_a_browser(live_server, browser_page, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    project = ProjectFactory(
        owner=UserFactory(),
        name="Leafwise",
        idea_description=(
            "Never kill another houseplant. A soil sensor tells your phone when each plant needs water, "
            "light or food, and reminds you before it wilts."
        ),
        target_audience="busy plant owners",
    )
    prototype_generate(project=project)
    page = landing_page_create(project=project, slug="leafwise")
    LandingPage.objects.filter(pk=page.pk).update(accent_color="#0f766e", font_pairing="classic")
    page = page_image_set(page=page, kind="logo", upload=_logo())
    page = page_image_set(page=page, kind="hero", upload=_hero())
    landing_page_publish(page=page)

    seen = watch(browser_page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, viewport in VIEWPORTS:
        browser_page.set_viewport_size(viewport)
        for path, shot in (("/p/leafwise/", "landing"), ("/p/leafwise/privacy", "privacy")):
            browser_page.goto(f"{live_server.url}{path}")
            browser_page.wait_for_load_state("load")
            images = browser_page.eval_on_selector_all(
                "img", "els => els.map(e => ({src: e.currentSrc, ok: e.complete && e.naturalWidth > 0}))"
            )
            assert images and all(i["ok"] for i in images), images
            assert browser_page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
            browser_page.screenshot(path=str(SHOTS / f"{shot}-{name}.png"), full_page=True)
        browser_page.goto(f"{live_server.url}/p/leafwise/")
        button = browser_page.eval_on_selector(".hero a.button", "e => getComputedStyle(e).backgroundColor")
        assert button == "rgb(15, 118, 110)"  # the page's accent, from its theme stylesheet
        heading = browser_page.eval_on_selector("h1", "e => getComputedStyle(e).fontFamily")
        assert "Georgia" in heading or "Palatino" in heading  # the classic pairing: serif headings
        # The hero image keeps its aspect ratio, so nothing below it moved while it loaded.
        box = browser_page.eval_on_selector(".hero-image", "e => [e.clientWidth, e.clientHeight]")
        assert abs(box[0] / box[1] - 1600 / 1000) < 0.02, box
        if name == "phone-375":
            cta = browser_page.eval_on_selector(".hero a.button", "e => e.getBoundingClientRect().bottom")
            assert cta <= viewport["height"]  # the call to action is in the first screen, logo and all
    assert seen.console_errors == [] and seen.csp_violations == [] and seen.page_errors == [], seen
