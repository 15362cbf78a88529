"""The identity API from the outside: register, token, refresh, logout, me."""

import json
from datetime import timedelta

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from security.models import User
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

STRONG = "a-long-unusual-passphrase-42"


def assert_error_shape(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message", "fields"} <= set(body["error"])
    if code:
        assert body["error"]["code"] == code
    return body["error"]


def register(client, **data):
    payload = {"email": "ada@example.com", "password": STRONG, "name": "Ada"}
    payload.update(data)
    return client.post("/api/auth/register", payload, format="json")


def obtain(client, email, password):
    return client.post("/api/auth/token", {"email": email, "password": password}, format="json")


def test_register_creates_account_and_returns_it_without_password(api_client):
    response = register(api_client, email="  Ada@Example.COM ")
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "ada@example.com"
    assert body["name"] == "Ada"
    assert "password" not in body
    user = User.objects.get()
    assert user.check_password(STRONG)
    assert user.password.startswith("md5$") or user.password.startswith("argon2")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "1234567890123"}, "password"),  # entirely numeric
        ({"password": "password123"}, "password"),  # common
        ({"password": "ada@example.com"}, "password"),  # too similar to the email
        ({"email": ""}, "email"),
    ],
)
def test_register_rejects_bad_input_with_field_errors_and_creates_nothing(api_client, data, field):
    error = assert_error_shape(register(api_client, **data), 400, "validation_error")
    assert field in error["fields"]
    assert User.objects.count() == 0


def test_register_rejects_missing_fields(api_client):
    response = api_client.post("/api/auth/register", {}, format="json")
    error = assert_error_shape(response, 400, "validation_error")
    assert {"email", "password"} <= set(error["fields"])
    assert User.objects.count() == 0


@pytest.mark.parametrize("spelling", ["ada@example.com", "ADA@EXAMPLE.COM", "Ada@Example.Com"])
def test_register_rejects_duplicate_email_in_any_letter_case(api_client, spelling):
    UserFactory(email="ada@example.com")
    error = assert_error_shape(register(api_client, email=spelling), 400, "validation_error")
    assert "already exists" in error["fields"]["email"][0]
    assert User.objects.count() == 1


def test_register_rejects_a_non_json_body(api_client):
    response = api_client.post("/api/auth/register", data="{not json", content_type="application/json")
    assert_error_shape(response, 400, "parse_error")
    response = api_client.post("/api/auth/register", data="email=a@b.c", content_type="text/plain")
    assert_error_shape(response, 415, "unsupported_media_type")
    assert User.objects.count() == 0


def test_token_refresh_and_me_flow(api_client):
    register(api_client)
    tokens = obtain(api_client, "ADA@example.com", STRONG)
    assert tokens.status_code == 200
    access, refresh = tokens.json()["access"], tokens.json()["refresh"]

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    me = api_client.get("/api/users/me")
    assert me.status_code == 200
    assert me.json()["email"] == "ada@example.com"
    assert me.json()["is_staff"] is False

    api_client.credentials()
    refreshed = api_client.post("/api/auth/token/refresh", {"refresh": refresh}, format="json")
    assert refreshed.status_code == 200
    assert refreshed.json()["refresh"] != refresh  # rotated
    # The rotated-out refresh token is blacklisted.
    again = api_client.post("/api/auth/token/refresh", {"refresh": refresh}, format="json")
    assert_error_shape(again, 401, "token_not_valid")


def test_access_token_lives_fifteen_minutes(api_client, user):
    token = AccessToken(obtain(api_client, user.email, DEFAULT_PASSWORD).json()["access"])
    assert token["exp"] - token["iat"] == 15 * 60


def test_token_refuses_wrong_password_in_error_shape(api_client, user):
    response = obtain(api_client, user.email, "wrong-password-123")
    assert_error_shape(response, 401, "no_active_account")
    assert "access" not in response.content.decode()


def test_token_refuses_inactive_user(api_client):
    user = UserFactory(is_active=False)
    assert_error_shape(obtain(api_client, user.email, DEFAULT_PASSWORD), 401)


def test_logout_blacklists_refresh_token(api_client, user):
    tokens = obtain(api_client, user.email, DEFAULT_PASSWORD).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api_client.post("/api/auth/logout", {"refresh": tokens["refresh"]}, format="json").status_code == 204
    api_client.credentials()
    response = api_client.post("/api/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json")
    error = assert_error_shape(response, 401, "token_not_valid")
    assert "blacklisted" in error["message"].lower()


def test_logout_refuses_someone_elses_refresh_token(api_client, user):
    other = UserFactory()
    theirs = obtain(api_client, other.email, DEFAULT_PASSWORD).json()
    mine = obtain(api_client, user.email, DEFAULT_PASSWORD).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {mine['access']}")
    response = api_client.post("/api/auth/logout", {"refresh": theirs["refresh"]}, format="json")
    assert_error_shape(response, 400, "token_not_owned")
    api_client.credentials()
    assert api_client.post("/api/auth/token/refresh", {"refresh": theirs["refresh"]}, format="json").status_code == 200


def test_logout_needs_authentication_and_a_valid_token(api_client, auth_api_client):
    assert_error_shape(api_client.post("/api/auth/logout", {"refresh": "x"}, format="json"), 401)
    error = assert_error_shape(auth_api_client.post("/api/auth/logout", {"refresh": "garbage"}, format="json"), 400)
    assert "refresh" in error["fields"]


def test_me_requires_authentication(api_client):
    assert_error_shape(api_client.get("/api/users/me"), 401, "not_authenticated")


def test_expired_access_token_is_401_in_error_shape(api_client, user):
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(minutes=1))
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    error = assert_error_shape(api_client.get("/api/users/me"), 401, "token_expired")
    assert "expired" in error["message"]


def test_tampered_access_token_is_401(api_client, user):
    token = str(AccessToken.for_user(user))
    header, payload, signature = token.split(".")
    other = str(AccessToken.for_user(UserFactory()))
    forged = ".".join([header, other.split(".")[1], signature])  # someone else's claims, my signature
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert_error_shape(api_client.get("/api/users/me"), 401, "token_not_valid")


def test_access_token_of_deleted_user_is_refused(api_client):
    user = UserFactory()
    token = str(AccessToken.for_user(user))
    user.delete()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert_error_shape(api_client.get("/api/users/me"), 401)


def test_api_404_is_json_in_error_shape(client):
    response = client.get("/api/does-not-exist/")
    assert response.status_code == 404
    assert json.loads(response.content)["error"]["code"] == "not_found"
