"""The account settings page: name and the signup digest toggle."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from security.models import User

pytestmark = pytest.mark.django_db


def test_the_page_shows_the_account_and_links_to_the_rest(client, user):
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/accounts/")
    assert response.status_code == 200
    # The session and the user; nothing per link or section.
    assert len(queries) == 2, [q["sql"] for q in queries]
    content = response.content.decode()
    assert user.email in content
    for link in ("/accounts/email/", "/accounts/password/", "/accounts/export/", "/accounts/delete/"):
        assert f'href="{link}"' in content
    assert "Email me a daily summary of new signups" in content
    assert 'name="signup_digest" id="id_signup_digest" checked' in content


def test_saving_the_name_and_turning_the_digest_off(client, user):
    client.force_login(user)
    response = client.post("/accounts/", {"name": "  Grace <b>Hopper</b> "})
    assert response.status_code == 302 and response["Location"] == "/accounts/"
    user.refresh_from_db()
    assert user.name == "Grace Hopper" and user.signup_digest is False
    assert b"Your account is saved." in client.get("/accounts/").content
    client.post("/accounts/", {"name": "Grace", "signup_digest": "on"})
    user.refresh_from_db()
    assert user.signup_digest is True


def test_a_too_long_name_is_refused_beside_the_field(client, user):
    client.force_login(user)
    before = User.objects.values("name", "signup_digest").get(pk=user.pk)
    response = client.post("/accounts/", {"name": "x" * 151})
    assert response.status_code == 200 and b'id="id_name_error"' in response.content
    assert User.objects.values("name", "signup_digest").get(pk=user.pk) == before
