"""Every workspace page in headless Chromium, as the person it is for (the owner of the objects
in its URL, or a visitor for the sign-in and sign-up pages), at a desktop's and a phone's width:
no serious or critical axe-core violation, no console error or CSP violation, and, at the
desktop's width, usable with the keyboard alone: Tab from the top of the page reaches every
control of the main content in order, each with a visible focus indicator. And one stretch of
the founder's work done with the keyboard only: a project created and its copy generated.

The pages are the GET rows of the permission matrix (tests/projects/workspace/
test_permissions_matrix.py), so a page added there is checked here too; its objects are the
matrix's `world`. Downloads and fragments (CSV, SVG, htmx pieces) are not pages.
"""

import re

import pytest
from django.conf import settings
from django.test import Client

from tests.browser import (  # noqa: F401 - the fixtures
    assert_axe_clean,
    assert_keyboard_reachable,
    assert_no_errors,
    chromium_browser_fixture,
    keyboard_controls,
    tab_to,
    watch,
)
from tests.projects.workspace.test_permissions_matrix import (  # noqa: F401 - the fixture
    MATRIX,
    ROUTES,
    Kind,
    Row,
    url_for,
    world_fixture,
)

pytestmark = pytest.mark.django_db(transaction=True)

# GET rows that answer with something other than a page of the workspace.
NOT_PAGES = {
    "account-export": "a download (JSON, or CSV files in a zip)",
    "signup-export": "a CSV download",
    "page-qr": "an SVG image",
    "prototype-job": "an htmx fragment polled by the prototype page",
    "page-preview-frame": "the public page's look inside the editor's preview (checked with the editor)",
    "password_reset_confirm": "with a made-up token: the same page as account-confirm's bad link",
}
WIDTHS = {"desktop": 1280, "phone": 375}


def _pages() -> list:
    cases = []
    for row in MATRIX:
        if row.method != "get" or row.name in NOT_PAGES or "format=" in row.query:
            continue
        for device in WIDTHS:
            cases.append(pytest.param(row, device, id=f"{row.id}-{device}"))
    return cases


def _signed_in(context, base: str, user) -> None:
    """The browser carries a session of `user`, as after signing in."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base}])


@pytest.fixture(autouse=True)
def _many_pages_from_one_address(settings):
    settings.ERROR_BURST_TO_BLOCK = 10**6


@pytest.mark.parametrize(("row", "device"), _pages())
def test_the_page_is_accessible_and_usable_from_the_keyboard(live_server, chromium_browser, world, row: Row, device):
    base = live_server.url
    width = WIDTHS[device]
    context = chromium_browser.new_context(viewport={"width": width, "height": 800}, is_mobile=device == "phone")
    context.set_default_timeout(10_000)
    try:
        if row.kind is not Kind.PUBLIC:
            _signed_in(context, base, world.owner)
        page = context.new_page()
        watch(page)
        response = page.goto(base + url_for(row, world), wait_until="load")
        assert response is not None, page.url
        # A made-up emailed link answers "this link does not work" with its 400 on purpose.
        expected = 400 if response.status == 400 and 400 in row.public and row.kind is Kind.PUBLIC else None
        assert response.ok or expected, f"{page.url}: {response.status}"
        assert_no_errors(page, expected_status=expected)
        assert_axe_clean(page)
        if device == "desktop":
            assert_keyboard_reachable(page, keyboard_controls(page))
        assert_no_errors(page, expected_status=expected)
    finally:
        context.close()


def test_a_founder_creates_a_project_and_its_copy_with_the_keyboard_alone(live_server, chromium_browser, world):
    """From the project list to the generated copy: Tab to move, type to fill, Enter to follow a
    link or press a button, a letter to choose in a list; no pointer."""
    base = live_server.url
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    try:
        _signed_in(context, base, world.other)
        page = context.new_page()
        watch(page)
        page.goto(f"{base}/projects/")
        tab_to(page, page.get_by_role("main").get_by_role("link", name=re.compile("(New|Create).*project")).first)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/projects/new")
        tab_to(page, page.get_by_label("Name", exact=True))
        page.keyboard.type("Keyboard Club")
        page.keyboard.press("Tab")  # the idea
        page.keyboard.type("A club where people who never touch a mouse swap shortcuts and tools every week.")
        tab_to(page, page.get_by_label("Business model"))
        page.keyboard.type("Course")  # a closed list selects the option its typed name starts
        page.keyboard.press("Tab")  # the price
        page.keyboard.type("15")
        tab_to(page, page.get_by_role("button", name="Create the project"))
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(rf"^{re.escape(base)}/projects/\d+/$"))
        project = world.other.projects.get(name="Keyboard Club")
        assert (project.business_model, str(project.price_point)) == ("course", "15.00")
        tab_to(page, page.get_by_role("button", name="Generate your copy"))
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/prototype/"))
        assert project.prototypes.count() == 1
        assert_no_errors(page)
    finally:
        context.close()
