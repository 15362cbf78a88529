"""Headless Chromium for tests that check pages in a real browser.

Debian's `chromium` (installed by `make browser-deps`) is driven by the Python `playwright`
package's own driver; the browser build Playwright would download is never used. A browser test
is skipped with the reason when either is missing, and fails under CI=true (`tests.services`).

A test module (or tests/conftest.py, for all) imports the fixtures, `from tests.browser import
browser_page_fixture, chromium_browser_fixture  # noqa: F401`, takes `browser_page` and calls
`assert_no_script_ran(browser_page, url)`. The browser is one per test run, however many modules
import the fixtures; each test gets a fresh context (cookies, storage) and page. Requests to any
host other than this machine are aborted.

Playwright's sync API keeps an asyncio loop marked as running in the test thread for as long as
its driver runs, and Django refuses database access while any loop runs. So from the first
browser test to the end of the run `DJANGO_ALLOW_ASYNC_UNSAFE` is set, as Playwright's and
pytest-django's users do (microsoft/playwright-pytest#29); this code base has no async code
whose safety that check would guard.
"""

import importlib.util
import os
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from tests.services import require

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Dialog, Page, Route

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
