"""The fake door of a pre-order page, as a visitor's browser uses it: the Buy button (with the
variant's price when an experiment runs), the counted click, the honest page it leads to and its
email form; and the founder's preview link, whose browser is then counted apart."""

import re
import time

import pytest
from django.core import signing
from django.core.management import call_command
from django.test import Client

from projects.analysis.assignment import assign
from projects.events import cookies
from projects.models import Event, EventKind, Experiment, Signup, Traffic
from projects.services.pages import landing_page_archive, landing_page_create, landing_page_publish
from projects.services.prototypes import prototype_generate
from security.hashing import hash_identifier
from tests.projects.conftest import signup_post_data, visitor_token
from tests.projects.experiments.helpers import BROWSER

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]


@pytest.fixture
def door(project):
    """A published pre-order page at /p/buy/ selling at 49.00 USD."""
    prototype_generate(project=project)
    page = landing_page_create(project=project, slug="buy", cta_kind="preorder", preorder_price="49.00")
    return landing_page_publish(page=page)


def browser(vid: str | None = None, **kwargs) -> Client:
    client = Client(HTTP_USER_AGENT=BROWSER, **kwargs)
    if vid:
        client.cookies[cookies.VISITOR_COOKIE] = cookies.signed_visitor_id(vid)
    return client


def buy(visitor: Client):
    """A click on "Buy" in the page this browser was shown (its form token, rendered just now)."""
    return visitor.post("/p/buy/preorder", {"form_token": visitor_token(visitor, issued_at=time.time())})


def events(**filters) -> list[tuple[str, str, str]]:
    call_command("flush_events")
    return [(e.kind, e.traffic, e.variant) for e in Event.objects.filter(**filters).order_by("occurred_at", "id")]


def test_the_page_shows_the_buy_button_with_the_price(door):
    html = browser().get("/p/buy/").content.decode()
    assert "Pre-order for $49" in html
    assert re.search(r'<form method="post" action="/p/buy/preorder" class="buy">', html)
    assert "Buy now for $49" in html
    assert "Join the waitlist" in html  # the email form stays as the other way in


def test_buy_counts_a_preorder_and_tells_the_truth(door):
    visitor = browser("visitor-buyer-0000001")
    visitor.get("/p/buy/")
    response = buy(visitor)
    assert response.status_code == 302
    assert response["Location"] == "/p/buy/preorder"

    honest = visitor.get(response["Location"])
    assert honest.status_code == 200
    html = honest.content.decode()
    assert "not ready yet" in html and "you have not been charged" in html
    assert "want it at $49." in html
    assert '<form method="post" action="/p/buy/signup#id_email"' in html and 'name="email"' in html
    assert 'name="form_token"' in html

    assert events(visitor_hash=hash_identifier("visitor-buyer-0000001")) == [
        ("view", Traffic.HUMAN, ""),
        ("preorder", Traffic.HUMAN, ""),
    ]
    assert Signup.objects.count() == 0  # a click is no signup


def test_buy_is_refused_from_another_site_and_dropped_without_a_token(door):
    visitor = browser("visitor-buyer-0000009")
    html = visitor.get("/p/buy/").content.decode()
    token = re.search(r'action="/p/buy/preorder" class="buy">\s*<input type="hidden" name="form_token" '
                      r'value="([^"]+)"', html).group(1)  # fmt: skip
    # Another site's page posting this visitor's form: no cookie (SameSite=Lax), or someone else's.
    assert Client().post("/p/buy/preorder", {"form_token": token}).status_code == 403
    assert browser("visitor-someone-else-01").post("/p/buy/preorder", {"form_token": token}).status_code == 403
    # No token at all (a crawler following the form): not counted, no error shown.
    assert visitor.post("/p/buy/preorder").status_code == 302
    assert visitor.post("/p/buy/preorder", {"form_token": token}).status_code == 302  # the real click
    assert [kind for kind, _, _ in events()] == ["view", "preorder"]


def test_a_signup_from_the_honest_page_works(door):
    visitor = browser("visitor-buyer-0000002")
    buy(visitor)
    html = visitor.get("/p/buy/preorder").content.decode()
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html))
    assert set(hidden) >= {"form_token", "ref", "utm_source"}
    response = visitor.post("/p/buy/signup", signup_post_data(visitor, email="Buyer@Example.com"))
    assert response.status_code == 302
    assert response["Location"] == "/p/buy/thanks"
    signup = Signup.objects.get()
    assert (signup.email, signup.landing_page_id, signup.consent) == ("buyer@example.com", door.pk, True)
    assert [kind for kind, _, _ in events(visitor_hash=hash_identifier("visitor-buyer-0000002"))] == [
        "preorder",
        "signup",
    ]


def test_the_variants_price_is_on_the_button_and_the_honest_page(auth_api_client, project, door):
    variants = [{"key": "at49"}, {"key": "at19", "preorder_price": "19"}]
    response = auth_api_client.post(
        f"/api/projects/{project.pk}/experiments",
        {"landing_page_id": door.pk, "name": "Price", "variants": variants},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert auth_api_client.post(f"/api/experiments/{response.json()['id']}/start").status_code == 200
    experiment = Experiment.objects.get(pk=response.json()["id"])
    ids = {0: None, 1: None}
    for i in range(1000):
        vid = f"visitor-price-{i:06d}"
        index = assign(vid, seed=experiment.seed, coverage=1.0, weights=[1, 1])
        ids[index] = ids[index] or vid
    for index, price in ((0, "$49"), (1, "$19")):
        visitor = browser(ids[index])
        assert f"Buy now for {price}<" in visitor.get("/p/buy/").content.decode()
        assert buy(visitor).status_code == 302
        assert f"want it at {price}." in visitor.get("/p/buy/preorder").content.decode()
    preorders = [(kind, variant) for kind, _, variant in events(kind=EventKind.PREORDER)]
    assert sorted(preorders) == [("preorder", "at19"), ("preorder", "at49")]


def test_an_email_page_has_no_fake_door(live_page):
    visitor = browser("visitor-email-000001")
    assert visitor.post("/p/chaser/preorder", {"form_token": visitor_token(visitor)}).status_code == 404
    assert visitor.get("/p/chaser/preorder").status_code == 404
    assert events(kind=EventKind.PREORDER) == []
    assert "Buy now" not in visitor.get("/p/chaser/").content.decode()


def test_a_draft_page_has_no_fake_door(project):
    prototype_generate(project=project)
    landing_page_create(project=project, slug="soon", cta_kind="preorder", preorder_price="5")
    assert browser().post("/p/soon/preorder").status_code == 404
    assert browser().get("/p/soon/preorder").status_code == 404
    assert events() == []


def test_preview_link_marks_the_founders_browser(auth_api_client, door):
    preview_url = auth_api_client.get(f"/api/landing-pages/{door.pk}/").json()["preview_url"]
    assert preview_url.startswith("/p/buy/?preview=")
    founder = browser("the-founders-browser-1")
    response = founder.get(preview_url)
    assert response.status_code == 302
    assert response["Location"] == "/p/buy/"
    assert cookies.PREVIEW_COOKIE in response.cookies
    assert response.cookies[cookies.PREVIEW_COOKIE]["httponly"]

    assert founder.get("/p/buy/").status_code == 200
    buy(founder)
    browser("a-visitors-browser-01").get("/p/buy/")
    assert sorted(events()) == [
        ("preorder", Traffic.FOUNDER, ""),
        ("view", Traffic.FOUNDER, ""),
        ("view", Traffic.HUMAN, ""),
    ]


def test_a_page_not_public_has_no_preview_link(auth_api_client, project, door):
    draft = landing_page_create(project=project, slug="later")
    assert auth_api_client.get(f"/api/landing-pages/{draft.pk}/").json()["preview_url"] is None
    assert browser().get(f"/p/later/?preview={cookies.preview_token(draft.pk)}").status_code == 404
    landing_page_publish(page=draft)
    preview_url = auth_api_client.get(f"/api/landing-pages/{draft.pk}/").json()["preview_url"]
    assert browser().get(preview_url).status_code == 302
    landing_page_archive(page=draft)
    assert auth_api_client.get(f"/api/landing-pages/{draft.pk}/").json()["preview_url"] is None
    listed = auth_api_client.get(f"/api/projects/{project.pk}/").json()["landing_pages"]
    assert {p["slug"]: p["preview_url"] is not None for p in listed} == {"later": False, "buy": True}


def test_the_preview_of_one_page_does_not_mark_another(auth_api_client, project, door, live_page):
    preview_url = auth_api_client.get(f"/api/landing-pages/{door.pk}/").json()["preview_url"]
    founder = browser("the-founders-browser-2")
    founder.get(preview_url)
    founder.get("/p/chaser/")
    assert events(page=live_page) == [("view", Traffic.HUMAN, "")]
    # Nor does a page's token open another page's preview.
    token = preview_url.split("preview=", 1)[1]
    assert browser().get(f"/p/chaser/?preview={token}").status_code == 404


def _expired_token(page_id: int, monkeypatch) -> str:
    issued = time.time() - cookies.PREVIEW_MAX_AGE - 60
    with monkeypatch.context() as m:
        m.setattr(signing.time, "time", lambda: issued)
        return cookies.preview_token(page_id)


@pytest.mark.parametrize("kind", ["forged", "tampered", "expired", "not-a-page-id"])
def test_a_forged_or_expired_preview_token_is_404_and_marks_nothing(door, monkeypatch, kind):
    token = {
        "forged": lambda: signing.dumps(door.pk, salt="another.salt"),
        "tampered": lambda: cookies.preview_token(door.pk)[:-2] + "xx",
        "expired": lambda: _expired_token(door.pk, monkeypatch),
        "not-a-page-id": lambda: signing.dumps(str(door.pk), salt=cookies.PREVIEW_SALT),
    }[kind]()
    visitor = browser("someone-with-a-link-1")
    response = visitor.get(f"/p/buy/?preview={token}")
    assert response.status_code == 404
    assert cookies.PREVIEW_COOKIE not in response.cookies
    visitor.get("/p/buy/")
    assert events() == [("view", Traffic.HUMAN, "")]


def test_a_forged_preview_cookie_counts_as_a_visitor(door):
    visitor = browser("someone-with-a-cookie")
    visitor.cookies[cookies.PREVIEW_COOKIE] = signing.dumps([door.pk], salt="not.the.preview.salt")
    visitor.get("/p/buy/")
    assert events() == [("view", Traffic.HUMAN, "")]
