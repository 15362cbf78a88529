"""What an anonymous visitor cannot forge: a signup form token serves one signup, and clicks and
beacons count only for a visitor id this platform issued (the signed first-party cookie)."""

import re

import pytest
from django.core.management import call_command
from django.test import Client

from projects.events import cookies
from projects.models import Event, EventKind, Signup
from security.hashing import hash_identifier
from tests.projects.conftest import signup_post_data, visitor_token

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131 Safari/537.36"


def _visitor() -> Client:
    visitor = Client(HTTP_USER_AGENT=BROWSER)
    assert visitor.get("/p/chaser/").status_code == 200
    return visitor


def _form_errors(response) -> str:
    return response.content.decode().split('<div class="errors" role="alert">', 1)[1].split("</div>", 1)[0]


def test_a_form_token_serves_one_signup(live_page):
    visitor = _visitor()
    token = visitor_token(visitor)
    first = visitor.post("/p/chaser/signup", signup_post_data(visitor, email="one@example.com", form_token=token))
    assert first.status_code == 302
    for n in range(3):
        again = visitor.post(
            "/p/chaser/signup", signup_post_data(visitor, email=f"more{n}@example.com", form_token=token)
        )
        assert again.status_code == 400
        assert "This form was sent already" in _form_errors(again)
    assert list(Signup.objects.values_list("email", flat=True)) == ["one@example.com"]
    # The page shown again carries a new token, which serves the next signup.
    fresh = visitor.post("/p/chaser/signup", signup_post_data(visitor, email="more0@example.com"))
    assert fresh.status_code == 302 and Signup.objects.count() == 2


def test_the_same_form_sent_twice_with_the_same_address_is_one_signup(live_page):
    visitor = _visitor()
    data = signup_post_data(visitor, email="double@example.com")
    assert visitor.post("/p/chaser/signup", data)["Location"] == "/p/chaser/thanks"
    assert visitor.post("/p/chaser/signup", data)["Location"] == "/p/chaser/thanks"
    assert Signup.objects.count() == 1


def test_a_used_token_tells_nothing_of_who_is_on_the_list(live_page):
    listed = _visitor()
    assert listed.post("/p/chaser/signup", signup_post_data(listed, email="listed@example.com")).status_code == 302
    prober = _visitor()
    token = visitor_token(prober)
    assert (
        prober.post("/p/chaser/signup", signup_post_data(prober, email="me@example.com", form_token=token)).status_code
        == 302
    )
    on_list = prober.post("/p/chaser/signup", signup_post_data(prober, email="listed@example.com", form_token=token))
    not_on_list = prober.post(
        "/p/chaser/signup", signup_post_data(prober, email="nobody@example.com", form_token=token)
    )
    assert on_list.status_code == not_on_list.status_code == 400
    assert _form_errors(on_list) == _form_errors(not_on_list)


def _probe(first_email: str):
    """A prober's fresh token: sent with `first_email`, again with it (a double click), then with
    a junk address."""
    prober = _visitor()
    token = visitor_token(prober)
    first, double_click, junk = (
        prober.post("/p/chaser/signup", signup_post_data(prober, email=email, form_token=token))
        for email in (first_email, first_email, "junk@example.com")
    )
    return first, double_click, junk


def _without_tokens(response) -> str:
    """The page as any visitor sees it: the new form token rendered for this one taken out."""
    return re.sub(r'name="form_token" value="[^"]*"', 'name="form_token" value=""', response.content.decode())


def test_a_fresh_token_sent_with_a_listed_address_then_another_tells_nothing_of_the_list(live_page):
    listed = _visitor()
    assert listed.post("/p/chaser/signup", signup_post_data(listed, email="listed@example.com")).status_code == 302
    on_list = _probe("listed@example.com")
    not_on_list = _probe("nobody@example.com")
    for first, double_click, _ in (on_list, not_on_list):
        assert first.status_code == double_click.status_code == 302
        assert first["Location"] == double_click["Location"] == "/p/chaser/thanks"
    refused, refused_too = on_list[2], not_on_list[2]
    assert refused.status_code == refused_too.status_code == 400
    assert "This form was sent already" in _form_errors(refused)
    assert _without_tokens(refused) == _without_tokens(refused_too)
    # Nothing for the junk address; the listed address is still its first signup, the new one once.
    assert sorted(Signup.objects.values_list("email", flat=True)) == ["listed@example.com", "nobody@example.com"]


@pytest.mark.redis
def test_with_redis_away_a_token_still_stores_one_signup_row(live_page):
    from mvpvalidator import cache as app_cache

    for _ in range(3):
        app_cache.breaker.record_failure(OSError("down"))
    try:
        first, double_click, junk = _probe("away@example.com")
    finally:
        app_cache.breaker.reset()
    assert first.status_code == double_click.status_code == 302 and junk.status_code == 400
    assert list(Signup.objects.values_list("email", flat=True)) == ["away@example.com"]


def _clicks() -> list[str]:
    call_command("flush_events")
    return list(Event.objects.filter(kind=EventKind.CTA_CLICK).values_list("visitor_hash", flat=True))


@pytest.mark.parametrize(
    "cookie",
    [
        "made-up-visitor-0000000001",  # the old unsigned format, never seen by a page view
        "made-up-visitor-0000000001.00000000000000000000000000000000",  # a signature that does not verify
        "made-up-visitor-0000000001." + cookies.signed_visitor_id("another-visitor-000001").partition(".")[2],
    ],
)
def test_clicks_from_a_visitor_id_this_platform_did_not_issue_are_not_counted(live_page, cookie):
    forger = Client(HTTP_USER_AGENT=BROWSER)
    forger.cookies[cookies.VISITOR_COOKIE] = cookie
    for _ in range(5):
        response = forger.post("/p/chaser/e", {"k": "cta_click"})
        assert response.status_code == 204  # answered like a counted one: a beacon reads no answer
    assert forger.post("/p/chaser/e", {"k": "beacon"}).status_code == 204
    call_command("flush_events")
    assert not Event.objects.filter(kind__in=(EventKind.CTA_CLICK, EventKind.BEACON)).exists()


def test_a_visitor_the_page_issued_an_id_to_has_its_clicks_counted(live_page):
    visitor = _visitor()
    visitor_id, dot, mac = visitor.cookies[cookies.VISITOR_COOKIE].value.partition(".")
    assert dot and mac
    assert visitor.post("/p/chaser/e", {"k": "cta_click"}).status_code == 204
    assert _clicks() == [hash_identifier(visitor_id)]


def test_an_unsigned_cookie_from_before_keeps_its_id_and_is_signed_by_the_next_page_view(live_page):
    returning = Client(HTTP_USER_AGENT=BROWSER)
    returning.cookies[cookies.VISITOR_COOKIE] = "returning-visitor-000001"
    assert returning.get("/p/chaser/").status_code == 200
    assert returning.cookies[cookies.VISITOR_COOKIE].value == cookies.signed_visitor_id("returning-visitor-000001")
    assert returning.post("/p/chaser/e", {"k": "cta_click"}).status_code == 204
    assert _clicks() == [hash_identifier("returning-visitor-000001")]


def test_a_buy_click_token_counts_one_preorder_however_often_it_is_sent(project):
    from projects.services.pages import landing_page_create, landing_page_publish
    from projects.services.prototypes import prototype_generate

    prototype_generate(project=project)
    page = landing_page_create(project=project, slug="door", cta_kind="preorder", preorder_price="49.00")
    landing_page_publish(page=page)
    visitor = Client(HTTP_USER_AGENT=BROWSER)
    assert visitor.get("/p/door/").status_code == 200
    token = visitor_token(visitor)
    for _ in range(5):
        assert visitor.post("/p/door/preorder", {"form_token": token}).status_code == 302
    assert visitor.post("/p/door/preorder", {"form_token": visitor_token(visitor)}).status_code == 302  # a new click
    call_command("flush_events")
    assert Event.objects.filter(kind=EventKind.PREORDER).count() == 2
