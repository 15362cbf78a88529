"""No lead lost in silence (issue 22, items 9-11), over HTTP as a browser or a script sends it.

- A browser that ran the page's script and interacted is a person however fast: its signup is
  stored. A submission the platform doubts (sent within seconds without the script's mark, the
  honeypot filled, no valid form token) gets a confirm step, never a thank-you for a signup that
  was not stored; pressing its button stores the signup, once. The founder sees the held and
  dropped ones in the signups API (`/api/projects/<id>/signups/held`).
- A page of form errors brings the form into view (`#id_email` on the form's action) with the
  cursor in the first bad field (`autofocus`), without script.
- The consent boxes are unticked, on the main form and on the pre-order step.

The browser side (autofill-fast submissions, a phone's viewport) is tests/e2e/test_signup_browser.py.
"""

import re
import time
from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.utils import timezone

from projects.forms.public import MIN_FILL_SECONDS, script_mark
from projects.models import HeldSignup, Signup
from projects.services.pages import landing_page_create, landing_page_publish
from tests.factories import UserFactory
from tests.projects.conftest import send_due_emails, signup_post_data, visitor_token

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]

CAMPAIGN = "?utm_source=reddit&utm_medium=cpc&utm_campaign=launch"


def _page_form(client: Client, url: str = "/p/chaser/" + CAMPAIGN) -> dict[str, str]:
    """The hidden inputs of the signup form as the page rendered them for this browser, its token
    as the page would render it this second: sent at once, the form is "fast" (a test run's first
    request can take seconds, compiling templates)."""
    html = client.get(url).content.decode()
    form = html[html.index('action="/p/chaser/signup') :]
    fields = {k: unescape(v) for k, v in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form)}
    assert fields["form_token"]
    return {**fields, "form_token": visitor_token(client, issued_at=time.time())}


def _typed(**overrides: str) -> dict[str, str]:
    return {"email": "fast@example.com", "name": "Fast Fingers", "consent": "on", "website": "", **overrides}


def _hold_token(html: str) -> str:
    return unescape(re.search(r'name="hold" value="([^"]+)"', html).group(1))


def test_a_browser_that_ran_the_script_is_stored_however_fast(client, live_page):
    """Before: the same POST (within a second of the page) was dropped behind the thank-you."""
    fields = _page_form(client)
    # What track.js adds once the visitor touches the form: the mark naming this form's token.
    fields["js"] = script_mark(fields["form_token"])
    response = client.post("/p/chaser/signup", {**fields, **_typed()})
    assert response.status_code == 302 and response["Location"] == "/p/chaser/thanks"
    signup = Signup.objects.get()
    assert (signup.email, signup.name, signup.consent, signup.utm_campaign) == (
        "fast@example.com",
        "Fast Fingers",
        True,
        "launch",
    )
    assert HeldSignup.objects.count() == 0


def test_a_scripted_post_gets_the_confirm_step_and_passing_it_stores_the_signup(client, live_page):
    """django.test.Client is a script: no track.js ran, and it posts at once. Before: 302 to
    "Thank you!" and nothing stored."""
    response = client.post("/p/chaser/signup", {**_page_form(client), **_typed()})
    html = response.content.decode()
    assert response.status_code == 202
    assert "One more step" in html and "fast@example.com" in html
    assert "Thank you" not in html and "thanks" not in response.get("Location", "")
    assert Signup.objects.count() == 0
    # The step needs no script: a plain form with a button.
    assert "<script" not in html.split("</main>")[0]
    assert '<form method="post" action="/p/chaser/signup/confirm">' in html

    confirmed = client.post("/p/chaser/signup/confirm", {"hold": _hold_token(html)})
    assert confirmed.status_code == 302 and confirmed["Location"] == "/p/chaser/thanks"
    signup = Signup.objects.get()
    # The submission as it was sent, first touch included.
    assert (signup.email, signup.name, signup.consent) == ("fast@example.com", "Fast Fingers", True)
    assert (signup.utm_source, signup.utm_medium, signup.utm_campaign) == ("reddit", "cpc", "launch")
    assert HeldSignup.objects.get().passed_at is not None
    assert send_due_emails() == 1  # the confirmation email, as for any signup


@pytest.mark.parametrize(
    "doubt",
    [
        {"website": "http://spam.example.com"},  # the honeypot filled (autofill does, now and then)
        {"form_token": ""},  # no form token
        {"form_token": "1.forged.token"},  # an altered one
        {"form_token": "old"},  # a form opened over a day ago (set below)
    ],
    ids=["honeypot", "no-token", "forged-token", "day-old-form"],
)
def test_every_doubted_submission_gets_a_step_a_person_can_pass(client, live_page, doubt):
    """Before: each of these was dropped behind the thank-you."""
    if doubt.get("form_token") == "old":
        doubt = {"form_token": visitor_token(client, issued_at=time.time() - 25 * 3600)}
    response = client.post("/p/chaser/signup", signup_post_data(client, **doubt))
    assert response.status_code == 202
    assert Signup.objects.count() == 0
    confirmed = client.post("/p/chaser/signup/confirm", {"hold": _hold_token(response.content.decode())})
    assert confirmed.status_code == 302
    assert Signup.objects.get().email == "visitor@example.com"


def test_the_mark_of_another_form_does_not_vouch_for_this_one(client, live_page):
    fields = _page_form(client)
    other = visitor_token(client, issued_at=time.time() - 1)  # a form rendered a second before
    assert other != fields["form_token"]
    fields["js"] = script_mark(other)
    assert client.post("/p/chaser/signup", {**fields, **_typed()}).status_code == 202
    assert Signup.objects.count() == 0


def test_without_script_a_person_who_takes_a_few_seconds_is_stored_at_once(client, live_page):
    """The timing rule still vouches for a browser without script (the token is 10 s old here)."""
    response = client.post("/p/chaser/signup", signup_post_data(client))
    assert response.status_code == 302 and Signup.objects.count() == 1
    assert MIN_FILL_SECONDS < 10


def test_the_confirm_token_is_single_use_and_bound_to_its_submission_and_browser(client, live_page):
    html = client.post("/p/chaser/signup", {**_page_form(client), **_typed()}).content.decode()
    token = _hold_token(html)

    # Another browser (a token copied out of this one's page) is refused, and stores nothing.
    stranger = Client()
    stranger.get("/p/chaser/")
    assert stranger.post("/p/chaser/signup/confirm", {"hold": token}).status_code == 403
    # An altered token (another address put in) is refused.
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    assert client.post("/p/chaser/signup/confirm", {"hold": tampered}).status_code == 403
    assert client.post("/p/chaser/signup/confirm", {"hold": ""}).status_code == 403
    # Another page of the platform: refused, not thanked.
    other = landing_page_publish(page=landing_page_create(project=live_page.project, slug="other"))
    assert client.post(f"/p/{other.slug}/signup/confirm", {"hold": token}).status_code == 403
    assert Signup.objects.count() == 0

    assert client.post("/p/chaser/signup/confirm", {"hold": token}).status_code == 302
    # Pressed again (a double click): nothing more is stored, and the thank-you is true.
    again = client.post("/p/chaser/signup/confirm", {"hold": token})
    assert again.status_code == 302 and again["Location"] == "/p/chaser/thanks"
    assert Signup.objects.count() == 1
    assert HeldSignup.objects.filter(passed_at__isnull=False).count() == 1


def test_the_confirm_step_keeps_the_form_tokens_one_signup(client, live_page):
    """A held submission's genuine form token still serves one signup: the confirmed one."""
    fields = _page_form(client)
    first = client.post("/p/chaser/signup", {**fields, **_typed(email="one@example.com")})
    second = client.post("/p/chaser/signup", {**fields, **_typed(email="two@example.com")})
    assert client.post("/p/chaser/signup/confirm", {"hold": _hold_token(first.content.decode())}).status_code == 302
    refused = client.post("/p/chaser/signup/confirm", {"hold": _hold_token(second.content.decode())})
    assert refused.status_code == 400 and "This form was sent already" in refused.content.decode()
    assert list(Signup.objects.values_list("email", flat=True)) == ["one@example.com"]


def test_an_expired_confirm_step_is_refused(client, live_page, monkeypatch):
    html = client.post("/p/chaser/signup", {**_page_form(client), **_typed()}).content.decode()
    later = time.time() + 24 * 3600 + 60
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    assert client.post("/p/chaser/signup/confirm", {"hold": _hold_token(html)}).status_code == 403
    assert Signup.objects.count() == 0


def test_the_founder_sees_held_confirmed_and_dropped_submissions(client_factory, live_page, auth_api_client):
    """The signups API counts what was held; before, a dropped submission left no trace."""
    holds = []
    for n in range(3):
        browser = client_factory()
        response = browser.post("/p/chaser/signup", {**_page_form(browser), **_typed(email=f"p{n}@example.com")})
        holds.append((browser, _hold_token(response.content.decode())))
    honeypot = client_factory()
    honeypot.post("/p/chaser/signup", signup_post_data(honeypot, website="spam"))
    browser, token = holds[0]
    browser.post("/p/chaser/signup/confirm", {"hold": token})
    # One never confirmed and its step expired: dropped. The others still wait.
    stale = HeldSignup.objects.filter(passed_at__isnull=True).order_by("pk").first()
    HeldSignup.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(hours=25))

    response = auth_api_client.get(f"/api/projects/{live_page.project_id}/signups/held")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("held", "confirmed", "awaiting", "dropped")} == {
        "held": 4,
        "confirmed": 1,
        "awaiting": 2,
        "dropped": 1,
    }
    by_reason = {r["reason"]: r for r in body["by_reason"]}
    assert (by_reason["fast"]["held"], by_reason["fast"]["confirmed"], by_reason["honeypot"]["held"]) == (3, 1, 1)
    assert by_reason["fast"]["label"].startswith("Sent within seconds")
    assert body["by_page"] == [{"slug": live_page.slug, "held": 4, "confirmed": 1, "dropped": 1}]

    # Another founder's project: not found, as for the signups themselves.
    other = Client()
    other.force_login(UserFactory())
    assert other.get(f"/api/projects/{live_page.project_id}/signups/held").status_code in (401, 404)


# --- Item 10: errors in view, without script ---------------------------------------------------


def test_a_page_of_errors_opens_at_the_form_with_the_cursor_in_the_bad_field(client, live_page):
    """Before: the action had no fragment and nothing took focus, so a phone showed the top of the
    page and the error ~2,000 px below."""
    landing = client.get("/p/chaser/").content.decode()
    assert 'action="/p/chaser/signup#id_email"' in landing
    assert "autofocus" not in landing  # nothing jumps on a plain view

    response = client.post("/p/chaser/signup", signup_post_data(client, email="not-an-email"))
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_email"' in html and 'action="/p/chaser/signup#id_email"' in html
    email_input = re.search(r'<input type="email"[^>]*>', html).group(0)
    assert "autofocus" in email_input and 'aria-invalid="true"' in email_input


# --- Item 11: consent is never ticked in advance ------------------------------------------------


def _consent_input(html: str) -> str:
    return re.search(r'<input type="checkbox" name="consent"[^>]*>', html).group(0)


def test_the_consent_boxes_are_unticked_on_the_form_and_the_preorder_step(client, live_page, project):
    assert "checked" not in _consent_input(client.get("/p/chaser/").content.decode())
    door = landing_page_create(project=project, slug="door", cta_kind="preorder", preorder_price="49.00")
    landing_page_publish(page=door)
    client.get("/p/door/")
    step = client.get("/p/door/preorder")
    assert step.status_code == 200
    # Before: `checked` (pre-ticked consent is not consent).
    assert "checked" not in _consent_input(step.content.decode())


def test_an_unticked_preorder_box_stores_no_consent(client, live_page):
    response = client.post("/p/chaser/signup", signup_post_data(client, consent=""))
    assert response.status_code == 302
    signup = Signup.objects.get()
    assert signup.consent is False and signup.consent_at is None


def test_the_founders_report_page_shows_the_held_and_dropped_forms(client, live_page):
    """Shown where the founder reads the results, not only in the API: a held form, then its
    confirm button never pressed for a day, reads as dropped on the report page."""
    assert client.post("/p/chaser/signup", {**_page_form(client), **_typed()}).status_code == 202
    HeldSignup.objects.update(created_at=timezone.now() - timedelta(days=2))
    owner = Client()
    owner.force_login(live_page.project.owner)
    html = owner.get(f"/projects/{live_page.project_id}/report").content.decode()
    held = re.search(r'data-testid="held">(.*?)</div>', html, re.S)
    assert held, "no held signups on the report page"
    assert "1: 0 confirmed, 0 waiting, 1 dropped" in held.group(1)
    assert 'href="#g-held-signups"' in held.group(1) and 'id="g-held-signups"' in html
