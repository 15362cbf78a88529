"""Changing the account's email: the current password, a link to the new address (the change
happens on the click), a notice to the old one."""

import pytest
from django.core import mail
from django.test import Client

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
    link, notice = mail.outbox
    assert link.to == ["new@example.com"] and notice.to == [old]
    assert "new@example.com" in notice.body and "/accounts/email/confirm/" not in notice.body

    done = client.get(link_path(link, "/accounts/email/confirm/"))
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
    first = link_path(mail.outbox[0], "/accounts/email/confirm/")
    ask(client, email="second@example.com")
    second = link_path(mail.outbox[2], "/accounts/email/confirm/")
    assert client.get(second).status_code == 302
    assert client.get(second).status_code == 400  # used
    assert client.get(first).status_code == 400  # made for the previous address
    assert User.objects.get(pk=founder.pk).email == "second@example.com"


def test_an_expired_or_tampered_link_is_refused(client, founder, settings):
    ask(client)
    path = link_path(mail.outbox[0], "/accounts/email/confirm/")
    assert client.get(path[:-4] + "abc/").status_code == 400
    settings.PASSWORD_RESET_TIMEOUT = -1
    assert client.get(path).status_code == 400
    assert User.objects.get(pk=founder.pk).email == founder.email


def test_an_address_taken_since_the_link_was_sent_is_refused_on_the_click(client, founder):
    ask(client)
    UserFactory(email="new@example.com")
    response = client.get(link_path(mail.outbox[0], "/accounts/email/confirm/"))
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
    response = Client().get(link_path(mail.outbox[0], "/accounts/email/confirm/"))
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
    response = elsewhere.get(link_path(mail.outbox[0], "/accounts/email/confirm/"))
    assert response["Location"] == "/accounts/login/"
    assert User.objects.get(pk=founder.pk).email == "new@example.com"
    assert User.objects.get(pk=someone.pk).email == someone.email
