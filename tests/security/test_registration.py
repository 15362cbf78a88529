"""Registration from the outside: every field's errors in one answer, and whether an address
already has an account told only to a request that would otherwise have created one."""

import pytest

from security.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

STRONG = "a-long-unusual-passphrase-42"


def register(client, **data):
    payload = {"email": "ada@example.com", "password": STRONG, "name": "Ada"}
    payload.update(data)
    return client.post("/api/auth/register", payload, format="json")


def fields_of(response) -> dict:
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    return error["fields"]


def test_every_fields_errors_come_in_one_answer(api_client):
    fields = fields_of(register(api_client, email="not-an-email", password="short"))
    assert set(fields) == {"email", "password"}
    assert User.objects.count() == 0


@pytest.mark.parametrize(
    "data",
    [
        {"password": "short"},
        {"password": "password123"},
        {"password": "ada@example.com"},  # too similar to the address
        {"name": "n" * 151},
    ],
)
def test_a_taken_address_is_not_told_beside_another_error(api_client, data):
    UserFactory(email="ada@example.com")
    fields = fields_of(register(api_client, **data))
    assert "email" not in fields, fields
    assert "already exists" not in str(fields)
    assert User.objects.count() == 1


def test_a_taken_address_is_told_when_the_rest_is_valid(api_client):
    UserFactory(email="ada@example.com")
    fields = fields_of(register(api_client, email="ADA@example.com"))
    assert set(fields) == {"email"} and "already exists" in fields["email"][0]
    assert User.objects.count() == 1


def test_asking_whether_addresses_are_taken_costs_a_registration_each(settings, api_client):
    settings.API_THROTTLES = {**settings.API_THROTTLES, "register": {"rate": "2/hour", "key": "ip"}}
    UserFactory(email="ada@example.com")
    assert register(api_client).status_code == 400
    assert register(api_client, email="bob@example.com").status_code == 201
    refused = register(api_client, email="cyd@example.com")
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
