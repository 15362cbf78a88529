import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories import UserFactory
from tests.fake_openai import openai_server  # noqa: F401 - a shared fixture
from tests.services import postgres_missing, redis_missing, require


@pytest.fixture(autouse=True)
def _clean_cache():
    """Every test starts with an empty cache (only this test run's keys on a shared Redis)."""
    if settings.ENABLE_REDIS_CACHE:
        cache.delete_pattern("*")
    else:
        cache.clear()
    yield


@pytest.fixture(autouse=True)
def _require_marked_services(request):
    if request.node.get_closest_marker("postgres"):
        require(postgres_missing())
    if request.node.get_closest_marker("redis"):
        require(redis_missing())


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True)


@pytest.fixture
def api_client():
    return APIClient()


def bearer(user) -> str:
    return f"Bearer {RefreshToken.for_user(user).access_token}"


@pytest.fixture
def auth_api_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(user))
    client.user = user
    return client


@pytest.fixture
def staff_api_client(staff_user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(staff_user))
    client.user = staff_user
    return client
