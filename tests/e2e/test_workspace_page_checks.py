"""The page checks the workspace's browser tests rely on (tests/browser.py) catch what they are
for: axe-core fails a page with a serious violation and passes a clean one, under the platform's
own CSP and without causing a CSP violation itself; the keyboard check fails a control Tab cannot
reach, one reached out of order and one whose focus is invisible. Then the existing founder and
staff pages are held to both.

The small pages are served by the browser itself (`page.route` answers a URL of the live
server), so no route exists for them in the application."""

import re

import pytest

from projects.models import LandingPage
from tests.browser import (  # noqa: F401 - the fixtures
    assert_axe_clean,
    assert_keyboard_reachable,
    assert_no_errors,
    axe_missing,
    axe_path,
    axe_violations,
    browser_page_fixture,
    chromium_browser_fixture,
    keyboard_controls,
    tab_through,
    tab_to,
    watch,
)
from tests.factories import DEFAULT_PASSWORD, ProjectFactory, UserFactory, generate_and_publish

pytestmark = pytest.mark.django_db(transaction=True)

CLEAN = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Clean</title>
<link rel="stylesheet" href="/__checks__/page.css"></head>
<body><main><h1>Clean page</h1>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="A dot">
<form><label for="email">Email</label><input id="email" name="email" type="email">
<button type="submit">Join</button></form>
<a href="/elsewhere">Read more</a></main></body></html>"""

# An image without a text alternative (axe's image-alt: critical) and a button with no name
# (button-name: critical).
BROKEN = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Broken</title></head>
<body><main><h1>Broken page</h1>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<button type="button"></button></main></body></html>"""

FOCUS_CSS = "button:focus, a:focus, input:focus { outline: 3px solid #1d4ed8; outline-offset: 2px; }"
NO_FOCUS_CSS = "*:focus, *:focus-visible { outline: none; box-shadow: none; }"


def _serve(page, url: str, html: str, *, policy: str | None, css: str = FOCUS_CSS) -> None:
    """Answer `url` with `html` (under `policy` when given) and /__checks__/page.css with `css`."""
    headers = {"Content-Security-Policy": policy} if policy else {}
    page.route(url, lambda route: route.fulfill(status=200, content_type="text/html", body=html, headers=headers))
    origin = re.match(r"https?://[^/]+", url)[0]
    page.route(
        f"{origin}/__checks__/page.css", lambda route: route.fulfill(status=200, content_type="text/css", body=css)
    )


def _policy(page, base: str) -> str:
    """The Content-Security-Policy the platform sends with its pages."""
    return page.request.get(f"{base}/accounts/login/").headers["content-security-policy"]


def _sign_in(page, base: str, email: str, then: str) -> None:
    page.goto(f"{base}/accounts/login/?next={then}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}{then}")


# --- axe --------------------------------------------------------------------------------------


def test_axe_fails_a_page_with_serious_violations_naming_rule_and_element(live_server, browser_page):
    page = browser_page
    url = f"{live_server.url}/__checks__/broken"
    _serve(page, url, BROKEN, policy=_policy(page, live_server.url))
    page.goto(url)
    with pytest.raises(AssertionError) as failure:
        assert_axe_clean(page)
    message = str(failure.value)
    assert "image-alt (critical)" in message
    assert "button-name (critical)" in message
    assert '["img"]' in message  # the target selector
    assert "dequeuniversity.com/rules/axe/" in message  # the rule's help page
    # Running axe under the platform's CSP broke no rule of it.
    assert_no_errors(page)


def test_axe_passes_a_clean_page_under_the_platforms_csp(live_server, browser_page):
    page = browser_page
    url = f"{live_server.url}/__checks__/clean"
    _serve(page, url, CLEAN, policy=_policy(page, live_server.url))
    page.goto(url)
    assert assert_axe_clean(page) == []
    assert_no_errors(page)


def test_axe_context_limits_the_check_to_part_of_the_page(live_server, browser_page):
    page = browser_page
    url = f"{live_server.url}/__checks__/part"
    html = BROKEN.replace("<main>", '<main><section id="fine"><p>Nothing wrong here.</p></section>')
    _serve(page, url, html, policy=None)
    page.goto(url)
    assert_axe_clean(page, context="#fine")
    assert {v["id"] for v in axe_violations(page, context={"exclude": [["#fine"]]})} >= {"image-alt", "button-name"}


def test_axe_looks_inside_frames_and_gets_past_a_sandboxed_one(live_server, browser_page):
    page = browser_page
    base = live_server.url
    _serve(page, f"{base}/__checks__/framed", BROKEN, policy=None)
    _serve(page, f"{base}/__checks__/sandboxed", CLEAN, policy=None)
    outer = CLEAN.replace(
        "</main>",
        '<iframe title="Broken" src="/__checks__/framed"></iframe>'
        '<iframe title="Sandboxed" sandbox="allow-same-origin" src="/__checks__/sandboxed"></iframe></main>',
    )
    _serve(page, f"{base}/__checks__/outer", outer, policy=None)
    page.goto(f"{base}/__checks__/outer")
    found = {v["id"] for v in axe_violations(page)}
    assert {"image-alt", "button-name"} <= found
    # Nothing was evaluated in the sandboxed frame: Chromium would log that as a blocked script.
    assert_no_errors(page)


# --- keyboard ---------------------------------------------------------------------------------


def test_keyboard_check_passes_controls_reached_in_order_with_a_visible_ring(live_server, browser_page):
    page = browser_page
    _serve(page, f"{live_server.url}/__checks__/clean", CLEAN, policy=None)
    page.goto(f"{live_server.url}/__checks__/clean")
    stops = assert_keyboard_reachable(
        page, ["#email", "button[type=submit]", page.get_by_role("link", name="Read more")]
    )
    assert [s.tag for s in stops] == ["input#email[name=email]", "button", "a"]


def test_keyboard_check_fails_a_control_tab_never_reaches(live_server, browser_page):
    page = browser_page
    html = CLEAN.replace('<a href="/elsewhere">Read more</a>', '<span class="fake" role="link">Read more</span>')
    _serve(page, f"{live_server.url}/__checks__/unreachable", html, policy=None)
    page.goto(f"{live_server.url}/__checks__/unreachable")
    with pytest.raises(AssertionError, match=r"Tab never reached \['span.fake'\]"):
        assert_keyboard_reachable(page, ["#email", "span.fake"])


def test_keyboard_check_fails_controls_out_of_order(live_server, browser_page):
    page = browser_page
    _serve(page, f"{live_server.url}/__checks__/order", CLEAN, policy=None)
    page.goto(f"{live_server.url}/__checks__/order")
    with pytest.raises(AssertionError, match="out of order"):
        assert_keyboard_reachable(page, ["a[href='/elsewhere']", "#email"])


def test_keyboard_check_refuses_a_positive_tabindex(live_server, browser_page):
    page = browser_page
    html = CLEAN.replace('<a href="/elsewhere">', '<a href="/elsewhere" tabindex="1">')
    _serve(page, f"{live_server.url}/__checks__/jump", html, policy=None)
    page.goto(f"{live_server.url}/__checks__/jump")
    with pytest.raises(AssertionError, match="positive tabindex"):
        assert_keyboard_reachable(page, ["#email"])


def test_keyboard_check_fails_a_focus_without_a_visible_indicator(live_server, browser_page):
    page = browser_page
    _serve(page, f"{live_server.url}/__checks__/hidden-focus", CLEAN, policy=None, css=NO_FOCUS_CSS)
    page.goto(f"{live_server.url}/__checks__/hidden-focus")
    with pytest.raises(AssertionError, match="focus is not visible"):
        assert_keyboard_reachable(page, ["#email"])
    stops, _ = tab_through(page)
    assert stops and not any(s.indicator for s in stops)


def test_keyboard_check_accepts_the_browsers_own_focus_ring(live_server, browser_page):
    page = browser_page
    _serve(page, f"{live_server.url}/__checks__/default-ring", CLEAN, policy=None, css="")
    page.goto(f"{live_server.url}/__checks__/default-ring")
    assert_keyboard_reachable(page, ["#email", "button[type=submit]"])


# --- the existing pages -----------------------------------------------------------------------


def test_the_sign_in_page_is_accessible_and_works_from_the_keyboard(live_server, browser_page):
    page = browser_page
    founder = UserFactory()
    page.goto(f"{live_server.url}/accounts/login/")
    assert_axe_clean(page)
    assert_keyboard_reachable(page, ["#id_username", "#id_password", "main button[type=submit]"])
    # Keyboard alone: type into the focused fields and press Enter.
    page.focus("#id_username")
    page.keyboard.type(founder.email)
    page.keyboard.press("Tab")
    page.keyboard.type(DEFAULT_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"^(?!.*/accounts/login/).*$"))
    assert_no_errors(page)


@pytest.mark.parametrize("width", [1280, 375])
def test_the_report_page_is_accessible(live_server, chromium_browser, width):
    founder = UserFactory()
    project = ProjectFactory(owner=founder, name="Plant Pal")
    generate_and_publish(project, slug=f"a11y-report-{width}")
    assert LandingPage.objects.filter(project=project).exists()
    context = chromium_browser.new_context(viewport={"width": width, "height": 800})
    try:
        page = context.new_page()
        watch(page)
        _sign_in(page, live_server.url, founder.email, f"/projects/{project.pk}/report")
        assert_axe_clean(page)
        stops, _ = tab_through(page)
        assert stops, "nothing on the report page takes focus"
        assert_no_errors(page)
    finally:
        context.close()


def test_the_staff_monitor_is_accessible(live_server, browser_page):
    page = browser_page
    staff = UserFactory(is_staff=True)
    _sign_in(page, live_server.url, staff.email, "/performance-monitor/")
    assert_axe_clean(page)
    assert_no_errors(page)


@pytest.mark.django_db(transaction=False)
def test_axe_is_looked_for_where_the_makefile_pins_it(settings, tmp_path):
    (tmp_path / "Makefile").write_text("AXE_VERSION := 9.8.7\n")
    settings.BASE_DIR = tmp_path
    assert axe_path() == tmp_path / ".cache/axe-core/9.8.7/axe.min.js"
    assert axe_missing() == "axe-core is not installed at .cache/axe-core/9.8.7/axe.min.js (make browser-deps)"
    axe_path().parent.mkdir(parents=True)
    axe_path().write_text("/* axe */")
    assert axe_missing() is None


def test_keyboard_controls_are_the_ones_a_person_can_tab_to(live_server, browser_page):
    page = browser_page
    html = CLEAN.replace(
        "</form>",
        '<fieldset><legend>Plan</legend><input type="radio" name="plan" id="a" aria-label="A">'
        '<input type="radio" name="plan" id="b" aria-label="B" checked></fieldset>'
        '<input type="hidden" name="token"><button type="button" disabled>Off</button>'
        '<details><summary>More</summary><a href="/inside">Hidden until opened</a></details></form>',
    )
    _serve(page, f"{live_server.url}/__checks__/controls", html, policy=None)
    page.goto(f"{live_server.url}/__checks__/controls")
    described = [c.evaluate("el => el.id || el.textContent") for c in keyboard_controls(page)]
    assert described == ["email", "Join", "b", "More", "Read more"]
    assert_keyboard_reachable(page, keyboard_controls(page))


def test_tab_to_moves_focus_to_a_control_or_says_it_cannot(live_server, browser_page):
    page = browser_page
    html = CLEAN.replace("</main>", '<span class="fake" role="button">Not focusable</span></main>')
    _serve(page, f"{live_server.url}/__checks__/tab-to", html, policy=None)
    page.goto(f"{live_server.url}/__checks__/tab-to")
    tab_to(page, page.get_by_role("button", name="Join"))
    assert page.evaluate("document.activeElement.textContent") == "Join"
    with pytest.raises(AssertionError, match="never reached"):
        tab_to(page, "span.fake", limit=10)
