"""Money as it leaves the platform: JSON, the CSV export and the report page write amounts rounded to the
currency's minor unit. A day's spend of 88.60 came out of the database's sum as 88.6000000000000 (SQLite reads a
decimal sum back as a 15-digit float) and was written so in the CSV export and on the report page."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

pytestmark = pytest.mark.django_db

LONG_MONEY = re.compile(r"\d\.\d{3,}\s*(USD|EUR|GBP|CAD|AUD)")  # more places than any of these currencies has


@pytest.fixture
def spent(auth_api_client, project, live_page):
    """Two campaigns spending 44.30 each on the same day (88.60), and 60.15 the day after."""
    day = timezone.localdate() - timedelta(days=2)
    for tag, rows in (
        ("search", [(day, "44.30", 30), (day + timedelta(days=1), "60.15", 41)]),
        ("social", [(day, "44.30", 29)]),
    ):
        body = {"name": tag, "platform": "google", "budget": "500", "utm_campaign": tag}
        campaign = auth_api_client.post(f"/api/projects/{project.pk}/campaigns", body, format="json").json()
        response = auth_api_client.post(
            f"/api/campaigns/{campaign['id']}/spend",
            {"rows": [{"date": str(d), "spend": s, "clicks": c} for d, s, c in rows]},
            format="json",
        )
        assert response.status_code == 200, response.content
    return day


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_csv_export_writes_the_days_spend_to_the_cent(user, project, spent):
    exported = signed_in(user).get(f"/projects/{project.pk}/report?format=csv")
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert [(r["day"], r["spend"]) for r in rows] == [
        (str(spent), "88.60"),
        (str(spent + timedelta(days=1)), "60.15"),
    ]  # was 88.6000000000000 and 60.1500000000000 on SQLite


def test_the_report_page_and_json_write_money_to_the_cent(user, auth_api_client, project, spent):
    html = signed_in(user).get(f"/projects/{project.pk}/report").content.decode()
    assert "148.75 USD" in html  # the spend, 88.60 + 60.15
    assert not LONG_MONEY.search(html)
    report = auth_api_client.get(f"/api/projects/{project.pk}/report").json()
    assert report["inputs"]["spend"] == "148.75"
    assert report["test_card"]["price"] == "29.00"
    assert report["test_card"]["allowable_cost_per_lead"] == "7.73"  # was 7.73333
    campaigns = auth_api_client.get(f"/api/projects/{project.pk}/campaigns").json()["results"]
    assert {c["budget"] for c in campaigns} == {"500.00"}
    spend_rows = auth_api_client.get(f"/api/campaigns/{campaigns[0]['id']}/spend").json()
    assert all(re.fullmatch(r"\d+\.\d{2}", row["spend"]) for row in spend_rows["rows"])
