"""Campaigns and their daily spend through the API: the CSV importer (all or nothing,
idempotent) and the command, and the costs per click, signup and pre-order from first-touch
UTM tags."""

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from projects.models import Campaign, CampaignSpend
from tests.projects.analysis.test_spend_csv import BAD, GOOD
from tests.projects.conftest import signup_post_data

pytestmark = pytest.mark.django_db


def campaign_of(api, project, **overrides):
    body = {"name": "Launch", "platform": "google", "budget": "300.00", "utm_campaign": "launch", **overrides}
    response = api.post(f"/api/projects/{project.pk}/campaigns", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


# --- The API -----------------------------------------------------------------------------------


def test_a_campaign_is_created_moved_and_refused_bad_moves(auth_api_client, project):
    body = campaign_of(auth_api_client, project)
    assert body["status"] == "draft" and body["summary"]["spend"] == "0.00"
    url = f"/api/campaigns/{body['id']}"
    assert auth_api_client.post(f"{url}/pause").status_code == 409
    started = auth_api_client.post(f"{url}/start").json()
    assert started["status"] == "active" and started["starts_on"]
    assert auth_api_client.delete(f"{url}/").status_code == 409  # only drafts are deleted
    assert auth_api_client.post(f"{url}/complete").json()["status"] == "completed"
    assert auth_api_client.post(f"{url}/start").status_code == 409
    assert auth_api_client.patch(f"{url}/", {"name": "x"}, format="json").status_code == 409


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"platform": "tiktok"}, "platform"),
        ({"budget": "-1"}, "budget"),
        ({"budget": "abc"}, "budget"),
        ({"starts_on": "2026-11-10", "ends_on": "2026-11-01"}, "ends_on"),
        ({"utm_campaign": "!!!"}, "utm_campaign"),
    ],
)
def test_bad_campaigns_are_field_errors_and_nothing_is_written(auth_api_client, project, overrides, field):
    body = {"name": "Launch", "platform": "google", "budget": "300.00", "utm_campaign": "launch", **overrides}
    response = auth_api_client.post(f"/api/projects/{project.pk}/campaigns", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert Campaign.objects.count() == 0


def test_one_utm_tag_per_campaign_of_a_project(auth_api_client, project):
    campaign_of(auth_api_client, project)
    response = auth_api_client.post(
        f"/api/projects/{project.pk}/campaigns",
        {"name": "Again", "platform": "meta", "budget": "10", "utm_campaign": "Launch"},
        format="json",
    )
    assert response.status_code == 400 and "utm_campaign" in response.json()["error"]["fields"]


def test_a_bad_file_imports_nothing_and_names_its_lines(auth_api_client, project):
    campaign = campaign_of(auth_api_client, project)
    response = auth_api_client.post(f"/api/campaigns/{campaign['id']}/spend.csv", BAD, content_type="text/csv")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_spend_file"
    assert [line["line"] for line in error["lines"]] == [3, 4, 5, 5, 5]
    assert CampaignSpend.objects.count() == 0


def test_a_good_file_twice_leaves_the_same_rows(auth_api_client, project):
    campaign = campaign_of(auth_api_client, project)
    url = f"/api/campaigns/{campaign['id']}/spend.csv"
    first = auth_api_client.post(url, GOOD, content_type="text/csv").json()
    rows = list(CampaignSpend.objects.order_by("date").values_list("date", "spend", "impressions", "clicks"))
    second = auth_api_client.post(url, {"file": _upload(GOOD)}, format="multipart").json()
    assert (first, second) == ({"created": 3, "updated": 0}, {"created": 0, "updated": 3})
    assert list(CampaignSpend.objects.order_by("date").values_list("date", "spend", "impressions", "clicks")) == rows
    summary = auth_api_client.get(f"/api/campaigns/{campaign['id']}/spend").json()["summary"]
    assert (summary["spend"], summary["clicks"], summary["cost_per_click"]) == ("75.50", 50, "1.51")


def _upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("spend.csv", data, content_type="text/csv")


def test_spend_rows_as_json_with_field_errors(auth_api_client, project):
    campaign = campaign_of(auth_api_client, project)
    url = f"/api/campaigns/{campaign['id']}/spend"
    bad = auth_api_client.post(url, {"rows": [{"date": "2026-11-01", "spend": "-1"}]}, format="json")
    assert bad.status_code == 400 and CampaignSpend.objects.count() == 0
    ok = auth_api_client.post(url, {"rows": [{"date": "2026-11-01", "spend": "9.99", "clicks": 3}]}, format="json")
    assert ok.json() == {"created": 1, "updated": 0}


def test_costs_per_signup_and_preorder_follow_the_first_touch_tag(auth_api_client, project, live_page):
    campaign = campaign_of(auth_api_client, project, utm_campaign="autumn")
    auth_api_client.post(
        f"/api/campaigns/{campaign['id']}/spend",
        {"rows": [{"date": "2026-11-01", "spend": "60", "clicks": 40}]},
        format="json",
    )
    for i in range(3):
        visitor = Client(HTTP_USER_AGENT="Mozilla/5.0 Chrome/131", REMOTE_ADDR=f"10.7.0.{i + 1}")
        visitor.get(f"/p/{live_page.slug}/?utm_source=google&utm_medium=cpc&utm_campaign=autumn")
        data = signup_post_data(visitor, email=f"p{i}@example.com", utm_campaign="autumn")
        assert visitor.post(f"/p/{live_page.slug}/signup", data).status_code == 302
    other = Client(HTTP_USER_AGENT="Mozilla/5.0 Chrome/131", REMOTE_ADDR="10.7.1.1")
    other.get(f"/p/{live_page.slug}/")
    other.post(f"/p/{live_page.slug}/signup", signup_post_data(other, email="organic@example.com"))
    call_command("flush_events")
    summary = auth_api_client.get(f"/api/campaigns/{campaign['id']}/").json()["summary"]
    assert (summary["signups"], summary["cost_per_signup"], summary["cost_per_click"]) == (3, "20.00", "1.50")


# --- The command -------------------------------------------------------------------------------


def test_the_command_imports_all_or_nothing_and_is_idempotent(auth_api_client, project, tmp_path):
    campaign = campaign_of(auth_api_client, project)
    bad, good = tmp_path / "bad.csv", tmp_path / "good.csv"
    bad.write_bytes(BAD)
    good.write_bytes(GOOD)
    with pytest.raises(CommandError, match=r"line 3: date") as refused:
        call_command("import_spend", str(bad), campaign=campaign["id"])
    assert "line 4: spend" in str(refused.value) and CampaignSpend.objects.count() == 0
    call_command("import_spend", str(good), campaign=campaign["id"])
    rows = list(CampaignSpend.objects.order_by("date").values_list("date", "spend", "clicks"))
    call_command("import_spend", str(good), campaign=campaign["id"])
    assert list(CampaignSpend.objects.order_by("date").values_list("date", "spend", "clicks")) == rows
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_spend", str(tmp_path / "missing.csv"), campaign=campaign["id"])
    with pytest.raises(CommandError, match="No campaign"):
        call_command("import_spend", str(good), campaign=999999)
