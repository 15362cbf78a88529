"""Who may open each account page: anonymous visitors are sent to sign in from the pages of an
account; a founder only ever sees and changes their own."""

import pytest
from django.test import Client

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

PRIVATE = [
    "/accounts/",
    "/accounts/email/",
    "/accounts/password/",
    "/accounts/export/",
    "/accounts/export/?format=json",
    "/accounts/export/?format=csv",
    "/accounts/delete/",
]
PUBLIC = [
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/signup/sent/",
    "/accounts/confirm/resend/",
    "/accounts/password/reset/",
    "/accounts/password/reset/sent/",
    "/accounts/password/reset/complete/",
]


@pytest.mark.parametrize("url", PRIVATE)
def test_anonymous_visitors_are_sent_to_sign_in(client, url):
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("url", PUBLIC)
def test_public_pages_open_to_anyone(client, url):
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", ["/accounts/confirm/not-a-token/", "/accounts/email/confirm/not-a-token/"])
def test_a_bad_link_is_a_400_page(client, url):
    assert client.get(url).status_code == 400


def test_a_founder_reads_and_changes_only_their_own_account(client, user):
    other = UserFactory(name="Someone Else")
    client.force_login(user)
    content = client.get("/accounts/").content.decode()
    assert user.email in content and other.email not in content
    export = b"".join(client.get("/accounts/export/?format=json").streaming_content).decode()
    assert user.email in export and other.email not in export
    client.post("/accounts/", {"name": "Renamed", "signup_digest": ""})
    other.refresh_from_db()
    assert other.name == "Someone Else" and other.signup_digest
    # Deleting asks for the signed-in founder's own password and address, nobody else's.
    response = client.post("/accounts/delete/", {"password": DEFAULT_PASSWORD, "confirm_email": other.email})
    assert response.status_code == 200
    other.refresh_from_db()


def test_staff_see_their_own_account_like_anyone(client, staff_user, user):
    client.force_login(staff_user)
    content = client.get("/accounts/").content.decode()
    assert staff_user.email in content and user.email not in content.replace(staff_user.email, "")


@pytest.mark.parametrize("url", ["/accounts/signup/", "/accounts/password/reset/", "/accounts/confirm/resend/"])
def test_the_forms_need_the_csrf_token(url):
    client = Client(enforce_csrf_checks=True)
    assert client.post(url, {"email": "a@example.com"}).status_code == 403


@pytest.mark.parametrize(
    "url", ["/accounts/", "/accounts/email/", "/accounts/password/", "/accounts/export/", "/accounts/delete/"]
)
def test_the_account_pages_are_never_cached(client, user, url):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    assert {"no-store", "no-cache", "private"} <= {part.strip() for part in response["Cache-Control"].split(",")}
