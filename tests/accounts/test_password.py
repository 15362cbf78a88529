"""Password reset by email and password change: a new password ends the other sessions and
every JWT, keeps the session that changed it."""

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from security.models import User
from tests.accounts.conftest import link_path
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW = "another-long-passphrase"


def bearer_for(user) -> APIClient:
    api = APIClient()
    tokens = api.post("/api/auth/token", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json").json()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api.get("/api/users/me").status_code == 200
    return api


def signed_in(user) -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"username": user.email, "password": DEFAULT_PASSWORD}).status_code == 302
    return client


def test_reset_by_email_sets_the_password_and_ends_sessions_and_tokens(client, user):
    other_session, api = signed_in(user), bearer_for(user)
    response = client.post("/accounts/password/reset/", {"email": user.email})
    assert response.status_code == 302 and response["Location"] == "/accounts/password/reset/sent/"
    assert [m.to for m in mail.outbox] == [[user.email]]
    path = link_path(mail.outbox[0], "/accounts/password/reset/")
    assert mail.outbox[0].body.count("http://127.0.0.1:8000/accounts/password/reset/") == 1
    form = client.get(path, follow=True)
    assert form.status_code == 200 and b"new_password1" in form.content
    done = client.post(form.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})
    assert done.status_code == 302 and done["Location"] == "/accounts/password/reset/complete/"
    user.refresh_from_db()
    assert user.check_password(NEW)
    assert other_session.get("/accounts/").status_code == 302  # signed out
    assert api.get("/api/users/me").status_code == 401
    # The link worked once.
    again = Client().get(path, follow=True)
    assert b"cannot be used" in again.content


def test_reset_confirms_an_unconfirmed_address(client):
    user = UserFactory(email_confirmed=False)
    client.post("/accounts/password/reset/", {"email": user.email})
    form = client.get(link_path(mail.outbox[0], "/accounts/password/reset/"), follow=True)
    client.post(form.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})
    user.refresh_from_db()
    assert user.email_confirmed and user.check_password(NEW)


def test_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(client):
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302 and response["Location"] == "/accounts/password/reset/sent/"
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("new1", "new2", "message"),
    [
        ("short", "short", b"This password is too short."),
        (NEW, NEW + "x", b"The two password fields didn"),
        ("", "", b"This field is required."),
    ],
)
def test_a_bad_new_password_on_reset_is_refused_beside_the_field(client, user, new1, new2, message):
    client.post("/accounts/password/reset/", {"email": user.email})
    form = client.get(link_path(mail.outbox[0], "/accounts/password/reset/"), follow=True)
    response = client.post(form.redirect_chain[-1][0], {"new_password1": new1, "new_password2": new2})
    assert response.status_code == 200 and message in response.content
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_a_tampered_reset_link_is_refused(client, user):
    client.post("/accounts/password/reset/", {"email": user.email})
    path = link_path(mail.outbox[0], "/accounts/password/reset/")
    response = client.get(path[:-3] + "zz/", follow=True)
    assert b"cannot be used" in response.content


def test_reset_is_rate_limited(client, settings, user):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "account_email": "2/m"}
    for _ in range(2):
        assert client.post("/accounts/password/reset/", {"email": user.email}).status_code == 302
    assert client.post("/accounts/password/reset/", {"email": user.email}).status_code == 429
    assert client.get("/accounts/password/reset/").status_code == 200


def test_change_keeps_this_session_and_ends_the_others_and_the_tokens(user):
    this, other, api = signed_in(user), signed_in(user), bearer_for(user)
    response = this.post(
        "/accounts/password/",
        {"old_password": DEFAULT_PASSWORD, "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/"
    assert this.get("/accounts/").status_code == 200
    assert other.get("/accounts/").status_code == 302
    assert api.get("/api/users/me").status_code == 401
    assert User.objects.get(pk=user.pk).check_password(NEW)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"old_password": "wrong-one-1", "new_password1": NEW, "new_password2": NEW}, b"Your old password was"),
        ({"old_password": DEFAULT_PASSWORD, "new_password1": "short", "new_password2": "short"}, b"too short"),
        ({"old_password": DEFAULT_PASSWORD, "new_password1": NEW, "new_password2": "x" + NEW}, b"didn"),
    ],
)
def test_a_bad_password_change_is_refused_beside_the_field(client, user, data, message):
    client.force_login(user)
    version = user.token_version
    response = client.post("/accounts/password/", data)
    assert response.status_code == 200 and message in response.content and b'aria-invalid="true"' in response.content
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD) and user.token_version == version


def test_password_change_is_rate_limited(client, user, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_form": "2/m"}
    client.force_login(user)
    for _ in range(2):
        client.post("/accounts/password/", {"old_password": "nope"})
    assert client.post("/accounts/password/", {"old_password": "nope"}).status_code == 429
