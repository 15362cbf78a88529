"""The JWT identity is served from the cache, and every change to the account reaches the
next request: deactivation, demotion, deletion. Checked from the outside, through the API."""

import pickle

import pytest
from django.core.cache import cache

from mvpvalidator import cache as app_cache
from security import selectors
from security.models import User
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def test_identity_is_cached_after_the_first_request(auth_api_client, django_assert_num_queries):
    assert auth_api_client.get("/api/users/me").status_code == 200
    with django_assert_num_queries(0):
        assert auth_api_client.get("/api/users/me").json()["email"] == auth_api_client.user.email


def test_deactivated_account_is_refused_on_the_next_request(commit, auth_api_client):
    assert auth_api_client.get("/api/users/me").status_code == 200
    user = User.objects.get(pk=auth_api_client.user.pk)
    user.is_active = False
    with commit():
        user.save()
    response = auth_api_client.get("/api/users/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "user_inactive"


def test_demoted_staff_loses_staff_endpoints_at_once(commit, staff_api_client):
    assert staff_api_client.get("/api/monitoring/cache-stats").status_code == 200
    staff = User.objects.get(pk=staff_api_client.user.pk)
    staff.is_staff = False
    with commit():
        staff.save(update_fields=["is_staff"])
    assert staff_api_client.get("/api/monitoring/cache-stats").status_code == 403


def test_deleted_account_is_refused(commit, auth_api_client):
    assert auth_api_client.get("/api/users/me").status_code == 200
    with commit():
        User.objects.get(pk=auth_api_client.user.pk).delete()
    response = auth_api_client.get("/api/users/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "user_not_found"


def test_login_stamp_does_not_drop_the_accounts_cached_projects(commit, user):
    before = app_cache.generations([f"user:{user.pk}"])
    with commit():
        user.save(update_fields=["last_login"])
    assert app_cache.generations([f"user:{user.pk}"]) == before
    user.name = "Renamed"
    with commit():
        user.save()
    assert app_cache.generations([f"user:{user.pk}"]) != before


def test_cached_identity_holds_no_password_hash_and_never_overwrites_it(user):
    selectors.user_get_for_auth(user_id=user.pk)
    key = app_cache.versioned_key(app_cache.FAMILIES["account"], ("auth", user.pk), [f"user:{user.pk}"])
    stored = cache.get(key)
    assert stored is not None
    assert user.password not in pickle.dumps(stored).decode("latin-1")

    cached = selectors.user_get_for_auth(user_id=user.pk)
    assert "password" in cached.get_deferred_fields()
    cached.name = "Changed through a cached instance"
    cached.save()
    fresh = User.objects.get(pk=user.pk)
    assert fresh.name == "Changed through a cached instance"
    assert fresh.check_password(DEFAULT_PASSWORD)


def test_each_request_gets_its_own_instance(user):
    first = selectors.user_get_for_auth(user_id=user.pk)
    second = selectors.user_get_for_auth(user_id=user.pk)
    assert first == second
    assert first is not second
