"""The browser's sign-in: an unconfirmed account is told to confirm (only once its password is
right), the lockout and the form limit still apply, sign-out is a POST."""

import pytest
from django.core import mail
from django.test import Client

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

WRONG = "wrong-password-1"


def login(client, email, password):
    return client.post("/accounts/login/", {"username": email, "password": password})


def test_an_unconfirmed_account_with_the_right_password_is_told_to_confirm(client):
    user = UserFactory(email_confirmed=False)
    response = login(client, user.email, DEFAULT_PASSWORD)
    assert response.status_code == 200
    assert b"Confirm your email address first" in response.content
    assert f'href="/accounts/confirm/resend/?email={user.email.replace("@", "%40")}"'.encode() in response.content
    assert "_auth_user_id" not in client.session


def test_a_wrong_password_reads_the_same_for_unconfirmed_confirmed_and_unknown_accounts(client):
    unconfirmed = UserFactory(email_confirmed=False)
    confirmed = UserFactory()
    answers = [login(Client(), email, WRONG) for email in (unconfirmed.email, confirmed.email, "nobody@example.com")]
    assert {r.status_code for r in answers} == {200}
    for response in answers:
        assert b"Please enter a correct email and password" in response.content
        assert b"Confirm your email address first" not in response.content
        assert b"/accounts/confirm/resend/" not in response.content


def test_the_resend_link_from_the_login_sends_a_fresh_link(client):
    user = UserFactory(email_confirmed=False)
    page = client.get(f"/accounts/confirm/resend/?email={user.email}")
    assert f'value="{user.email}"'.encode() in page.content
    client.post("/accounts/confirm/resend/", {"email": user.email})
    assert [m.to for m in mail.outbox] == [[user.email]]


def test_the_lockout_applies_to_the_browser_login(settings):
    settings.MAX_LOGIN_ATTEMPTS = 3
    settings.LOCKOUTS_TO_BLOCK = 100
    user = UserFactory()
    attacker = Client(REMOTE_ADDR="203.0.113.66")
    assert [login(attacker, user.email, WRONG).status_code for _ in range(3)] == [200] * 3
    locked = login(attacker, user.email, DEFAULT_PASSWORD)
    assert locked.status_code == 429 and int(locked["Retry-After"]) >= 1
    assert login(Client(REMOTE_ADDR="198.51.100.7"), user.email, DEFAULT_PASSWORD).status_code == 302


def test_the_login_form_limit_still_applies(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_form": "2/m"}
    client = Client(REMOTE_ADDR="203.0.113.67")
    for _ in range(2):
        login(client, "a@example.com", WRONG)
    assert login(client, "a@example.com", WRONG).status_code == 429


def test_sign_out_is_a_post(client, user):
    client.force_login(user)
    assert client.get("/accounts/logout/").status_code == 405
    assert "_auth_user_id" in client.session
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert "_auth_user_id" not in client.session
