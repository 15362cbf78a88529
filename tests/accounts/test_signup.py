"""Sign-up in the browser: the account waits for the emailed link, whose page's button (a POST)
confirms the address and signs the founder in."""

import pytest
from django.core import mail, signing
from django.test import Client

from accounts import tokens
from security.models import User
from tests.accounts.conftest import link_path
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

GOOD = {"email": "Ada@Example.com", "name": "Ada", "password": "a-long-enough-passphrase"}


def sign_up(client, **changes):
    return client.post("/accounts/signup/", {**GOOD, **changes})


def test_signup_then_the_emailed_link_confirms_and_signs_in(client):
    response = sign_up(client)
    assert response.status_code == 302 and response["Location"] == "/accounts/signup/sent/"
    user = User.objects.get(email="ada@example.com")
    assert user.email_confirmed is False and user.name == "Ada"
    assert "_auth_user_id" not in client.session
    sent = client.get("/accounts/signup/sent/")
    assert b"ada@example.com" in sent.content and b'action="/accounts/confirm/resend/"' in sent.content

    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ada@example.com"]
    path = link_path(mail.outbox[0], "/accounts/confirm/")
    opened = client.get(path)
    assert opened.status_code == 200 and b"Confirm your email address" in opened.content
    assert b"<button" in opened.content and b"csrfmiddlewaretoken" in opened.content
    user.refresh_from_db()
    assert user.email_confirmed is False and "_auth_user_id" not in client.session  # opening changes nothing
    confirmed = client.post(path)
    assert confirmed.status_code == 302 and confirmed["Location"] == "/"
    user.refresh_from_db()
    assert user.email_confirmed is True
    assert client.session["_auth_user_id"] == str(user.pk)


def test_the_confirmation_link_works_once(client):
    sign_up(client)
    path = link_path(mail.outbox[0], "/accounts/confirm/")
    assert client.post(path).status_code == 302
    opened = Client().get(path)  # a used link says so as it opens
    assert opened.status_code == 400 and b"cannot be used" in opened.content
    again = Client().post(path)
    assert again.status_code == 400 and b"cannot be used" in again.content
    assert "_auth_user_id" not in again.wsgi_request.session


def test_an_expired_confirmation_link_is_refused(client, settings):
    sign_up(client)
    path = link_path(mail.outbox[0], "/accounts/confirm/")
    settings.PASSWORD_RESET_TIMEOUT = -1
    assert client.get(path).status_code == 400
    assert client.post(path).status_code == 400
    assert User.objects.get(email="ada@example.com").email_confirmed is False


def test_a_tampered_or_forged_confirmation_link_is_refused(client):
    sign_up(client)
    user = User.objects.get(email="ada@example.com")
    path = link_path(mail.outbox[0], "/accounts/confirm/")
    token = path.rstrip("/").rsplit("/", 1)[-1]
    assert client.get(f"/accounts/confirm/{token[:-2]}xx/").status_code == 400
    # A link of another purpose (an email change link) does not confirm a sign-up.
    other = tokens.make_token(purpose=tokens.EMAIL_CHANGE, user=user, claims={"new": "x@example.com"})
    assert client.get(f"/accounts/confirm/{other}/").status_code == 400
    # Signed by us but for another account's state: the fingerprint does not match.
    forged = signing.dumps({"u": user.pk, "c": {}, "f": "0" * 32}, salt="accounts.tokens.signup-confirm")
    assert client.get(f"/accounts/confirm/{forged}/").status_code == 400
    assert client.post(f"/accounts/confirm/{forged}/").status_code == 400
    user.refresh_from_db()
    assert user.email_confirmed is False


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "not-an-address"}, "email", b"Enter a valid email address."),
        ({"email": ""}, "email", b"This field is required."),
        ({"password": "short"}, "password", b"This password is too short."),
        ({"password": "password123"}, "password", b"This password is too common."),
        ({"password": "1234567890123"}, "password", b"This password is entirely numeric."),
        ({"password": ""}, "password", b"This field is required."),
        ({"name": "x" * 151}, "name", b"Ensure this value has at most 150 characters"),
    ],
)
def test_a_bad_signup_shows_the_error_beside_the_field_and_writes_nothing(client, changes, field, message):
    response = sign_up(client, **changes)
    assert response.status_code == 200
    assert message in response.content
    assert f'id="id_{field}_error"'.encode() in response.content
    assert b'aria-invalid="true"' in response.content
    assert not User.objects.exists() and mail.outbox == []


def test_a_taken_address_is_refused_beside_the_field(client):
    UserFactory(email="ada@example.com")
    response = sign_up(client)
    assert response.status_code == 200 and b"already exists" in response.content
    assert User.objects.count() == 1 and mail.outbox == []


def test_signup_shares_the_api_registrations_limit(client, settings):
    settings.API_THROTTLES = {**settings.API_THROTTLES, "register": {"rate": "2/hour", "key": "ip"}}
    assert sign_up(client, email="a@example.com").status_code == 302
    assert (
        client.post(
            "/api/auth/register",
            {"email": "b@example.com", "password": GOOD["password"]},
            content_type="application/json",
        ).status_code
        == 201
    )
    refused = sign_up(client, email="c@example.com")
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert not User.objects.filter(email="c@example.com").exists()
    assert client.get("/accounts/signup/").status_code == 200  # reading the form is not limited


def test_resend_sends_a_fresh_link_and_tells_nothing_about_the_address(client):
    sign_up(client)
    mail.outbox.clear()
    known = client.post("/accounts/confirm/resend/", {"email": "ada@example.com"}, follow=True)
    unknown = Client().post("/accounts/confirm/resend/", {"email": "nobody@example.com"}, follow=True)
    confirmed = UserFactory()
    already = Client().post("/accounts/confirm/resend/", {"email": confirmed.email}, follow=True)
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]
    notice = b"If an account with this address is waiting for confirmation"
    assert notice in known.content and notice in unknown.content and notice in already.content
    assert client.post(link_path(mail.outbox[0], "/accounts/confirm/")).status_code == 302


def test_resend_is_rate_limited(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "account_email": "2/m"}
    for _ in range(2):
        assert client.post("/accounts/confirm/resend/", {"email": "x@example.com"}).status_code == 302
    assert client.post("/accounts/confirm/resend/", {"email": "x@example.com"}).status_code == 429


def test_one_address_gets_a_few_emails_an_hour_whoever_asks(client):
    sign_up(client)
    for n in range(10):
        Client(REMOTE_ADDR=f"203.0.113.{n}").post("/accounts/confirm/resend/", {"email": "ada@example.com"})
    assert len(mail.outbox) == 5  # the sign-up's and four more


def test_a_signed_in_founder_is_sent_home_from_signup(client, user):
    client.force_login(user)
    assert client.get("/accounts/signup/")["Location"] == "/"


def test_a_relay_that_fails_costs_the_email_not_the_signup(client, settings, smtp_relay):
    smtp_relay.refuse.add("ada@example.com")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = smtp_relay.host, smtp_relay.port
    assert sign_up(client).status_code == 302
    assert User.objects.filter(email="ada@example.com", email_confirmed=False).exists()


def test_the_email_goes_through_a_real_relay(client, settings, smtp_relay):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = smtp_relay.host, smtp_relay.port
    sign_up(client)
    assert smtp_relay.recipients() == ["ada@example.com"]
    body = smtp_relay.messages[0].get_payload(decode=True).decode()
    assert "/accounts/confirm/" in body


def test_signup_page_renders_with_labels(client):
    response = client.get("/accounts/signup/")
    assert response.status_code == 200
    for field in ("email", "name", "password"):
        assert f'<label for="id_{field}">'.encode() in response.content
    assert b'href="/accounts/login/"' in response.content


def test_login_page_links_to_reset_and_signup(client):
    content = client.get("/accounts/login/").content
    assert b'href="/accounts/password/reset/"' in content and b'href="/accounts/signup/"' in content


def test_a_confirmed_password_is_not_needed_twice(client):
    """The account made by sign-up signs in with its password once confirmed."""
    sign_up(client)
    client.post(link_path(mail.outbox[0], "/accounts/confirm/"))
    other = Client()
    response = other.post("/accounts/login/", {"username": "ada@example.com", "password": GOOD["password"]})
    assert response.status_code == 302


def test_opening_the_link_signs_nobody_in_and_the_button_needs_the_pages_csrf_token():
    """A mail scanner that fetches the link uses nothing up; a stranger cannot sign a browser in
    to their account by making it open their link (login CSRF): the POST needs the page's token."""
    sign_up(Client())
    path = link_path(mail.outbox[0], "/accounts/confirm/")
    scanner = Client()
    for _ in range(3):
        assert scanner.get(path).status_code == 200
    victim = Client(enforce_csrf_checks=True)
    assert victim.post(path).status_code == 403
    assert User.objects.get(email="ada@example.com").email_confirmed is False
    assert "_auth_user_id" not in victim.session
    # The founder's own browser: the page, then its button.
    founder = Client(enforce_csrf_checks=True)
    page = founder.get(path)
    token = page.context["csrf_token"]
    done = founder.post(path, {"csrfmiddlewaretoken": str(token)})
    assert done.status_code == 302 and done["Location"] == "/"
    assert founder.session["_auth_user_id"] == str(User.objects.get(email="ada@example.com").pk)


def test_a_pending_confirmation_link_dies_with_a_new_password(client):
    sign_up(client)
    path = link_path(mail.outbox[0], "/accounts/confirm/")
    user = User.objects.get(email="ada@example.com")
    user.set_password("another-long-passphrase-7")
    user.save()
    assert client.get(path).status_code == 400
    assert client.post(path).status_code == 400
    assert User.objects.get(pk=user.pk).email_confirmed is False


def test_the_signup_pages_are_not_cached(client):
    sign_up(client)
    for url in ("/accounts/signup/sent/", link_path(mail.outbox[0], "/accounts/confirm/")):
        assert "no-store" in client.get(url)["Cache-Control"]
