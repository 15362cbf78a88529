"""Headless Chromium for tests that check pages in a real browser.

Debian's `chromium` (installed by `make browser-deps`) is driven by the Python `playwright`
package's own driver; the browser build Playwright would download is never used. A browser test
is skipped with the reason when either is missing, and fails under CI=true (`tests.services`).

A test module (or tests/conftest.py, for all) imports the fixtures, `from tests.browser import
browser_page_fixture, chromium_browser_fixture  # noqa: F401`, takes `browser_page` and calls
`assert_no_script_ran(browser_page, url)`, or the page checks: `assert_axe_clean(page)` (axe-core,
fetched by `make browser-deps`, finds no serious or critical WCAG 2.1 A/AA violation),
`assert_keyboard_reachable(page, [...])` (Tab reaches the controls in order, each with a visible
focus ring) and `assert_no_errors(page)` (no console error, page error or CSP violation).

The browser is one per test run, however many modules import the fixtures; each test gets a
fresh context (cookies, storage) and page. Requests to any host other than this machine are
aborted.

Playwright's sync API keeps an asyncio loop marked as running in the test thread for as long as
its driver runs, and Django refuses database access while any loop runs. So from the first
browser test to the end of the run `DJANGO_ALLOW_ASYNC_UNSAFE` is set, as Playwright's and
pytest-django's users do (microsoft/playwright-pytest#29); this code base has no async code
whose safety that check would guard.
"""

import importlib.util
import json
import os
import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from tests.services import require

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Dialog, Frame, Locator, Page, Route

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# How long a page gets after load for late handlers (media errors, SVG onbegin, marquee onstart)
# to fire, and after the provocations (their handlers run while the events are dispatched).
SETTLE_AFTER_LOAD_MS = 150
SETTLE_AFTER_PROVOKING_MS = 50
# Real pointer moves per page at most: Chromium takes one frame (~17 ms) for each, so the main
# content's elements come first. Every element, hidden ones included, also gets synthetic
# pointer and focus events, which run inline handlers just as real ones do.
MAX_POINTER_MOVES = 40


def chromium_missing() -> str | None:
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is not installed (make browser-deps)"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (make test installs it from requirements-dev.lock)"
    return None


class _Shared:
    """The one Playwright driver and browser of this test run, started by the first user."""

    playwright = None
    browser: "Browser | None" = None
    users = 0
    saved_async_unsafe: str | None = None

    @classmethod
    def acquire(cls) -> "Browser":
        if cls.browser is None:
            from playwright.sync_api import sync_playwright

            cls.saved_async_unsafe = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
            cls.playwright = sync_playwright().start()
            # launch() gives the browser a fresh temporary user-data dir, removed on close.
            cls.browser = cls.playwright.chromium.launch(executable_path=CHROMIUM, args=list(LAUNCH_ARGS))
        cls.users += 1
        return cls.browser

    @classmethod
    def release(cls) -> None:
        cls.users -= 1
        if cls.users or cls.browser is None:
            return
        try:
            cls.browser.close()
            cls.playwright.stop()
        finally:
            cls.browser = cls.playwright = None
            if cls.saved_async_unsafe is None:
                os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
            else:
                os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = cls.saved_async_unsafe


@pytest.fixture(scope="session", name="chromium_browser")
def chromium_browser_fixture():
    require(chromium_missing())
    browser = _Shared.acquire()
    yield browser
    _Shared.release()


def _local_only(route: "Route") -> None:
    parts = urlsplit(route.request.url)
    if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOCAL_HOSTS:
        route.abort()
    else:
        route.continue_()


@pytest.fixture(name="browser_page")
def browser_page_fixture(chromium_browser):
    """A page in a fresh browser context, watched for dialogs and console errors from the start."""
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    context.route("**/*", _local_only)
    page = context.new_page()
    watch(page)
    yield page
    context.close()


# --- Seeing whether script ran ---------------------------------------------------------------


@dataclass
class ScriptWatch:
    """What a page did that only running script (or a blocked attempt) shows."""

    dialogs: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)


_watches: "weakref.WeakKeyDictionary[Page, ScriptWatch]" = weakref.WeakKeyDictionary()


def watch(page: "Page") -> ScriptWatch:
    """Record the page's dialogs (dismissing them) and console errors; idempotent.

    Call before the first navigation so nothing fired during load is missed (`browser_page`
    does)."""
    if page in _watches:
        return _watches[page]
    seen = _watches[page] = ScriptWatch()

    def on_dialog(dialog: "Dialog") -> None:
        seen.dialogs.append(f"{dialog.type}({dialog.message!r}) on {dialog.page.url if dialog.page else '?'}")
        dialog.dismiss()

    def on_console(message) -> None:
        if message.type != "error":
            return
        text = message.text
        (seen.csp_violations if "Content Security Policy" in text else seen.console_errors).append(text)

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.page_errors.append(str(error)))
    return seen


_HOVER_POINTS = """(max) => {
  const main = document.querySelectorAll('main *, [role=main] *, #content *');
  const points = new Set();
  for (const el of [...main, ...document.querySelectorAll('body *')]) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.height > 0) {
      points.add(`${Math.round(r.left + r.width / 2)},${Math.round(r.top + r.height / 2)}`);
    }
    if (points.size >= max) break;
  }
  return [...points].map(p => p.split(',').map(Number));
}"""

# Synthetic pointer and focus events on every element, hidden ones included, and focus() on
# everything focusable: inline handlers run on dispatched events as on real ones.
_PROVOKE = """() => {
  const kinds = ['pointerover', 'pointerenter', 'mouseover', 'mouseenter', 'mousemove', 'focus', 'focusin'];
  for (const el of document.querySelectorAll('*')) {
    for (const kind of kinds) {
      const Event_ = kind.startsWith('focus') ? FocusEvent : MouseEvent;
      el.dispatchEvent(new Event_(kind, {bubbles: !kind.endsWith('enter') && kind !== 'focus'}));
    }
  }
  const focusable = 'input, select, textarea, button, a[href], [tabindex], [contenteditable]';
  for (const el of document.querySelectorAll(focusable)) el.focus();
  document.activeElement && document.activeElement.blur && document.activeElement.blur();
}"""

_EXECUTED = """() => ({
  xss: typeof window.__xss === 'undefined' ? null : String(window.__xss),
  title: document.title,
})"""


def _provoke(page: "Page") -> None:
    """Move the real pointer over the elements (main content first) and fire pointer and focus
    events at every element."""
    # A viewport as tall as the document puts every element under the pointer without scrolling.
    height = page.evaluate("() => Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)")
    width = page.viewport_size["width"] if page.viewport_size else 1280
    page.set_viewport_size({"width": width, "height": min(max(int(height), 800), 16_000)})
    for x, y in page.evaluate(_HOVER_POINTS, MAX_POINTER_MOVES):
        page.mouse.move(x, y)
    page.evaluate(_PROVOKE)


def assert_no_script_ran(page: "Page", url: str | None = None, *, provoke: bool = True) -> ScriptWatch:
    """Open `url` (or check the page as it is) and assert no injected script ran on it.

    Script that ran shows as a dialog (alert, confirm, prompt), `window.__xss` set, or
    `document.title == 'xss'`, checked after load and again after the elements were hovered and
    focused (see `_provoke`); injected markup that navigates (a meta refresh) shows as the page
    having moved. CSP violations in the console are fine (the policy blocked something): they
    are printed for diagnosis, with other console and page errors."""
    seen = watch(page)
    if url is not None:
        page.goto(url, wait_until="load")
    loaded = page.url
    page.wait_for_timeout(SETTLE_AFTER_LOAD_MS)
    states = [("after load", page.evaluate(_EXECUTED))]
    if provoke:
        _provoke(page)
        page.wait_for_timeout(SETTLE_AFTER_PROVOKING_MS)
        states.append(("after hover and focus", page.evaluate(_EXECUTED)))
    for kind, lines in (
        ("CSP violations (blocked, fine)", seen.csp_violations),
        ("console errors", seen.console_errors),
        ("page errors", seen.page_errors),
    ):
        if lines:
            print(f"{page.url}: {len(lines)} {kind}:", *(f"  {line[:300]}" for line in lines), sep="\n")  # noqa: T201
    problems = [f"dialog {d}" for d in seen.dialogs]
    if page.url != loaded:
        problems.append(f"the page moved to {page.url}")
    for when, state in states:
        if state["xss"] is not None:
            problems.append(f"window.__xss = {state['xss']} {when}")
        if state["title"] == "xss":
            problems.append(f"document.title = 'xss' {when}")
    assert not problems, f"script ran on {page.url}: " + "; ".join(problems)
    return seen


# Markup that runs script only when clicked or submitted (so never fires on its own in the
# check above): inline handlers, and script-capable URLs in attributes that navigate or load.
_UNSAFE_MARKUP = """() => {
  const urlAttrs = ['href', 'src', 'action', 'formaction', 'data', 'xlink:href', 'background', 'poster'];
  const found = [];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      const value = attr.value.replace(/[\\u0000-\\u0020]/g, '').toLowerCase();
      if (name.startsWith('on') || name === 'srcdoc'
          || (urlAttrs.includes(name) && /^(javascript:|vbscript:|data:text\\/html|data:image\\/svg)/.test(value))) {
        found.push(`<${el.localName} ${attr.name}="${attr.value.slice(0, 80)}">`);
      }
    }
  }
  return found;
}"""


def unsafe_markup(page: "Page") -> list[str]:
    """Elements on the page with an inline event handler or a script-capable URL."""
    return page.evaluate(_UNSAFE_MARKUP)


def assert_no_errors(page: "Page", *, expected_status: int | None = None) -> None:
    """Nothing went wrong on the page since `watch` started: no console error (a failed
    resource load included), no uncaught exception, no CSP violation.

    `expected_status`: the page itself answers with this 4xx on purpose (a link that does not
    work), which Chromium logs as a failed load; that line alone is not counted."""
    seen = watch(page)
    by_design = f"the server responded with a status of {expected_status}" if expected_status else None
    problems = [
        *(f"CSP violation: {line[:300]}" for line in seen.csp_violations),
        *(f"console error: {line[:300]}" for line in seen.console_errors if not (by_design and by_design in line)),
        *(f"page error: {line[:300]}" for line in seen.page_errors),
    ]
    assert not problems, f"{page.url}:\n  " + "\n  ".join(problems)


# --- Accessibility: axe-core ------------------------------------------------------------------

# The WCAG 2.0 and 2.1 A and AA rules; a serious or critical violation of any fails the check.
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
AXE_FAILING_IMPACTS = frozenset({"serious", "critical"})
# How long axe waits for a frame's answer: every frame gets axe injected first (below), so an
# answer that does not come is a frame script cannot run in (a sandboxed one), not a slow one.
AXE_FRAME_WAIT_MS = 3_000


def axe_path() -> Path:
    """Where `make browser-deps` unpacks the axe-core version the Makefile pins (AXE_VERSION there
    is the one home of the pin)."""
    base = Path(settings.BASE_DIR)
    pinned = re.search(r"^AXE_VERSION\s*:=\s*(\S+)", (base / "Makefile").read_text(), re.MULTILINE)
    assert pinned, "the Makefile no longer pins AXE_VERSION"
    return base / ".cache" / "axe-core" / pinned[1] / "axe.min.js"


def axe_missing() -> str | None:
    if not axe_path().is_file():
        return f"axe-core is not installed at {axe_path().relative_to(settings.BASE_DIR)} (make browser-deps)"
    return None


_AXE_RUN = """async ([context, options]) => {
  const results = await axe.run(context === null ? document : context, options);
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary, html: n.html.slice(0, 200)})),
  }));
}"""


def _inject_axe(page: "Page") -> None:
    """Put axe into the page and each of its frames.

    Through the DevTools protocol (`evaluate`), not a <script> element: the platform's CSP has
    no 'unsafe-inline', so `page.add_script_tag` (an inline script) is blocked and shows up as
    the CSP violation the page checks look for, while an evaluation is not subject to the page's
    policy. Each frame needs its own copy for axe to look inside it; a frame script cannot run
    in (sandboxed without allow-scripts) is left out, and axe reports it as not tested."""
    from playwright.sync_api import Error as PlaywrightError

    source = axe_path().read_text()
    for frame in page.frames:
        if frame is not page.main_frame and _scriptless(frame):
            # An evaluation there still counts as script the sandbox blocked: Chromium logs a
            # console error, which the page checks would then blame on the page.
            continue
        try:
            if not frame.evaluate("typeof window.axe === 'object'"):
                frame.evaluate(source)
        except PlaywrightError:  # a frame gone meanwhile
            if frame is page.main_frame:
                raise


def _scriptless(frame: "Frame") -> bool:
    """A frame whose <iframe> is sandboxed without allow-scripts."""
    from playwright.sync_api import Error as PlaywrightError

    try:
        sandbox = frame.frame_element().get_attribute("sandbox")
    except PlaywrightError:  # detached meanwhile
        return True
    return sandbox is not None and "allow-scripts" not in sandbox.split()


def axe_violations(page: "Page", *, context: "str | dict[str, Any] | None" = None) -> list[dict[str, Any]]:
    """Every WCAG 2.1 A/AA violation axe finds on the page as it is now (all impacts).

    `context` is an axe context: a CSS selector ("main") or {"include": [...], "exclude": [...]}."""
    require(axe_missing())
    _inject_axe(page)
    options = {"runOnly": {"type": "tag", "values": list(AXE_TAGS)}, "frameWaitTime": AXE_FRAME_WAIT_MS}
    return page.evaluate(_AXE_RUN, [context, options])


def describe_violations(violations: Sequence[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"][:5]:
            summary = " ".join((node["summary"] or "").split())
            lines.append(f"    at {json.dumps(node['target'])}: {node['html']}")
            if summary:
                lines.append(f"       {summary[:300]}")
        if len(v["nodes"]) > 5:
            lines.append(f"    ... and {len(v['nodes']) - 5} more")
    return "\n".join(lines)


def assert_axe_clean(page: "Page", *, context: "str | dict[str, Any] | None" = None) -> list[dict[str, Any]]:
    """No serious or critical WCAG 2.1 A/AA violation on the page. Minor and moderate ones are
    printed, not failed, and all are returned."""
    violations = axe_violations(page, context=context)
    failing = [v for v in violations if v["impact"] in AXE_FAILING_IMPACTS]
    others = [v for v in violations if v["impact"] not in AXE_FAILING_IMPACTS]
    if others:
        print(f"{page.url}: axe, minor or moderate:\n{describe_violations(others)}")  # noqa: T201
    assert not failing, f"axe found serious or critical violations on {page.url}:\n{describe_violations(failing)}"
    return violations


# --- Keyboard ---------------------------------------------------------------------------------

# The styles a focus indicator is drawn with.
_FOCUS_PROPERTIES = (
    "outline-style",
    "outline-width",
    "outline-color",
    "outline-offset",
    "box-shadow",
    "border-top-color",
    "border-bottom-color",
    "border-top-width",
    "border-bottom-width",
    "background-color",
    "color",
    "text-decoration-line",
)
# The sequential focus navigation starting point: an element out of the tab order (tabindex -1)
# put first in <body> and focused, so the next Tab goes to the page's first focusable element
# whatever had focus before.
_TAB_FROM_TOP = """() => {
  document.getElementById('__tab-start')?.remove();
  const start = document.createElement('span');
  start.id = '__tab-start';
  start.tabIndex = -1;
  document.body.prepend(start);
  start.focus();
}"""
_POSITIVE_TABINDEX = """() => [...document.querySelectorAll('[tabindex]')]
  .filter(el => el.tabIndex > 0).map(el => el.outerHTML.slice(0, 80))"""
_STYLE_OF = """(el, props) => {
  const style = getComputedStyle(el);
  return Object.fromEntries(props.map(p => [p, style.getPropertyValue(p)]));
}"""
_ACTIVE = """(props) => {
  const el = document.activeElement;
  if (!el || el === document.body || el.id === '__tab-start') return null;
  const style = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  const name = (el.getAttribute('aria-label') || el.innerText || el.value || el.name || '').trim();
  return {
    tag: el.localName + (el.id ? '#' + el.id : '') + (el.name ? `[name=${el.name}]` : ''),
    name: name.slice(0, 40),
    visible: r.width > 0 && r.height > 0,
    frame: el.localName === 'iframe',
    style: Object.fromEntries(props.map(p => [p, style.getPropertyValue(p)])),
  };
}"""
# The controls a person reaches with Tab inside `root`, in document order: visible, enabled, not
# taken out of the order (tabindex -1), one per radio group (Tab enters a group once, at its
# checked radio; the arrow keys move within it).
_CONTROLS = """(root) => {
  const scope = document.querySelector(root) || document.body;
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]';
  const groups = new Set();
  const found = [];
  for (const el of scope.querySelectorAll(selector)) {
    if (el.disabled || el.tabIndex < 0 || el.closest('[inert], [aria-hidden=true]')) continue;
    // checkVisibility: not rendered (display: none, inside a closed <details>) or hidden.
    if (!el.checkVisibility({visibilityProperty: true, checkVisibilityCSS: true})) continue;
    if (el.type === 'radio' && el.name) {
      if (groups.has(el.name)) continue;
      const checked = scope.querySelector(`input[type=radio][name="${CSS.escape(el.name)}"]:checked`);
      if (checked && checked !== el) continue;
      groups.add(el.name);
    }
    found.push(el);
  }
  // Marked, so each can be named whatever the page (or the walk's own start) adds later.
  found.forEach((el, n) => el.setAttribute('data-tab-control', String(n)));
  return found.length;
}"""


def _has_outline(style: dict[str, str]) -> bool:
    width = re.match(r"[\d.]+", style["outline-width"])
    return style["outline-style"] not in ("none", "") and bool(width) and float(width[0]) > 0


def _focus_shows(focused: dict[str, str], resting: dict[str, str]) -> bool:
    """Whether the focused look differs visibly from the resting one: an outline (the browser's
    own ring included) or a box-shadow appears, or a border, background, colour or underline
    changes."""
    if _has_outline(focused) and focused != resting:
        return True
    if focused["box-shadow"] not in ("none", "") and focused["box-shadow"] != resting["box-shadow"]:
        return True
    return any(focused[p] != resting[p] for p in _FOCUS_PROPERTIES if not p.startswith(("outline", "box-shadow")))


@dataclass(frozen=True)
class TabStop:
    tag: str
    name: str
    visible: bool
    indicator: bool

    def __str__(self) -> str:
        return f"{self.tag} {self.name!r}" + ("" if self.visible else " (invisible)")


def _stop(active: dict[str, Any], resting: dict[str, str]) -> TabStop:
    # Focus inside a frame (the editor's live preview) is drawn by the frame's own page: the
    # <iframe> element the outer document sees as focused shows nothing of it.
    indicator = active["frame"] or _focus_shows(active["style"], resting)
    return TabStop(active["tag"], active["name"], active["visible"], indicator)


def tab_through(
    page: "Page", targets: "Sequence[Locator]" = (), *, limit: int = 200
) -> tuple[list[TabStop], list[int | None]]:
    """Press Tab from the top of the page until focus leaves it (or `limit` presses): the stops
    in order, and for each target the index of the first stop that was it (None: never reached).

    A stop's focus indicator is judged against the same element's look once focus has moved on
    from it; Tab presses that stay inside one element (the parts of a date field) make one stop."""
    page.evaluate(_TAB_FROM_TOP)
    stops: list[TabStop] = []
    reached: list[int | None] = [None] * len(targets)
    previous: tuple[Any, dict[str, Any]] | None = None
    try:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if previous is not None:
                handle, active = previous
                if handle.evaluate("el => el === document.activeElement"):
                    # Still inside the same control: a date field's day, month and year parts are
                    # stops of one element, judged once, when focus leaves it.
                    continue
                resting = handle.evaluate(_STYLE_OF, list(_FOCUS_PROPERTIES))
                handle.dispose()
                stops.append(_stop(active, resting))
                previous = None
            active = page.evaluate(_ACTIVE, list(_FOCUS_PROPERTIES))
            if active is None:  # past the last control: focus went back to the document
                break
            for i, target in enumerate(targets):
                if reached[i] is None and target.evaluate("el => el === document.activeElement"):
                    reached[i] = len(stops)
            previous = (page.evaluate_handle("document.activeElement"), active)
        if previous is not None:  # the limit came first: judge the last stop from where it is
            handle, active = previous
            page.evaluate("() => document.activeElement && document.activeElement.blur()")
            resting = handle.evaluate(_STYLE_OF, list(_FOCUS_PROPERTIES))
            stops.append(_stop(active, resting))
    finally:
        page.evaluate("() => document.getElementById('__tab-start')?.remove()")
    return stops, reached


def keyboard_controls(page: "Page", root: str = "main") -> "list[Locator]":
    """The controls inside `root` (a CSS selector) that Tab should reach, in document order."""
    count = page.evaluate(_CONTROLS, root)
    return [page.locator(f'[data-tab-control="{n}"]') for n in range(count)]


def _describe_control(control: "str | Locator") -> str:
    if isinstance(control, str):
        return control
    try:
        return control.evaluate("el => el.outerHTML.slice(0, 100)", timeout=1_000)
    except Exception:  # noqa: BLE001 - only a description: the locator itself will do
        return str(control)


def assert_keyboard_reachable(page: "Page", controls: "Sequence[str | Locator]", *, limit: int = 200) -> list[TabStop]:
    """Tab alone, from the top of the page, reaches each control (a CSS/Playwright selector or a
    locator naming one element) in the order given, other stops in between allowed; each shows a
    visible focus indicator when it has focus, and so does every other stop on the way."""
    # A positive tabindex puts its element before every other, wherever it stands: the order
    # the page shows is no longer the order Tab follows (and a walk from the top of the page
    # cannot start ahead of it, so it is refused rather than walked).
    jumping = page.evaluate(_POSITIVE_TABINDEX)
    assert not jumping, f"positive tabindex on {page.url} reorders Tab away from the page's order: {jumping}"
    targets = [page.locator(c) if isinstance(c, str) else c for c in controls]
    stops, reached = tab_through(page, targets, limit=limit)
    sequence = "\n  ".join(
        f"{n}. {stop}{'' if stop.indicator else '  <- no visible focus indicator'}" for n, stop in enumerate(stops)
    )
    where = f"on {page.url}; the Tab order was:\n  {sequence}"
    missing = [_describe_control(c) for c, at in zip(controls, reached, strict=True) if at is None]
    assert not missing, f"Tab never reached {missing} {where}"
    order = [at for at in reached if at is not None]
    assert order == sorted(order), f"Tab reached the controls out of order ({order}) {where}"
    unseen = [str(stop) for stop in stops if not stop.indicator or not stop.visible]
    assert not unseen, f"focus is not visible on {unseen} {where}"
    return stops


def tab_to(page: "Page", control: "str | Locator", *, limit: int = 100) -> None:
    """Press Tab (from wherever focus is) until `control` has focus, as a keyboard user moves to
    it; fails if `limit` presses never get there."""
    target = page.locator(control) if isinstance(control, str) else control
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{limit} presses of Tab never reached {_describe_control(control)} on {page.url}")
