"""The signups API from the outside: the paginated list, the CSV export, and who may read them."""

import csv
import io

import pytest

from projects.models import Signup
from projects.services.signups import signup_create
from tests.factories import ProjectFactory, UserFactory, generate_and_publish
from tests.security.test_auth_api import assert_error_shape

pytestmark = pytest.mark.django_db


def test_signup_list_is_paginated_newest_first(auth_api_client, live_page):
    for n in range(3):
        signup_create(page=live_page, email=f"s{n}@example.com")
    body = auth_api_client.get(f"/api/projects/{live_page.project_id}/signups?limit=2").json()
    assert body["count"] == 3
    assert [s["email"] for s in body["results"]] == ["s2@example.com", "s1@example.com"]
    assert body["results"][0]["landing_page_slug"] == "chaser"


def test_signups_csv_streams_every_row_and_defuses_formulas(auth_api_client, live_page):
    signup_create(page=live_page, email="a@example.com", name="=HYPERLINK(1)")
    signup_create(page=live_page, email="b@example.com", utm={"utm_source": "reddit"})
    response = auth_api_client.get(f"/api/projects/{live_page.project_id}/signups.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.streaming
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {r["email"] for r in rows} == {"a@example.com", "b@example.com"}
    by_email = {r["email"]: r for r in rows}
    assert by_email["a@example.com"]["name"] == "'=HYPERLINK(1)"
    assert by_email["b@example.com"]["utm_source"] == "reddit"


def test_signups_need_a_token(api_client, live_page):
    assert_error_shape(api_client.get(f"/api/projects/{live_page.project_id}/signups"), 401)
    assert_error_shape(api_client.get(f"/api/projects/{live_page.project_id}/signups.csv"), 401)


def test_another_users_signups_are_not_listed(auth_api_client):
    other_page = generate_and_publish(ProjectFactory(owner=UserFactory()), slug="other")
    signup_create(page=other_page, email="secret@example.com")
    mine = ProjectFactory(owner=auth_api_client.user)
    body = auth_api_client.get(f"/api/projects/{mine.pk}/signups").json()
    assert body["count"] == 0
    assert Signup.objects.count() == 1
