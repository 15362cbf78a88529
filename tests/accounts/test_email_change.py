"""Changing the account's email: the current password, a link to the new address (the change
happens on the button of the page it opens), a notice to the old one. The change ends the
account's other sessions and tokens; a new password kills a pending link."""

import pytest
from django.core import mail
from django.test import Client

from accounts import emails
from security.models import User
from tests.accounts.conftest import link_path
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def founder(client, user):
    client.force_login(user)
    return user


def ask(client, email="new@example.com", password=DEFAULT_PASSWORD):
    return client.post("/accounts/email/", {"email": email, "password": password})


def test_the_address_changes_only_when_the_link_to_it_is_clicked(client, founder):
    old = founder.email
    response = ask(client, email="New@Example.com")
    assert response.status_code == 302 and response["Location"] == "/accounts/"
    founder.refresh_from_db()
    assert founder.email == old
    notice, link = mail.outbox  # the owner is told first: never the link without the notice
    assert link.to == ["new@example.com"] and notice.to == [old]
    assert "new@example.com" in notice.body and "/accounts/email/confirm/" not in notice.body

    path = link_path(link, "/accounts/email/confirm/")
    opened = client.get(path)
    assert opened.status_code == 200 and b"new@example.com" in opened.content and b"<button" in opened.content
    assert User.objects.get(pk=founder.pk).email == old  # opening changes nothing
    done = client.post(path)
    assert done.status_code == 302 and done["Location"] == "/accounts/"
    founder.refresh_from_db()
    assert founder.email == "new@example.com" and founder.email_confirmed
    assert client.get("/accounts/").status_code == 200  # still signed in
    assert (
        Client().post("/accounts/login/", {"username": "new@example.com", "password": DEFAULT_PASSWORD}).status_code
        == 302
    )


def test_the_link_works_once_and_dies_when_the_address_moves_on(client, founder):
    ask(client, email="first@example.com")
    first = link_path(mail.outbox[1], "/accounts/email/confirm/")
    ask(client, email="second@example.com")
    second = link_path(mail.outbox[3], "/accounts/email/confirm/")
    assert client.post(second).status_code == 302
    assert client.get(second).status_code == 400  # used: said as it opens
    assert client.post(second).status_code == 400
    assert client.post(first).status_code == 400  # made for the previous address
    assert User.objects.get(pk=founder.pk).email == "second@example.com"


def test_an_expired_or_tampered_link_is_refused(client, founder, settings):
    ask(client)
    path = link_path(mail.outbox[1], "/accounts/email/confirm/")
    assert client.get(path[:-4] + "abc/").status_code == 400
    assert client.post(path[:-4] + "abc/").status_code == 400
    settings.PASSWORD_RESET_TIMEOUT = -1
    assert client.get(path).status_code == 400
    assert client.post(path).status_code == 400
    assert User.objects.get(pk=founder.pk).email == founder.email


def test_an_address_taken_since_the_link_was_sent_is_refused_on_the_click(client, founder):
    ask(client)
    UserFactory(email="new@example.com")
    response = client.post(link_path(mail.outbox[1], "/accounts/email/confirm/"))
    assert response.status_code == 400 and b"taken" in response.content
    assert User.objects.get(pk=founder.pk).email == founder.email


@pytest.mark.parametrize(
    ("email", "password", "field", "message"),
    [
        ("taken@example.com", DEFAULT_PASSWORD, "email", b"Another account uses this email address."),
        ("not-an-address", DEFAULT_PASSWORD, "email", b"Enter a valid email address."),
        ("", DEFAULT_PASSWORD, "email", b"This field is required."),
        ("new@example.com", "wrong-password", "password", b"Your password was entered incorrectly."),
        ("new@example.com", "", "password", b"This field is required."),
    ],
)
def test_a_bad_request_is_refused_beside_the_field_and_sends_nothing(client, founder, email, password, field, message):
    UserFactory(email="taken@example.com")
    response = ask(client, email=email, password=password)
    assert response.status_code == 200 and message in response.content
    assert f'id="id_{field}_error"'.encode() in response.content
    assert mail.outbox == []
    assert User.objects.get(pk=founder.pk).email == founder.email


def test_the_current_address_is_refused(client, founder):
    response = ask(client, email=founder.email.upper())
    assert b"already your email address" in response.content and mail.outbox == []


def test_the_link_clicked_signed_out_changes_the_address_and_goes_to_sign_in(client, founder):
    ask(client)
    response = Client().post(link_path(mail.outbox[1], "/accounts/email/confirm/"))
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert User.objects.get(pk=founder.pk).email == "new@example.com"


def test_the_form_is_rate_limited(client, founder, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_form": "2/m"}
    for _ in range(2):
        ask(client, password="wrong")
    assert ask(client, password="wrong").status_code == 429


def test_the_link_opened_in_another_accounts_browser_changes_only_its_own_account(client, founder):
    ask(client)
    someone = UserFactory()
    elsewhere = Client()
    elsewhere.force_login(someone)
    response = elsewhere.post(link_path(mail.outbox[1], "/accounts/email/confirm/"))
    assert response["Location"] == "/accounts/login/"
    assert User.objects.get(pk=founder.pk).email == "new@example.com"
    assert User.objects.get(pk=someone.pk).email == someone.email


def test_a_pending_link_dies_with_a_password_change(client, founder):
    ask(client)
    path = link_path(mail.outbox[1], "/accounts/email/confirm/")
    changed = client.post(
        "/accounts/password/",
        {"old_password": DEFAULT_PASSWORD, "new_password1": "another-long-passphrase-7",
         "new_password2": "another-long-passphrase-7"},
    )  # fmt: skip
    assert changed.status_code == 302
    assert client.get(path).status_code == 400
    assert client.post(path).status_code == 400
    assert User.objects.get(pk=founder.pk).email == founder.email


def test_a_pending_link_dies_with_a_logout_everywhere(client, founder, api_client):
    ask(client)
    path = link_path(mail.outbox[1], "/accounts/email/confirm/")
    tokens = api_client.post(
        "/api/auth/token", {"email": founder.email, "password": DEFAULT_PASSWORD}, format="json"
    ).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api_client.post("/api/auth/logout", {"refresh": tokens["refresh"]}, format="json").status_code < 300
    assert Client().post(path).status_code == 400
    assert User.objects.get(pk=founder.pk).email == founder.email


def test_the_change_ends_the_other_sessions_and_tokens_and_keeps_the_clicking_one(client, founder, api_client):
    access = api_client.post(
        "/api/auth/token", {"email": founder.email, "password": DEFAULT_PASSWORD}, format="json"
    ).json()["access"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert api_client.get("/api/users/me").status_code == 200
    laptop = Client()
    laptop.force_login(founder)
    assert laptop.get("/accounts/").status_code == 200

    ask(client)
    assert client.post(link_path(mail.outbox[1], "/accounts/email/confirm/")).status_code == 302
    assert User.objects.get(pk=founder.pk).email == "new@example.com"
    assert api_client.get("/api/users/me").status_code == 401
    assert laptop.get("/accounts/")["Location"].startswith("/accounts/login/")
    assert client.get("/accounts/").status_code == 200  # the browser that clicked stays signed in


def test_the_button_needs_the_pages_csrf_token(founder):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(founder)
    page = browser.get("/accounts/email/")
    browser.post(
        "/accounts/email/",
        {
            "email": "new@example.com",
            "password": DEFAULT_PASSWORD,
            "csrfmiddlewaretoken": str(page.context["csrf_token"]),
        },
    )
    path = link_path(mail.outbox[1], "/accounts/email/confirm/")
    assert Client(enforce_csrf_checks=True).post(path).status_code == 403
    assert User.objects.get(pk=founder.pk).email == founder.email


def test_anonymous_password_resets_cannot_silence_the_notice(client, founder, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "account_email": "1000/m"}
    for n in range(emails.EMAILS_PER_ADDRESS_PER_HOUR[emails.PASSWORD_RESET] + 3):
        Client(REMOTE_ADDR=f"203.0.113.{n}").post("/accounts/password/reset/", {"email": founder.email})
    resets = len(mail.outbox)
    assert resets == emails.EMAILS_PER_ADDRESS_PER_HOUR[emails.PASSWORD_RESET]  # the resets had their share
    assert ask(client).status_code == 302
    notice, link = mail.outbox[resets:]
    assert notice.to == [founder.email] and "new@example.com" in notice.body
    assert link.to == ["new@example.com"]


def test_no_link_leaves_without_its_notice(client, founder, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_form": "1000/m"}
    cap = emails.EMAILS_PER_ADDRESS_PER_HOUR[emails.SECURITY_NOTICE]
    for n in range(cap + 2):
        ask(client, email=f"new{n}@example.com")
    notices = [m for m in mail.outbox if m.to == [founder.email]]
    links = [m for m in mail.outbox if m.to != [founder.email]]
    assert len(notices) == cap and len(links) == cap
