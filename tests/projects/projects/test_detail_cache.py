"""The API's project detail served from the cache: the JSON body itself, and its owner's identity.

A warm read costs no query and one round trip to Redis (the generations of the account's, the
family's and the project's namespaces, read together); the body is the one the API renders
uncached. Whatever changes the account ends its access at once, however warm the cache: a
deactivation, a new password, a deletion; whatever changes the project shows on the next read,
including the answer of the PATCH itself.
"""

import time

import pytest
from rest_framework.test import APIClient

from projects.services.projects import project_update
from projects.services.prototypes import prototype_generate
from security import services
from security.models import User
from security.tokens import VersionedRefreshToken
from tests.conftest import bearer
from tests.factories import UserFactory
from tests.redis_wire import round_trips

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-new-unusual-passphrase-77"


@pytest.fixture
def url(project):
    prototype_generate(project=project)
    return f"/api/projects/{project.pk}/"


def _warm(client: APIClient, url: str) -> None:
    for _ in range(2):
        assert client.get(url).status_code == 200


def test_the_cached_body_is_the_one_the_api_renders_uncached(auth_api_client, url, settings):
    settings.ENABLE_QUERY_CACHE = False
    uncached = auth_api_client.get(url)
    settings.ENABLE_QUERY_CACHE = True
    _warm(auth_api_client, url)
    cached = auth_api_client.get(url)
    assert cached.status_code == uncached.status_code == 200
    assert cached["Content-Type"] == uncached["Content-Type"] == "application/json"
    assert cached.content == uncached.content
    assert cached.json()["current_prototype"] is not None and cached.json()["signup_count"] == 0


def test_a_warm_read_costs_no_query(auth_api_client, url, django_assert_num_queries):
    _warm(auth_api_client, url)
    with django_assert_num_queries(0):
        assert auth_api_client.get(url).status_code == 200


@pytest.mark.redis
def test_a_warm_read_makes_one_round_trip_to_redis(auth_api_client, url, monkeypatch):
    _warm(auth_api_client, url)
    trips = round_trips(monkeypatch)  # on the wire, whatever sends it (the flusher's are not the request's)
    assert auth_api_client.get(url).status_code == 200
    assert [str(trip) for trip in trips] == ["MGET"], trips


# Committed for real: the PATCH's bump runs when its transaction commits, before its answer is
# read (the suite's per-request capture would hold it until the request ends).
@pytest.mark.django_db(transaction=True)
def test_a_patch_answers_the_new_detail_and_the_next_read_shows_it(auth_api_client, url):
    _warm(auth_api_client, url)
    patched = auth_api_client.patch(url, {"price_point": "42.50"}, format="json")
    assert patched.status_code == 200 and patched.json()["price_point"] == "42.50"
    assert auth_api_client.get(url).json()["price_point"] == "42.50"


def test_a_write_outside_the_request_shows_on_the_next_read(commit, auth_api_client, url, project):
    _warm(auth_api_client, url)
    with commit():
        project_update(project=project, data={"name": "Renamed elsewhere"})
    assert auth_api_client.get(url).json()["name"] == "Renamed elsewhere"


def test_a_deactivated_account_is_refused_at_once_however_warm_the_cache(commit, auth_api_client, url, user):
    _warm(auth_api_client, url)
    with commit():
        services.user_deactivate(user=user)
    refused = auth_api_client.get(url)
    assert refused.status_code == 401, refused.content
    assert refused.json()["error"]["code"] in ("user_inactive", "token_revoked")


def test_a_new_password_ends_the_token_at_once_however_warm_the_cache(commit, auth_api_client, url, user):
    _warm(auth_api_client, url)
    with commit():
        services.user_reset_password(user=User.objects.get(pk=user.pk), password=NEW_PASSWORD)
    refused = auth_api_client.get(url)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "token_revoked"
    # A token issued under the new password reads it (from the cache the change left fresh).
    renewed = VersionedRefreshToken.for_user(User.objects.get(pk=user.pk)).access_token
    auth_api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {renewed}")
    assert auth_api_client.get(url).status_code == 200


def test_a_deleted_account_is_refused_at_once_however_warm_the_cache(commit, auth_api_client, url, user):
    _warm(auth_api_client, url)
    with commit():
        User.objects.get(pk=user.pk).delete()
    refused = auth_api_client.get(url)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "user_not_found"


def test_another_account_gets_404_not_the_owners_cached_body(auth_api_client, url):
    _warm(auth_api_client, url)
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION=bearer(UserFactory()))
    assert stranger.get(url).status_code == 404


def test_an_access_token_remembered_as_verified_still_expires(auth_api_client, url, user):
    # Past its `exp` but within the verification's leeway (5 s) for two seconds more at least:
    # accepted now, and remembered.
    token = VersionedRefreshToken.for_user(user).access_token
    token["exp"] = int(time.time()) - 2
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get(url).status_code == 200
    time.sleep(3.2)
    refused = client.get(url)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "token_expired"


def test_a_token_altered_after_its_original_was_verified_is_refused(auth_api_client, url):
    _warm(auth_api_client, url)
    genuine = auth_api_client._credentials["HTTP_AUTHORIZATION"].removeprefix("Bearer ")
    header, payload, signature = genuine.split(".")
    altered = ("B" if signature[0] != "B" else "C") + signature[1:]
    forged = APIClient()
    forged.credentials(HTTP_AUTHORIZATION=f"Bearer {header}.{payload}.{altered}")
    refused = forged.get(url)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "token_not_valid"
