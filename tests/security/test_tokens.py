"""Tokens and sessions from the outside: a password change, a reset, a deactivation or a logout
ends every token and session of the account at once; expired tokens say so; one refresh token
is rotated exactly once, however many clients race with it."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from io import StringIO

import httpx
import pytest
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from security import services
from security.models import User
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-new-unusual-passphrase-77"


def obtain(user: User, password: str = DEFAULT_PASSWORD) -> dict:
    response = APIClient().post("/api/auth/token", {"email": user.email, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def me(access: str):
    return APIClient().get("/api/users/me", HTTP_AUTHORIZATION=f"Bearer {access}")


def refresh(token: str):
    return APIClient().post("/api/auth/token/refresh", {"refresh": token}, format="json")


def error_code(response) -> str:
    return response.json()["error"]["code"]


def assert_ended(tokens: dict) -> None:
    old_access, old_refresh = me(tokens["access"]), refresh(tokens["refresh"])
    assert old_access.status_code == 401 and error_code(old_access) == "token_revoked", old_access.content
    assert old_refresh.status_code == 401 and error_code(old_refresh) == "token_revoked", old_refresh.content


def staff_client() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_a_password_reset_ends_the_old_access_and_refresh_tokens(commit):
    user = UserFactory()
    tokens = obtain(user)
    assert me(tokens["access"]).status_code == 200
    with commit():
        services.user_reset_password(user=User.objects.get(pk=user.pk), password=NEW_PASSWORD)
    assert_ended(tokens)
    assert me(obtain(user, NEW_PASSWORD)["access"]).status_code == 200


def test_a_reset_through_an_instance_loaded_before_a_logout_still_ends_the_newer_tokens():
    user = UserFactory()
    loaded_earlier = User.objects.get(pk=user.pk)
    first = obtain(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {first['access']}")
    assert client.post("/api/auth/logout", {"refresh": first["refresh"]}, format="json").status_code == 204
    since_logout = obtain(user)
    services.user_reset_password(user=loaded_earlier, password=NEW_PASSWORD)
    assert_ended(since_logout)


def test_a_password_set_in_the_admin_ends_the_accounts_tokens_and_sessions():
    user = UserFactory()
    tokens = obtain(user)
    browser = Client()
    browser.force_login(user)
    assert browser.get("/api/users/me").status_code == 200
    response = staff_client().post(
        f"/admin/security/user/{user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content
    assert_ended(tokens)
    assert browser.get("/api/users/me").status_code in (401, 403)


def test_manage_py_changepassword_ends_the_accounts_tokens(monkeypatch):
    from django.contrib.auth.management.commands import changepassword

    user = UserFactory()
    tokens = obtain(user)
    # The terminal is the boundary here: the command reads the new password twice from it.
    monkeypatch.setattr(changepassword.getpass, "getpass", lambda prompt="": NEW_PASSWORD)
    call_command("changepassword", user.email, stdout=StringIO())
    assert_ended(tokens)
    assert me(obtain(user, NEW_PASSWORD)["access"]).status_code == 200


def test_deactivation_in_the_admin_ends_tokens_and_sessions_for_good():
    user = UserFactory()
    tokens = obtain(user)
    browser = Client()
    browser.force_login(user)
    admin = staff_client()
    url = f"/admin/security/user/{user.pk}/change/"
    form = {"email": user.email, "name": user.name, "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"}
    assert admin.post(url, {**form, "is_active": ""}).status_code == 302
    assert browser.get("/api/users/me").status_code in (401, 403)
    # Reactivated, the account does not get its old tokens and sessions back.
    assert admin.post(url, {**form, "is_active": "on"}).status_code == 302
    assert User.objects.get(pk=user.pk).is_active
    assert_ended(tokens)
    assert browser.get("/api/users/me").status_code in (401, 403)


def test_user_deactivate_ends_the_tokens_for_good():
    user = UserFactory()
    tokens = obtain(user)
    services.user_deactivate(user=User.objects.get(pk=user.pk))
    assert me(tokens["access"]).status_code == 401
    User.objects.filter(pk=user.pk).update(is_active=True)
    from mvpvalidator import cache as app_cache

    app_cache.bump(f"user:{user.pk}")  # as a bulk update must (see security.signals)
    assert_ended(tokens)


def test_logout_ends_the_access_token_and_every_other_token_and_session():
    user = UserFactory()
    laptop, phone = obtain(user), obtain(user)
    browser = Client()
    browser.force_login(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {laptop['access']}")
    assert client.post("/api/auth/logout", {"refresh": laptop["refresh"]}, format="json").status_code == 204
    assert me(laptop["access"]).status_code == 401
    assert_ended(phone)
    assert browser.get("/api/users/me").status_code in (401, 403)
    assert me(obtain(user)["access"]).status_code == 200  # signing in again works


def test_a_hash_upgrade_at_login_is_not_a_password_change():
    user = UserFactory()
    before = obtain(user)
    # A hash too weak for today's settings (a short salt): the next login upgrades it.
    User.objects.filter(pk=user.pk).update(password=make_password(DEFAULT_PASSWORD, salt="ab", hasher="md5"))
    after = obtain(user)
    assert User.objects.get(pk=user.pk).password != make_password(DEFAULT_PASSWORD, salt="ab", hasher="md5")
    assert me(before["access"]).status_code == 200
    assert me(after["access"]).status_code == 200
    assert refresh(after["refresh"]).status_code == 200


def test_an_expired_access_token_says_it_expired(api_client):
    token = RefreshToken.for_user(UserFactory()).access_token
    token.set_exp(lifetime=-timedelta(minutes=1))
    response = api_client.get("/api/projects/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_expired"
    assert "expired" in response.json()["error"]["message"]


def test_an_expired_refresh_token_says_it_expired():
    token = RefreshToken.for_user(UserFactory())
    token.set_exp(lifetime=-timedelta(minutes=1))
    response = refresh(str(token))
    assert response.status_code == 401
    assert error_code(response) == "token_expired" and "expired" in response.json()["error"]["message"]


def test_refreshing_the_token_of_a_deleted_account_is_a_401():
    user = UserFactory()
    tokens = obtain(user)
    user.delete()
    response = refresh(tokens["refresh"])
    assert response.status_code == 401 and error_code(response) == "no_active_account"


def test_a_garbled_refresh_token_is_a_401_in_the_error_shape():
    response = refresh("not.a.token")
    assert response.status_code == 401 and error_code(response) == "token_not_valid"
    assert refresh("").status_code == 400


def test_a_rotated_token_carries_the_version_on():
    user = UserFactory()
    first = refresh(obtain(user)["refresh"]).json()
    second = refresh(first["refresh"])
    assert second.status_code == 200
    assert me(second.json()["access"]).status_code == 200


@pytest.mark.postgres  # in-memory SQLite shares one connection between the server's threads
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_refreshes_of_one_token_give_exactly_one_new_pair(settings, live_server):
    settings.API_THROTTLES = {**settings.API_THROTTLES, "token_refresh": {"rate": "1000/min", "key": "ip"}}
    user = UserFactory()
    for _ in range(3):  # a few rounds: a race may need more than one chance to show
        token = str(RefreshToken.for_user(user))
        start = threading.Barrier(20)

        def attempt(_, token=token, start=start):
            with httpx.Client(timeout=30) as client:
                start.wait()
                return client.post(f"{live_server.url}/api/auth/token/refresh", json={"refresh": token})

        with ThreadPoolExecutor(max_workers=20) as pool:
            responses = list(pool.map(attempt, range(20)))
        statuses = [r.status_code for r in responses]
        assert statuses.count(200) == 1, statuses
        assert statuses.count(401) == 19, statuses
        winner = next(r for r in responses if r.status_code == 200).json()
        assert refresh(winner["refresh"]).status_code == 200
