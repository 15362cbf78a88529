"""The demand report of a project through the API (`GET /api/projects/<id>/report`): the score
and verdict of `projects.analysis.score` from the project's own traffic, signups and spend."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from projects.models import LandingPage
from tests.projects.conftest import signup_post_data

pytestmark = pytest.mark.django_db


def visit(page, n: int, *, query: str = "", sign_up: bool = False) -> None:
    visitor = Client(HTTP_USER_AGENT="Mozilla/5.0 Chrome/131", REMOTE_ADDR=f"10.5.{n // 250}.{n % 250 + 1}")
    visitor.get(f"/p/{page.slug}/{query}")
    if sign_up:
        visitor.post(f"/p/{page.slug}/signup", signup_post_data(visitor, email=f"r{n}@example.com"))


def test_a_new_page_has_not_enough_data_and_says_what_is_missing(auth_api_client, project, live_page):
    for n in range(20):
        visit(live_page, n, sign_up=n % 5 == 0)
    call_command("flush_events")
    body = auth_api_client.get(f"/api/projects/{project.pk}/report").json()
    assert body["verdict"] == "not enough data"
    assert body["inputs"]["visitors"] == 20 and body["inputs"]["signups"] == 4
    assert body["visitors_needed"] >= 280 and body["test_card"]["channel"] == "direct"
    assert body["project_name"] == project.name


def test_a_page_nobody_signs_up_on_is_not_validated(auth_api_client, project, live_page):
    LandingPage.objects.filter(pk=live_page.pk).update(published_at=timezone.now() - timedelta(days=10))
    for n in range(400):
        visit(live_page, n, query="?utm_source=google&utm_medium=cpc", sign_up=n == 0)
    call_command("flush_events")
    body = auth_api_client.get(f"/api/projects/{project.pk}/report").json()
    assert body["inputs"]["visitors"] == 400 and body["inputs"]["signups"] == 1
    assert body["test_card"]["channel"] == "paid_search"
    assert body["verdict"] == "not validated"


def test_the_report_is_the_owners_only(api_client, auth_api_client, project):
    other = Client()
    assert api_client.get(f"/api/projects/{project.pk}/report").status_code == 401
    assert other.get(f"/api/projects/{project.pk}/report").status_code == 401


def test_a_kept_report_with_a_final_verdict_completes_the_project(auth_api_client, project, live_page):
    LandingPage.objects.filter(pk=live_page.pk).update(published_at=timezone.now() - timedelta(days=10))
    for n in range(320):
        visit(live_page, n, query="?utm_source=google&utm_medium=cpc")
    call_command("flush_events")
    kept = auth_api_client.post(f"/api/projects/{project.pk}/reports")
    assert kept.status_code == 201 and kept.json()["verdict"] == "not validated"
    assert kept.json()["report"]["inputs"]["visitors"] == 320
    project.refresh_from_db()
    assert (project.status, project.verdict) == ("completed", "not validated") and project.completed_at
    listed = auth_api_client.get(f"/api/projects/{project.pk}/reports").json()["results"]
    assert [r["verdict"] for r in listed] == ["not validated"]


def test_the_test_card_is_written_at_launch_editable_until_traffic_then_locked(auth_api_client, project, live_page):
    url = f"/api/projects/{project.pk}/test-card"
    card = auth_api_client.get(url).json()
    assert card["written_at"] and card["locked_at"] is None and card["channel"] == "direct"
    bad = auth_api_client.patch(url, {"overrides": {"signup_bar": 7}}, format="json")
    assert bad.status_code == 400 and "overrides" in bad.json()["error"]["fields"]
    assert auth_api_client.patch(url, {"channel": "mars"}, format="json").status_code == 400
    changed = auth_api_client.patch(
        url, {"channel": "paid_search", "expected_cpc": "1.50", "overrides": {"signup_bar": 0.08}}, format="json"
    ).json()
    assert (changed["channel"], changed["signup_bar"], changed["expected_cpc"]) == ("paid_search", 0.08, "1.50")
    visit(live_page, 1)  # the first visitor...
    call_command("flush_events")
    locked = auth_api_client.get(url).json()
    assert locked["locked_at"] is not None and locked["signup_bar"] == 0.08  # ...locks what was promised
    refused = auth_api_client.patch(url, {"overrides": {"signup_bar": 0.01}}, format="json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "test_card_locked"
    assert auth_api_client.get(url).json()["signup_bar"] == 0.08


def test_a_free_project_gets_a_clear_refusal_not_an_error(auth_api_client, project, live_page):
    project.price_point = 0
    project.save(update_fields=["price_point"])
    response = auth_api_client.get(f"/api/projects/{project.pk}/report")
    assert response.status_code == 409 and response.json()["error"]["code"] == "no_price"
