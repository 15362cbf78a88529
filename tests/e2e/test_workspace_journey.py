"""The workspace's acceptance journey in headless Chromium, at a desktop's width (1280 px) and a
phone's (375 px), by clicking and typing only: a new founder signs up, confirms the address from
the emailed link, creates a project, generates the copy and edits it, creates the landing page,
uploads a logo and publishes; a visitor, in a browser of their own, opens the public page and
signs up; the founder finds that signup in their list and in the next daily digest.

On every page, the founder's and the visitor's: no console error, no page error, no CSP
violation, and no serious or critical axe-core violation. A screenshot of each page is kept in
test-artifacts/workspace-journey/<device>/ (git-ignored), numbered in the journey's order.
"""

import itertools
import re
import shutil
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.utils import timezone
from PIL import Image

from projects.forms.public import MIN_FILL_SECONDS
from projects.models import LandingPage, Signup
from projects.services.digests import signup_digests_send
from security.models import User
from tests.browser import (  # noqa: F401 - the fixtures
    assert_axe_clean,
    assert_no_errors,
    chromium_browser_fixture,
    watch,
)

pytestmark = pytest.mark.django_db(transaction=True)

ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts" / "workspace-journey"
DEVICES = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True},
}
# The visitor's browser is an ordinary one: a headless browser's own user agent is a bot's, and a
# bot's signup is kept out of the founder's list and digest (projects.events.visit.is_bot).
VISITOR_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)

FOUNDER_EMAIL = "ada@example.org"
FOUNDER_PASSWORD = "plant-sitter-ada-2026"
VISITOR_EMAIL = "visitor@example.net"
HEADLINE = "Your plants, watered while you travel"


class Journey:
    """One person's browser through the journey: each page checked and photographed."""

    def __init__(self, browser, device: str, who: str, shots: "itertools.count[int]", **options) -> None:
        self.context = browser.new_context(**DEVICES[device], **options)
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        watch(self.page)
        self.folder = ARTIFACTS / device
        self.folder.mkdir(parents=True, exist_ok=True)
        self.who = who
        self.shots = shots  # shared by the founder's and the visitor's browsers: the journey's order

    def check(self, step: str) -> None:
        """The page as it is now: no error of any kind so far, axe-clean, photographed."""
        self.page.wait_for_load_state("load")
        assert_no_errors(self.page)
        assert_axe_clean(self.page)
        path = self.folder / f"{next(self.shots):02d}-{self.who}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)

    def close(self) -> None:
        self.context.close()


def _breadcrumbs(page):
    return page.get_by_role("navigation", name=re.compile("^Breadcrumbs?$"))


def _email_to(address: str, *, containing: str, timeout: float = 10.0):
    """The first captured email to `address` whose body contains `containing` (the platform may
    send it after its response, from a commit hook or a background job)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in mail.outbox:
            if address in message.to and containing in message.body:
                return message
        time.sleep(0.1)
    sent = [(m.to, m.subject) for m in mail.outbox]
    raise AssertionError(f"no email to {address} containing {containing!r}; sent: {sent}")


def _logo(tmp_path: Path) -> Path:
    path = tmp_path / "logo.png"
    image = Image.new("RGB", (96, 96), (37, 99, 235))
    image.paste((255, 255, 255), (24, 24, 72, 72))
    image.save(path, format="PNG")
    return path


@pytest.fixture(autouse=True)
def _served_here(settings, live_server):
    # The emails' links point at the platform's public address: this server.
    settings.PUBLIC_BASE_URL = live_server.url
    # Every request of the journey comes from 127.0.0.1, including the 4xx the browser makes on
    # the way (a favicon probe, say): the error burst must not block the machine half way.
    settings.ERROR_BURST_TO_BLOCK = 10**6


@pytest.mark.parametrize("device", list(DEVICES))
def test_a_new_founder_gets_a_signup_from_a_page_they_built_in_the_browser(
    live_server, chromium_browser, device, tmp_path
):
    base = live_server.url
    shutil.rmtree(ARTIFACTS / device, ignore_errors=True)  # this run's pictures only
    shots = itertools.count(1)
    founder = Journey(chromium_browser, device, "founder", shots)
    visitor = None
    try:
        page = founder.page

        # The home page, signed out: a short intro with the way in.
        page.goto(f"{base}/")
        founder.check("home")
        page.get_by_role("link", name="Create an account").first.click()

        # Sign up.
        page.wait_for_url(f"{base}/accounts/signup/")
        founder.check("signup")
        page.get_by_label("Email", exact=True).fill(FOUNDER_EMAIL)
        page.get_by_label("Name", exact=True).fill("Ada Founder")
        page.get_by_label("Password", exact=True).fill(FOUNDER_PASSWORD)
        page.get_by_role("button", name="Create my account").click()
        page.get_by_role("heading", name="Check your inbox").wait_for()
        founder.check("signup-sent")
        assert not User.objects.get(email=FOUNDER_EMAIL).email_confirmed

        # The emailed link, opened from the message: its page's button confirms the address and
        # signs in (opening the link alone changes nothing).
        message = _email_to(FOUNDER_EMAIL, containing="/accounts/confirm/")
        link = re.search(r"https?://\S+/accounts/confirm/\S+", message.body)[0]
        assert link.startswith(base), link
        page.goto(link)
        page.get_by_role("heading", name="Confirm your email address").wait_for()
        founder.check("confirm-email")
        assert not User.objects.get(email=FOUNDER_EMAIL).email_confirmed
        page.get_by_role("button", name="Confirm my email address").click()
        page.wait_for_url(f"{base}/projects/")
        assert User.objects.get(email=FOUNDER_EMAIL).email_confirmed
        founder.check("projects-empty")

        # A project.
        page.get_by_role("link", name=re.compile("Create (your first|a) project")).first.click()
        page.wait_for_url(f"{base}/projects/new")
        founder.check("project-new")
        page.get_by_label("Name", exact=True).fill("Plant Sitter")
        page.get_by_label("The idea").fill(
            "Neighbours water your plants while you travel, booked in two taps and paid by the visit."
        )
        page.get_by_label("Who it is for").fill("City renters who travel for work")
        page.get_by_label("Business model").select_option("service")
        page.get_by_label("Price", exact=True).fill("12")
        page.get_by_role("button", name="Create the project").click()
        page.wait_for_url(re.compile(rf"^{re.escape(base)}/projects/\d+/$"))
        project_url = page.url
        founder.check("project")

        # The copy: generated, then edited.
        page.get_by_role("button", name="Generate your copy").click()
        page.wait_for_url(re.compile(r"/prototype/"))
        page.get_by_text("Version 1 is ready").wait_for()
        founder.check("prototype")
        page.get_by_role("link", name="Edit", exact=True).first.click()
        page.wait_for_url(re.compile(r"/prototype/1/edit$"))
        founder.check("prototype-edit")
        page.get_by_label("Headline", exact=True).fill(HEADLINE)
        page.get_by_role("button", name=re.compile("^Save")).click()
        page.get_by_text(HEADLINE).first.wait_for()
        founder.check("prototype-edited")

        # The landing page, from the copy: the editor.
        _breadcrumbs(page).get_by_role("link", name="Plant Sitter").click()
        page.wait_for_url(project_url)
        page.get_by_role("button", name="Create the landing page").click()
        page.wait_for_url(re.compile(r"/pages/\d+/$"))
        editor_url = page.url
        founder.check("page-editor")
        assert page.get_by_label("Headline", exact=True).input_value() == HEADLINE

        # A logo: a real PNG, checked and stored by the platform.
        page.get_by_label("Logo", exact=True).set_input_files(str(_logo(tmp_path)))
        page.get_by_role("button", name="Upload logo").click()
        page.wait_for_url(re.compile(rf"^{re.escape(editor_url)}"))
        page.get_by_role("img", name="The current logo").wait_for()
        landing = LandingPage.objects.get(project__owner__email=FOUNDER_EMAIL)
        assert landing.logo and landing.logo_width == 96
        founder.check("page-logo")

        # Publish.
        page.get_by_role("button", name="Publish", exact=True).click()
        public_link = page.locator("a[href*='/p/']").first
        public_link.wait_for()
        public_url = public_link.get_attribute("href")
        assert public_url and f"/p/{landing.slug}/" in public_url, public_url
        founder.check("page-published")

        # A visitor, in a browser of their own, signs up on the public page.
        visitor = Journey(chromium_browser, device, "visitor", shots, user_agent=VISITOR_AGENT)
        public = visitor.page
        public.goto(public_url if public_url.startswith("http") else f"{base}{public_url}")
        public.get_by_role("heading", name=HEADLINE).wait_for()
        assert public.locator("img[src*='/pages/']").count() >= 1  # the logo is on the page
        visitor.check("public-page")
        time.sleep(MIN_FILL_SECONDS)  # a person takes a moment to read and type
        public.get_by_label("Email", exact=True).fill(VISITOR_EMAIL)
        public.get_by_label(re.compile("Email me about")).check()
        public.locator("form[action$='/signup#id_email'] button[type=submit]").click()
        public.get_by_text("Thank you").first.wait_for()
        visitor.check("public-thanks")
        signup = Signup.objects.get(email=VISITOR_EMAIL)
        assert signup.traffic == "human"

        # The founder sees it in their list...
        _breadcrumbs(page).get_by_role("link", name="Plant Sitter").click()
        page.wait_for_url(project_url)
        page.get_by_role("navigation", name="Project").get_by_role("link", name="Signups").click()
        page.wait_for_url(re.compile(r"/signups/"))
        page.get_by_text(VISITOR_EMAIL).wait_for()
        founder.check("signups")

        # ...and in the daily digest of the day.
        today = timezone.now().date().isoformat()
        result = signup_digests_send(day=today)
        assert result.sent >= 1, result
        digest = _email_to(FOUNDER_EMAIL, containing="Plant Sitter: 1 signup")
        assert f"/projects/{landing.project_id}/signups/" in digest.body  # the link to the list
    finally:
        founder.close()
        if visitor is not None:
            visitor.close()
