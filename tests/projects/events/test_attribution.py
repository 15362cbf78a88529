"""Attribution from the outside (issue 22, items 1 and 2): who is a campaign's paid visitor, and the
first touch every signup keeps.

Visitors are real test browsers: they open the landing page by an ad's address, send the forms the
pages rendered for them (hidden fields as the page wrote them), and the founder reads the report,
the analytics and the campaign summary through the API, after the worker's flush."""

import re
from html import unescape

import pytest
from django.core.management import call_command
from django.test import Client

from projects.events import touch
from projects.models import Event, EventKind, Signup
from projects.services.pages import landing_page_create, landing_page_publish
from projects.services.prototypes import prototype_generate
from tests.projects.conftest import visitor_token
from tests.projects.events.helpers import event_write_queries
from tests.projects.experiments.helpers import BROWSER, make_running_experiment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]

_browsers = iter(range(1, 1_000_000))


def browser() -> Client:
    n = next(_browsers)
    return Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR=f"10.22.{n // 250}.{n % 250 + 1}")


def campaign(api, project, *, tag: str, platform: str = "google") -> dict:
    body = {"name": tag.title(), "platform": platform, "budget": "500.00", "utm_campaign": tag}
    response = api.post(f"/api/projects/{project.pk}/campaigns", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def form_data(html: str, action: str, visitor: Client, **fields: str) -> dict[str, str]:
    """What the browser sends with the form posting to `action`: its hidden fields as the page
    wrote them (the token swapped for one rendered some seconds ago, as a person takes that long
    to type), the honeypot empty, and what the visitor typed."""
    form = re.search(rf'<form method="post" action="{re.escape(action)}(#[\w-]+)?".*?</form>', html, re.S)
    assert form, f"no form posting to {action}"
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form.group(0)))
    return {**hidden, "form_token": visitor_token(visitor), "website": "", "consent": "on", **fields}


def sign_up_on_landing(visitor: Client, slug: str, address: str, email: str, **headers: str) -> None:
    html = visitor.get(address, **headers).content.decode()
    response = visitor.post(f"/p/{slug}/signup", form_data(html, f"/p/{slug}/signup", visitor, email=email))
    assert response.status_code == 302 and response["Location"] == f"/p/{slug}/thanks"


def report(api, project) -> dict:
    call_command("flush_events")
    return api.get(f"/api/projects/{project.pk}/report").json()["inputs"]


def summary(api, campaign_body: dict) -> dict:
    call_command("flush_events")
    return api.get(f"/api/campaigns/{campaign_body['id']}/").json()["summary"]


def channels(api, project) -> dict[str, int]:
    call_command("flush_events")
    rows = api.get(f"/api/projects/{project.pk}/analytics?group_by=channel").json()["rows"]
    return {row["channel"]: row["visitors"] for row in rows}


# --- Item 1: paid visitors are cold, and the report and the campaign summary agree --------------


def test_the_campaigns_tag_without_a_medium_is_paid_in_the_report_and_the_summary(auth_api_client, project, live_page):
    """Before: "referral" (warm) in the report, credited by the campaign summary all the same."""
    autumn = campaign(auth_api_client, project, tag="autumn")
    for n in range(3):
        sign_up_on_landing(browser(), "chaser", "/p/chaser/?utm_source=google&utm_campaign=autumn", f"t{n}@example.com")
    browser().get("/p/chaser/?utm_campaign=autumn")  # a visitor who only looks
    inputs = report(auth_api_client, project)
    assert (inputs["warm_visitors"], inputs["warm_signups"]) == (0, 0)
    assert (inputs["visitors"], inputs["signups"]) == (4, 3)
    assert summary(auth_api_client, autumn)["signups"] == 3 == inputs["signups"]
    assert channels(auth_api_client, project) == {"paid": 4}


CLICK_IDS = [
    ("gclid", "google", "google", "https://www.google.com/"),
    ("gbraid", "google", "google", "https://www.google.com/"),
    ("wbraid", "google", "google", ""),
    ("fbclid", "meta", "meta", "https://l.facebook.com/"),
    ("msclkid", "microsoft", "other", "https://www.bing.com/"),
    ("li_fat_id", "linkedin", "linkedin", "https://www.linkedin.com/"),
    ("rdt_cid", "reddit", "reddit", "https://www.reddit.com/"),
    ("ttclid", "tiktok", "other", ""),
]


@pytest.mark.parametrize(("param", "click_platform", "campaign_platform", "referrer"), CLICK_IDS)
def test_each_click_id_makes_the_visitor_the_paid_visitor_of_the_platforms_campaign(
    auth_api_client, project, live_page, param, click_platform, campaign_platform, referrer
):
    """Before: organic search, social or direct by the referrer, and never the campaign's."""
    bought = campaign(auth_api_client, project, tag="launch", platform=campaign_platform)
    headers = {"HTTP_REFERER": referrer} if referrer else {}
    sign_up_on_landing(browser(), "chaser", f"/p/chaser/?{param}=Cj0KCQ-{param}", "clicked@example.com", **headers)
    assert channels(auth_api_client, project) == {"paid": 1}
    inputs = report(auth_api_client, project)
    assert (inputs["signups"], inputs["warm_signups"]) == (1, 0)
    assert summary(auth_api_client, bought)["signups"] == 1
    signup = Signup.objects.get()
    assert (signup.click_platform, signup.click_id, signup.channel) == (click_platform, f"Cj0KCQ-{param}", "paid")


def test_a_click_id_of_a_platform_without_a_campaign_is_not_paid(auth_api_client, project, live_page):
    google = campaign(auth_api_client, project, tag="search", platform="google")
    sign_up_on_landing(
        browser(), "chaser", "/p/chaser/?fbclid=IwAR0abc", "friend@example.com", HTTP_REFERER="https://l.facebook.com/"
    )
    assert channels(auth_api_client, project) == {"social": 1}
    assert summary(auth_api_client, google)["signups"] == 0
    assert Signup.objects.get().click_platform == "meta"  # kept, though no campaign claims it


def test_the_campaigns_tag_comes_before_a_click_id_of_another_platform(auth_api_client, project, live_page):
    meta = campaign(auth_api_client, project, tag="reels", platform="meta")
    google = campaign(auth_api_client, project, tag="search", platform="google")
    sign_up_on_landing(browser(), "chaser", "/p/chaser/?utm_campaign=REELS&gclid=abc", "both@example.com")
    assert (summary(auth_api_client, meta)["signups"], summary(auth_api_client, google)["signups"]) == (1, 0)
    assert report(auth_api_client, project)["signups"] == 1


def test_a_click_id_two_campaigns_of_its_platform_could_claim_is_paid_and_credited_to_neither(
    auth_api_client, project, live_page
):
    first = campaign(auth_api_client, project, tag="brand", platform="google")
    second = campaign(auth_api_client, project, tag="generic", platform="google")
    sign_up_on_landing(browser(), "chaser", "/p/chaser/?gclid=abc", "which@example.com")
    assert channels(auth_api_client, project) == {"paid": 1}
    assert (summary(auth_api_client, first)["signups"], summary(auth_api_client, second)["signups"]) == (0, 0)


def test_an_unregistered_tag_without_a_medium_stays_a_referral(auth_api_client, project, live_page):
    campaign(auth_api_client, project, tag="autumn")
    sign_up_on_landing(browser(), "chaser", "/p/chaser/?utm_source=partner&utm_campaign=spring", "p@example.com")
    assert channels(auth_api_client, project) == {"referral": 1}


def test_a_campaign_created_or_retagged_after_the_page_was_cached_reaches_it(auth_api_client, project, live_page):
    """The public page (and what the visit knows of the project's campaigns) is cached: a
    campaign's write must reach it, not wait for the page to change."""
    browser().get("/p/chaser/")  # the page's data now cached
    created = campaign(auth_api_client, project, tag="winter")
    browser().get("/p/chaser/?utm_campaign=winter")
    response = auth_api_client.patch(f"/api/campaigns/{created['id']}/", {"utm_campaign": "frost"}, format="json")
    assert response.status_code == 200
    browser().get("/p/chaser/?utm_campaign=frost")
    browser().get("/p/chaser/?utm_campaign=winter")  # no longer a campaign of the project
    call_command("flush_events")
    tagged = Event.objects.exclude(utm_campaign="").order_by("id").values_list("utm_campaign", "channel")
    assert list(tagged) == [("winter", "paid"), ("frost", "paid"), ("winter", "direct")]


# --- Item 2: every signup path keeps the visit's first touch -------------------------------------


@pytest.fixture
def door(project):
    """A published pre-order page at /p/buy/."""
    prototype_generate(project=project)
    return landing_page_publish(
        page=landing_page_create(project=project, slug="buy", cta_kind="preorder", preorder_price="49.00")
    )


AD = "/p/buy/?utm_source=google&utm_medium=cpc&utm_campaign=autumn&utm_content=hero&utm_term=plants&gclid=Cj0-ad"
AD_REFERRER = "https://www.google.com/"


def _first_touch(signup: Signup) -> tuple:
    # The fields the row always had first: on the code before, these failed already (stored blank).
    kept = (signup.utm_source, signup.utm_medium, signup.utm_campaign, signup.utm_content, signup.utm_term)
    assert (*kept, signup.referrer) == AD_TOUCH[:6]
    return (*kept, signup.referrer, signup.click_platform, signup.click_id, signup.channel)


AD_TOUCH = ("google", "cpc", "autumn", "hero", "plants", AD_REFERRER, "google", "Cj0-ad", "paid")


def test_a_preorder_signup_keeps_the_ads_first_touch(auth_api_client, project, door):
    """Before: stored with every UTM field empty (the pre-order form sends them blank), so the
    campaign summary did not count it."""
    autumn = campaign(auth_api_client, project, tag="autumn")
    visitor = browser()
    landing = visitor.get(AD, HTTP_REFERER=AD_REFERRER).content.decode()
    buy = form_data(landing, "/p/buy/preorder", visitor)
    assert visitor.post("/p/buy/preorder", {"form_token": buy["form_token"]}).status_code == 302
    honest = visitor.get("/p/buy/preorder").content.decode()
    response = visitor.post("/p/buy/signup", form_data(honest, "/p/buy/signup", visitor, email="buyer@example.com"))
    assert response.status_code == 302 and response["Location"] == "/p/buy/thanks"
    assert _first_touch(Signup.objects.get()) == AD_TOUCH
    assert summary(auth_api_client, autumn)["signups"] == 1
    assert summary(auth_api_client, autumn)["preorders"] == 1
    assert report(auth_api_client, project)["signups"] == 1


def test_a_signup_after_going_back_to_the_page_keeps_the_first_touch(auth_api_client, project, door):
    """The honest page's "Back to the page" link has no tags: the page view it makes, and the main
    form it shows, must not replace the visit's first touch with "direct"."""
    campaign(auth_api_client, project, tag="autumn")
    visitor = browser()
    visitor.get(AD, HTTP_REFERER=AD_REFERRER)
    visitor.get("/p/buy/preorder")
    sign_up_on_landing(visitor, "buy", "/p/buy/", "back@example.com", HTTP_REFERER="http://testserver/p/buy/preorder")
    assert _first_touch(Signup.objects.get()) == AD_TOUCH
    assert channels(auth_api_client, project) == {"paid": 1}


def test_the_signup_keeps_the_visitors_variant(auth_api_client, project):
    page, experiment = make_running_experiment(auth_api_client, project)
    visitor = browser()
    sign_up_on_landing(visitor, page.slug, f"/p/{page.slug}/?utm_source=newsletter&utm_medium=email", "v@example.com")
    call_command("flush_events")
    view = Event.objects.get(kind=EventKind.VIEW)
    signup = Signup.objects.get()
    assert signup.variant == view.variant and signup.variant in {"control", "b"}
    assert (signup.channel, signup.utm_source) == ("email", "newsletter")


def test_blank_form_fields_do_not_erase_the_visits_first_touch(auth_api_client, project, live_page):
    """A page (or a script) sending the hidden fields blank changes nothing: the first touch is the
    visit's."""
    visitor = browser()
    html = visitor.get("/p/chaser/?utm_source=reddit&utm_medium=cpc&utm_campaign=spring&rdt_cid=r1").content.decode()
    blank = {"ref": "", "utm_source": "", "utm_medium": "", "utm_campaign": ""}
    data = form_data(html, "/p/chaser/signup", visitor, email="blank@example.com", **blank)
    assert visitor.post("/p/chaser/signup", data).status_code == 302
    signup = Signup.objects.get()
    assert (signup.utm_source, signup.utm_campaign) == ("reddit", "spring")
    assert (signup.click_platform, signup.click_id, signup.channel) == ("reddit", "r1", "paid")


def direct_visit_form(email: str, **fields: str) -> tuple[Client, dict[str, str]]:
    """A browser that came straight to the page (no first touch kept), and the signup form it sends
    with `fields` (what the page carried, or the honeypot) over the form it was shown."""
    visitor = browser()
    visitor.get("/p/chaser/")
    form = {"email": email, "consent": "on", "website": "", "form_token": visitor_token(visitor)}
    return visitor, {**form, **fields}


def press_confirm(visitor: Client, held) -> int:
    """The confirm step's button, pressed: its status."""
    hold = unescape(re.search(r'name="hold" value="([^"]+)"', held.content.decode()).group(1))
    return visitor.post("/p/chaser/signup/confirm", {"hold": hold}).status_code


def test_a_visit_without_a_first_touch_cookie_still_uses_the_forms_fields(live_page):
    """Browsers whose visit began before the first-touch cookie existed: the form's fields are the
    fallback."""
    visitor, data = direct_visit_form(
        "old@example.com", utm_source="google", utm_medium="cpc", ref="https://www.google.com/"
    )
    assert visitor.post("/p/chaser/signup", data).status_code == 302
    signup = Signup.objects.get()
    assert (signup.utm_source, signup.referrer, signup.channel) == ("google", "https://www.google.com/", "paid")
    assert touch.FIRST_TOUCH_COOKIE not in visitor.cookies


def test_what_the_form_carried_is_cut_to_its_columns_not_refused(live_page):
    """The page's hidden fields are not the visitor's to correct: a value too long for its column
    (a long ad tag, a page's script) is cut and the signup stored, where it used to be a page of
    form errors the visitor could not get past."""
    visitor, data = direct_visit_form(
        "long@example.com",
        utm_source="  " + "g" * 300 + " ",
        utm_campaign=" spring ",
        ref="https://www.example.org/" + "x" * 600,
    )
    assert visitor.post("/p/chaser/signup", data).status_code == 302
    signup = Signup.objects.get()
    assert (signup.utm_source, signup.utm_campaign) == ("g" * 200, "spring")
    assert signup.referrer == data["ref"][:500]


def test_a_held_submission_keeps_what_the_form_carried_through_its_confirm_step(live_page):
    """No first-touch cookie (a direct visit keeps none): the form's hidden fields are the first
    touch, and a submission held for a confirm step still has them when its button is pressed."""
    visitor, data = direct_visit_form(
        "held@example.com",
        website="http://spam.example.com",  # the honeypot filled: held, not stored
        utm_source="google",
        utm_medium="cpc",
        ref="https://www.google.com/",
    )
    held = visitor.post("/p/chaser/signup", data)
    assert held.status_code == 202 and not Signup.objects.exists()
    assert press_confirm(visitor, held) == 302
    signup = Signup.objects.get()
    assert (signup.utm_source, signup.referrer, signup.channel) == ("google", "https://www.google.com/", "paid")


def test_a_held_submission_carries_no_more_than_its_columns_hold(live_page):
    """What a held submission carries goes into its confirm step's token: a bot's megabyte of
    tags is cut to the columns' lengths there too, not echoed back."""
    visitor, data = direct_visit_form(
        "huge@example.com",
        website="http://spam.example.com",  # held
        utm_source="s" * 1_000_000,
        ref="https://example.org/" + "r" * 1_000_000,
    )
    held = visitor.post("/p/chaser/signup", data)
    assert held.status_code == 202 and len(held.content) < 20_000
    assert press_confirm(visitor, held) == 302
    signup = Signup.objects.get()
    assert (signup.utm_source, signup.referrer) == ("s" * 200, data["ref"][:500])


def test_a_forged_first_touch_cookie_is_ignored(live_page):
    visitor = browser()
    visitor.get("/p/chaser/")
    visitor.cookies[touch.FIRST_TOUCH_COOKIE] = "W1siZ29vZ2xlIl1d:forged:signature"
    data = {"email": "f@example.com", "consent": "on", "website": "", "form_token": visitor_token(visitor)}
    assert visitor.post("/p/chaser/signup", data).status_code == 302
    signup = Signup.objects.get()
    assert (signup.utm_source, signup.click_platform, signup.channel) == ("", "", "direct")


def test_the_longest_first_touch_fits_in_a_cookie_and_is_kept_cut_to_its_columns(live_page):
    visitor = browser()
    long = "x" * 5000
    tags = "&".join(
        f"{name}={long}" for name in ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
    )
    visitor.get(f"/p/chaser/?{tags}&gclid={long}", HTTP_REFERER=f"https://example.org/{long}")
    cookie = visitor.cookies[touch.FIRST_TOUCH_COOKIE]
    assert len(cookie.output()) < 4000  # browsers keep cookies up to 4096 bytes
    data = {"email": "l@example.com", "consent": "on", "website": "", "form_token": visitor_token(visitor)}
    assert visitor.post("/p/chaser/signup", data).status_code == 302
    signup = Signup.objects.get()
    assert (len(signup.utm_source), len(signup.utm_term), len(signup.referrer), len(signup.click_id)) == (
        200,
        200,
        500,
        255,
    )


def test_a_cached_landing_view_with_campaigns_still_costs_no_query(
    auth_api_client, project, live_page, django_assert_num_queries, settings
):
    """The campaigns are part of the page's cached data: a page view reads them with no query."""
    campaign(auth_api_client, project, tag="autumn")
    visitor = browser()
    visitor.get("/p/chaser/?utm_campaign=autumn")  # warm: the page and its render cached
    # As tests/projects/events/test_worker.py pins it: the event buffered in Redis, or its row.
    with django_assert_num_queries(event_write_queries()):
        assert browser().get("/p/chaser/?gclid=abc").status_code == 200


def test_the_founder_sees_each_signups_first_touch_in_the_list_and_the_export(auth_api_client, project, live_page):
    campaign(auth_api_client, project, tag="launch", platform="meta")
    sign_up_on_landing(browser(), "chaser", "/p/chaser/?fbclid=IwAR-1", "fb@example.com")
    row = auth_api_client.get(f"/api/projects/{project.pk}/signups").json()["results"][0]
    assert (row["click_platform"], row["click_id"], row["channel"], row["variant"]) == ("meta", "IwAR-1", "paid", "")
    export = b"".join(auth_api_client.get(f"/api/projects/{project.pk}/signups.csv").streaming_content).decode()
    header, line = export.splitlines()[:2]
    assert header.endswith("click_platform,click_id,channel,variant,traffic")
    assert line.endswith("meta,IwAR-1,paid,,human")
