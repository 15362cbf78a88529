"""The public landing page and its signup form, as a visitor's browser uses them."""

import re
import time

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from projects.models import Signup
from projects.services.pages import landing_page_archive, landing_page_create, landing_page_publish, landing_page_update
from projects.services.projects import project_create
from projects.services.prototypes import prototype_generate
from tests.projects.conftest import send_due_emails, signup_post_data, visitor_token
from tests.redis_wire import round_trips

pytestmark = pytest.mark.django_db


@pytest.fixture
def post_signup(client):
    """POST the form like a browser that rendered it some seconds ago."""

    def post(slug="chaser", **data):
        return client.post(f"/p/{slug}/signup", signup_post_data(client, **data))

    return post


def test_published_page_renders_its_content(client, live_page):
    response = client.get("/p/chaser/")
    assert response.status_code == 200
    html = response.content.decode()
    assert live_page.headline in html
    assert live_page.features[0] in html
    assert 'name="form_token"' in html and "csrfmiddlewaretoken" not in html  # the form token stands in
    assert "What do you use today?" in html
    assert "http://" not in html.replace("http://testserver", "")  # no external assets
    assert "mvp_vid" in response.cookies


def test_slug_lookup_ignores_letter_case(client, live_page):
    assert client.get("/p/CHASER/").status_code == 200


@pytest.mark.parametrize("state", ["draft", "archived"])
def test_draft_and_archived_pages_are_404_to_the_public(client, project, state):
    prototype_generate(project=project)
    page = landing_page_create(project=project, slug="hidden")
    if state == "archived":
        landing_page_publish(page=page)
        landing_page_archive(page=page)
    assert client.get("/p/hidden/").status_code == 404
    response = client.post("/p/hidden/signup", signup_post_data(client))
    assert response.status_code == 404
    assert Signup.objects.count() == 0


def test_signup_is_stored_at_once_with_utm_and_referrer(client, live_page):
    client.get("/p/chaser/?utm_source=google&utm_campaign=launch", HTTP_REFERER="https://news.example.com/x")
    response = client.post(
        "/p/chaser/signup",
        signup_post_data(
            client,
            email="Visitor@Example.com",
            utm_source="google",
            utm_campaign="launch",
            ref="https://news.example.com/x",
            qualifying_answer="Spreadsheets",
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == "/p/chaser/thanks"
    signup = Signup.objects.get()
    assert signup.email == "visitor@example.com"
    assert signup.utm_source == "google" and signup.utm_campaign == "launch"
    assert signup.referrer == "https://news.example.com/x"
    assert signup.qualifying_answer == "Spreadsheets"
    assert signup.consent and signup.consent_at
    assert len(signup.visitor_hash) == 64  # hashed cookie id, never the raw value
    assert signup.confirmed_at is None
    assert "Thank you" in client.get(response["Location"]).content.decode()


def test_landing_page_carries_utm_parameters_into_the_form(client, live_page):
    html = client.get("/p/chaser/?utm_source=reddit&utm_medium=cpc").content.decode()
    assert 'name="utm_source" value="reddit"' in html
    assert 'name="utm_medium" value="cpc"' in html


def test_duplicate_signup_is_answered_politely_without_a_second_row(client, live_page, post_signup):
    post_signup(email="dup@example.com")
    response = post_signup(email="DUP@example.com")
    assert response["Location"] == "/p/chaser/thanks"
    assert Signup.objects.count() == 1
    assert send_due_emails() == 1  # one email, for the first signup only


@pytest.mark.parametrize("email", ["not-an-email", "", "a@b", "x" * 250 + "@example.com"])
def test_bad_email_is_a_form_error_and_stores_nothing(client, live_page, email):
    response = client.post("/p/chaser/signup", signup_post_data(client, email=email))
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()
    assert Signup.objects.count() == 0


@pytest.mark.parametrize(
    "bot",
    [
        {"website": "http://spam.example.com"},  # honeypot filled
        {"form_token": lambda client: visitor_token(client, issued_at=time.time())},  # submitted instantly
        {"form_token": ""},  # no render token
        {"form_token": "forged:token"},  # tampered
    ],
)
def test_doubted_submissions_get_a_confirm_step_not_a_false_thank_you(client, live_page, bot, post_signup):
    """Held for a confirm button (tests/projects/signups/test_no_lead_lost.py), not dropped behind
    a thank-you as they were (issue 22, item 9)."""
    response = post_signup(**{k: v(client) if callable(v) else v for k, v in bot.items()})
    assert response.status_code == 202
    assert "One more step" in response.content.decode()
    assert Signup.objects.count() == 0
    assert send_due_emails() == 0


def test_a_form_posted_from_another_site_is_refused(live_page):
    """The form token stands in for the CSRF token: bound to the browser it was rendered for."""
    attacker = Client()
    stolen = signup_post_data(attacker)  # a genuine token, minted for the attacker's own cookie
    victim = Client()
    victim.get("/p/chaser/")  # the victim has a visitor cookie of their own
    for sender in (victim, Client()):  # with the victim's cookie, or none (SameSite=Lax drops it)
        response = sender.post("/p/chaser/signup", stolen)
        assert response.status_code == 403
        assert "Please try again" in response.content.decode()
    assert Signup.objects.count() == 0
    # The same browser with its own token goes through.
    assert victim.post("/p/chaser/signup", signup_post_data(victim)).status_code == 302
    assert Signup.objects.count() == 1


def _link(kind: str) -> str:
    send_due_emails()
    body = mail.outbox[-1].body
    return re.search(rf"{re.escape(settings.PUBLIC_BASE_URL)}(/p/chaser/{kind}/\S+)", body).group(1)


def test_double_opt_in_confirms_only_on_post(client, live_page, post_signup):
    post_signup(email="c@example.com")
    assert mail.outbox == []  # the worker sends it, not the request
    assert send_due_emails() == 1
    assert mail.outbox[0].to == ["c@example.com"]
    confirm_url = _link("confirm")
    page = client.get(confirm_url)  # a link scanner following the URL
    assert page.status_code == 200 and "Confirm my email" in page.content.decode()
    assert Signup.objects.get().confirmed_at is None
    assert client.post(confirm_url).status_code == 200
    assert Signup.objects.get().confirmed_at is not None


def test_unsubscribe_link_works_the_same_way(client, live_page, post_signup):
    post_signup(email="u@example.com")
    url = _link("unsubscribe")
    client.get(url)
    assert Signup.objects.get().unsubscribed_at is None
    client.post(url)
    signup = Signup.objects.get()
    assert signup.unsubscribed_at is not None and not signup.is_confirmed


def test_forged_or_crossed_links_are_refused(client, live_page, post_signup):
    post_signup(email="f@example.com")
    confirm_token = _link("confirm").rsplit("/", 1)[1]
    assert client.post(f"/p/chaser/confirm/{confirm_token}x").status_code == 404
    assert client.post(f"/p/chaser/unsubscribe/{confirm_token}").status_code == 404  # wrong action
    assert Signup.objects.get().confirmed_at is None
    assert Signup.objects.get().unsubscribed_at is None


def test_double_opt_in_off_sends_no_email(client, live_page, post_signup):
    landing_page_update(page=live_page, data={"double_opt_in": False})
    post_signup()
    assert Signup.objects.count() == 1
    assert Signup.objects.get().confirmation_due_at is None
    assert send_due_emails() == 0 and mail.outbox == []


def test_preorder_page_is_an_honest_fake_door(client, project):
    prototype_generate(project=project)
    page = landing_page_create(project=project, slug="buy", cta_kind="preorder", preorder_price="19.00")
    landing_page_publish(page=page)
    assert "Pre-order for $19<" in client.get("/p/buy/").content.decode()
    response = client.post("/p/buy/signup", signup_post_data(client))
    thanks = client.get(response["Location"]).content.decode()
    assert "not ready yet" in thanks and "not been charged" in thanks


def test_script_payloads_in_project_fields_never_reach_the_page_as_markup(client, user):
    project = project_create(
        owner=user,
        name='<script>alert("name")</script>Chaser',
        idea_description="<img src=x onerror=alert(1)> Late invoices are chased <svg onload=alert(2)> for you.",
        target_audience="<iframe src=javascript:alert(3)>freelancers",
        price_point="29",
        business_model="saas",
    )
    assert "<" not in project.name + project.idea_description + project.target_audience
    prototype_generate(project=project)
    page = landing_page_create(project=project, slug="xss")
    landing_page_update(
        page=page,
        data={"value_proposition": '<a href="javascript:alert(4)">x</a><p onclick="alert(5)">y</p>'},
    )
    landing_page_publish(page=page)
    html = client.get("/p/xss/").content.decode().lower()
    for needle in ("<script>alert", "onerror=", "onload=", "<iframe", "javascript:", "onclick="):
        assert needle not in html


@pytest.mark.parametrize("token", ["1.a.é", "9" * 500, "1.\x00.x", "12.34"])
def test_a_malformed_form_token_is_a_confirm_step_never_an_error(client, live_page, token):
    client.get("/p/chaser/")
    response = client.post("/p/chaser/signup", signup_post_data(client, form_token=token))
    # The confirm step, or the form again for a token no form field takes (a NUL): never a 500.
    assert (response.status_code, "One more step" in response.content.decode()) in {(202, True), (400, False)}
    assert Signup.objects.count() == 0


def signup_table_queries(captured) -> list[str]:
    # The signup's own statements; the signup event is the tracking buffer's (on the embedded
    # default it is written to the database at once, with Redis it waits in the buffer).
    return [
        q["sql"].split(" (")[0]
        for q in captured
        if "projects_event" not in q["sql"] and q["sql"] not in {"BEGIN IMMEDIATE", "COMMIT"}
    ]


@pytest.mark.django_db(transaction=True)
def test_a_signup_costs_one_insert_and_a_duplicate_leaves_one_row(client, live_page, post_signup):
    # Outside a transaction (as under gunicorn): no BEGIN/COMMIT round trips, no re-read of
    # the page or project for key validation; the same INSERT records the email as owed.
    assert client.get("/p/chaser/").status_code == 200  # the public page is cached
    with CaptureQueriesContext(connection) as queries:
        response = post_signup(email="once@example.com")
    assert response.status_code == 302
    assert signup_table_queries(queries.captured_queries) == ['INSERT INTO "projects_signup"']
    assert mail.outbox == [] and Signup.objects.get().confirmation_due_at is not None

    with CaptureQueriesContext(connection) as queries:  # the refused INSERT, then the first signup
        response = post_signup(email="ONCE@example.com")
    assert response.status_code == 302
    assert len(signup_table_queries(queries.captured_queries)) == 2
    assert Signup.objects.filter(email="once@example.com").count() == 1
    assert send_due_emails() == 1
    assert [m.to for m in mail.outbox] == [["once@example.com"]]


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_signup_makes_one_round_trip_to_redis_and_its_invalidation_follows(
    client, auth_api_client, live_page, post_signup, monkeypatch
):
    """The form's rate-limit count and the form token's binding, in one pipeline. The project's
    invalidation is sent by the flusher (`bump_soon`); this process reads the new count at once,
    the others once it is sent."""
    from django.core.cache import cache

    from mvpvalidator import background
    from mvpvalidator import cache as app_cache
    from projects.cache import project_ns

    def signup_count() -> int:
        return auth_api_client.get(f"/api/projects/{live_page.project_id}/").json()["signup_count"]

    generation = app_cache.GENERATION_PREFIX + project_ns(live_page.project_id)
    client.defaults["HTTP_USER_AGENT"] = "Mozilla/5.0 (X11; Linux x86_64) Chrome/131"  # counted as a person
    assert client.get("/p/chaser/").status_code == 200  # the public page is cached
    assert signup_count() == 0  # the detail is cached
    shared = int(cache.get(generation))
    with background.quiet():  # no tick sends the bump meanwhile
        trips = round_trips(monkeypatch)
        assert post_signup(email="trips@example.com").status_code == 302
        assert [str(t) for t in trips] == ["INCR+EXPIRE+SET"], trips
        monkeypatch.undo()
        assert signup_count() == 1  # this process: at once
        assert int(cache.get(generation)) == shared  # what the others read: not sent yet
        app_cache._send_soon()  # the flusher's tick
    assert int(cache.get(generation)) == shared + 1
