import pytest

from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def test_login_page_renders(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b"csrfmiddlewaretoken" in response.content


def test_staff_signs_in_with_email_in_any_case(client, staff_user):
    response = client.post("/accounts/login/", {"username": staff_user.email.upper(), "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert client.get("/api/users/me").json()["email"] == staff_user.email


def test_wrong_password_shows_form_error(client, user):
    response = client.post("/accounts/login/", {"username": user.email, "password": "nope-nope-nope"})
    assert response.status_code == 200
    assert b"correct" in response.content  # "Please enter a correct email and password"
    assert "_auth_user_id" not in client.session


def test_admin_requires_staff(client, user):
    client.force_login(user)
    assert client.get("/admin/").status_code == 302
