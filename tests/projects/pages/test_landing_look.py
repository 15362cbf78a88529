"""What a visitor sees of a landing page and the pages after it (#22, item 13): the main call
to action and the email's confirm button look like buttons, prices read as the copy writes
them ("$29", not "29.00 USD"), and the thank-you, pre-order, confirm pages and the email name
the project, not the headline.

Through HTTP with the test client, and in headless Chromium for the look (computed styles), with
screenshots of the landing page at phone and desktop widths saved to /tmp/copy-shots/."""

import html
import re
from pathlib import Path

import pytest
from django.core import mail
from django.test import Client

from projects.services.pages import landing_page_create, landing_page_publish
from projects.services.prototypes import prototype_generate
from projects.services.signups import signup_create
from tests.browser import browser_page_fixture, chromium_browser_fixture  # noqa: F401 - the fixtures
from tests.factories import ProjectFactory, UserFactory
from tests.projects.conftest import send_due_emails, signup_post_data, visitor_token

SHOTS = Path("/tmp/copy-shots")
ACCENT = "rgb(37, 99, 235)"  # the default accent (projects.models.pages.DEFAULT_ACCENT), in static/css/landing.css


def _project(**fields):
    return ProjectFactory(
        owner=UserFactory(),
        name=fields.pop("name", "Leafwise"),
        idea_description=(
            "Never kill another houseplant. A soil sensor tells your phone when each plant needs water, "
            "light or food, and reminds you before it wilts."
        ),
        target_audience="busy plant owners",
        price_point="29.00",
        delivery=fields.pop("delivery", "mobile_app"),
        billing=fields.pop("billing", "subscription"),
        **fields,
    )


def _published(project, slug: str, **page_fields):
    prototype_generate(project=project)
    return landing_page_publish(page=landing_page_create(project=project, slug=slug, **page_fields))


def _text(response) -> str:
    """The visible text of a page, tags removed and entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


# --- through HTTP ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_prices_read_as_the_copy_writes_them():
    page = _published(_project(), "leafwise")
    text = _text(Client().get("/p/leafwise/"))
    assert "Plans start at $29 a month" in text
    tiers = [tier["price"] for tier in page.pricing_tiers]
    assert tiers == ["29.00", "87.00", "870.00"]
    assert "$29 /month" in text and "$87 /month" in text and "$870 /year" in text
    assert "USD" not in text and "29.00" not in text


@pytest.mark.django_db
def test_the_pre_order_price_reads_as_a_price_tag():
    _published(_project(name="Brewbox", billing="one_time"), "brewbox", cta_kind="preorder", preorder_price="12.50")
    visitor = Client()
    text = _text(visitor.get("/p/brewbox/"))
    assert "Pre-order for $12.50" in text and "Buy now for $12.50" in text
    assert "12.50 USD" not in text
    visitor.post("/p/brewbox/preorder", {"form_token": visitor_token(visitor)})
    text = _text(visitor.get("/p/brewbox/preorder"))
    assert "people want it at $12.50." in text


@pytest.mark.django_db
def test_the_hero_call_to_action_is_a_button_link_to_the_form():
    page = _published(_project(), "leafwise")
    body = Client().get("/p/leafwise/").content.decode()
    hero = body.split('<section class="hero">', 1)[1].split("</section>", 1)[0]
    assert f'<a class="button" href="#signup" data-track="cta">{html.escape(page.cta_text)}</a>' in hero


@pytest.mark.django_db
def test_thank_you_and_pre_order_messages_name_the_project_not_the_headline():
    project = _project()
    page = _published(project, "leafwise")
    assert page.headline != project.name  # so the sentence below tells the two apart
    visitor = Client()
    visitor.get("/p/leafwise/")
    response = visitor.post("/p/leafwise/signup", signup_post_data(visitor), follow=True)
    text = _text(response)
    assert "You're on the list for Leafwise. Check your inbox" in text
    assert f"on the list for {page.headline}" not in text

    _published(_project(name="Brewbox", billing="one_time"), "brewbox", cta_kind="preorder", preorder_price="12")
    buyer = Client()
    buyer.get("/p/brewbox/")
    response = buyer.post("/p/brewbox/signup", signup_post_data(buyer, email="b@example.com"), follow=True)
    assert "To be honest with you: Brewbox is not ready yet" in _text(response)


@pytest.mark.django_db
def test_the_email_and_the_confirm_page_name_the_project():
    page = _published(_project(), "leafwise")
    signup_create(page=page, email="c@example.com")
    assert send_due_emails() == 1
    message = mail.outbox[-1]
    assert message.subject == "Confirm your signup: Leafwise"
    assert "you signed up for Leafwise." in message.body
    assert page.headline not in message.body
    path = re.search(r"https?://[^/\s]+(/p/leafwise/confirm/\S+)", message.body).group(1)
    text = _text(Client().get(path))
    assert "Confirm c@example.com for Leafwise." in text


# --- in a real browser ----------------------------------------------------------------------------


def _style(browser_page, selector: str) -> dict:
    return browser_page.eval_on_selector(
        selector,
        """el => { const s = getComputedStyle(el); const r = el.getBoundingClientRect();
                   return {background: s.backgroundColor, color: s.color, decoration: s.textDecorationLine,
                           radius: s.borderTopLeftRadius, height: r.height, width: r.width, top: r.top}; }""",
    )


def _assert_button(style: dict) -> None:
    assert style["background"] == ACCENT, style
    assert style["color"] == "rgb(255, 255, 255)", style
    assert style["decoration"] == "none", style
    assert style["radius"] != "0px" and style["height"] >= 44, style  # a thumb-sized target


@pytest.mark.django_db(transaction=True)
def test_the_landing_page_looks_ready_for_paid_traffic(live_server, browser_page):
    _published(_project(), "leafwise")
    SHOTS.mkdir(parents=True, exist_ok=True)
    viewports = (("phone-375", {"width": 375, "height": 812}), ("desktop-1280", {"width": 1280, "height": 800}))
    for name, viewport in viewports:
        browser_page.set_viewport_size(viewport)
        browser_page.goto(f"{live_server.url}/p/leafwise/")
        cta = _style(browser_page, ".hero a.button")
        _assert_button(cta)
        # The call to action is seen without scrolling, on a phone too.
        assert cta["top"] + cta["height"] <= viewport["height"], cta
        no_overflow = "document.documentElement.scrollWidth <= window.innerWidth"
        assert browser_page.evaluate(f"() => {no_overflow}")
        browser_page.screenshot(path=str(SHOTS / f"landing-{name}.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_the_confirm_page_button_looks_like_a_button(live_server, browser_page):
    page = _published(_project(), "leafwise")
    signup_create(page=page, email="c@example.com")
    send_due_emails()
    path = re.search(r"https?://[^/\s]+(/p/leafwise/confirm/\S+)", mail.outbox[-1].body).group(1)
    browser_page.set_viewport_size({"width": 375, "height": 812})
    browser_page.goto(f"{live_server.url}{path}")
    _assert_button(_style(browser_page, "form button[type=submit]"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser_page.screenshot(path=str(SHOTS / "confirm-phone-375.png"), full_page=True)
