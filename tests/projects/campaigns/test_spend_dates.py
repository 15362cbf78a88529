"""Spend is what was spent: a row dated after today is refused with a field error, through the JSON rows, the CSV
upload and the import command, naming the row or line. Today is the server's (settings.TIME_ZONE, UTC by
default): a project has no time zone of its own."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from projects.models import CampaignSpend

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(auth_api_client, project):
    body = {"name": "Launch", "platform": "google", "budget": "300.00", "utm_campaign": "launch"}
    response = auth_api_client.post(f"/api/projects/{project.pk}/campaigns", body, format="json")
    assert response.status_code == 201
    return response.json()


def test_a_json_row_dated_tomorrow_is_a_field_error_and_nothing_is_written(auth_api_client, campaign):
    today = timezone.localdate()
    rows = [
        {"date": str(today), "spend": "10.00", "clicks": 5},
        {"date": str(today + timedelta(days=1)), "spend": "12.00", "clicks": 6},
    ]
    response = auth_api_client.post(f"/api/campaigns/{campaign['id']}/spend", {"rows": rows}, format="json")
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert list(fields["rows"]) == ["1"]  # the second row (from 0) only: today is fine, its spend so far
    (message,) = fields["rows"]["1"]["date"]
    assert f"{today + timedelta(days=1)} is in the future (today is {today}, UTC)" in message  # says whose today
    assert CampaignSpend.objects.count() == 0


def test_a_csv_line_dated_in_the_future_is_named_and_nothing_is_imported(auth_api_client, campaign):
    today = timezone.localdate()
    data = f"date,spend,clicks\n{today - timedelta(days=1)},42.50,30\n{today + timedelta(days=3)},9.00,4\n"
    response = auth_api_client.post(f"/api/campaigns/{campaign['id']}/spend.csv", data, content_type="text/csv")
    assert response.status_code == 400
    (line,) = response.json()["error"]["lines"]
    assert (line["line"], line["field"]) == (3, "date")
    assert f"{today + timedelta(days=3)} is in the future (today is {today}, UTC)" in line["message"]
    assert CampaignSpend.objects.count() == 0


def test_the_import_command_refuses_a_future_line_too(campaign, tmp_path):
    today = timezone.localdate()
    path = tmp_path / "spend.csv"
    path.write_text(f"date,spend\n{today + timedelta(days=1)},5.00\n")
    with pytest.raises(CommandError, match="line 2: date: .* is in the future"):
        call_command("import_spend", str(path), campaign=campaign["id"])
    assert CampaignSpend.objects.count() == 0


def test_today_is_the_servers_time_zone(settings, auth_api_client, campaign):
    # In Kiritimati (UTC+14) the date runs up to a day ahead of UTC: its today is accepted, its tomorrow refused,
    # and the refusal names the zone the date was judged in.
    settings.TIME_ZONE = "Pacific/Kiritimati"
    today = timezone.localdate()
    url = f"/api/campaigns/{campaign['id']}/spend.csv"
    accepted = auth_api_client.post(url, f"date,spend\n{today},3.00\n", content_type="text/csv")
    assert accepted.status_code == 200, accepted.content
    refused = auth_api_client.post(url, f"date,spend\n{today + timedelta(days=1)},3.00\n", content_type="text/csv")
    assert refused.status_code == 400
    assert f"(today is {today}, Pacific/Kiritimati)" in refused.json()["error"]["lines"][0]["message"]


def test_the_parser_refuses_a_day_after_the_given_today():
    from datetime import date

    from projects.analysis import spend_csv

    rows, errors = spend_csv.parse(
        "date,spend\n2026-11-30,1.00\n2026-12-01,2.00\n2026-12-02,3.00\n", today=date(2026, 12, 1), zone="UTC"
    )
    assert rows == [] and [(e.line, e.field) for e in errors] == [(4, "date")]
    rows, errors = spend_csv.parse("date,spend\n2026-12-02,3.00\n")  # no today given: no judgement of the date
    assert errors == [] and len(rows) == 1


def test_a_day_older_than_the_floor_is_refused_by_the_json_rows_and_the_csv(auth_api_client, campaign):
    # A mistyped year (0001) would be stored and stretch the campaign's chart: both spend endpoints refuse it,
    # naming the row / line and the field, and nothing is written.
    from projects.analysis import spend_csv

    today = timezone.localdate()
    oldest = today - timedelta(days=spend_csv.OLDEST_SPEND_DAYS)
    rows = [{"date": str(today), "spend": "1.00"}, {"date": "0001-01-01", "spend": "1.00"}]
    url = f"/api/campaigns/{campaign['id']}/spend"
    response = auth_api_client.post(url, {"rows": rows}, format="json")
    assert response.status_code == 400
    (line,) = response.json()["error"]["lines"]
    assert (line["line"], line["field"]) == (2, "date")
    assert f"0001-01-01 is more than two years ago (the oldest day taken is {oldest})" in line["message"]
    csv = f"date,spend\n{oldest - timedelta(days=1)},1.00\n{oldest},2.00\n"
    response = auth_api_client.post(f"{url}.csv", csv, content_type="text/csv")
    assert response.status_code == 400
    assert [(e["line"], e["field"]) for e in response.json()["error"]["lines"]] == [(2, "date")]
    assert CampaignSpend.objects.count() == 0
    ok = auth_api_client.post(url, {"rows": [{"date": str(oldest), "spend": "2.00"}]}, format="json")
    assert ok.status_code == 200 and ok.json() == {"created": 1, "updated": 0}


def test_the_json_rows_refuse_a_day_outside_the_campaign_as_the_csv_does(auth_api_client, campaign):
    url = f"/api/campaigns/{campaign['id']}"
    dates = {"starts_on": "2026-11-01", "ends_on": "2026-11-05"}
    assert auth_api_client.patch(f"{url}/", dates, format="json").status_code == 200
    response = auth_api_client.post(f"{url}/spend", {"rows": [{"date": "2020-01-01", "spend": "1"}]}, format="json")
    assert response.status_code == 400
    (line,) = response.json()["error"]["lines"]
    assert (
        line["field"] == "date" and "2020-01-01 is outside the campaign (2026-11-01 to 2026-11-05)." in line["message"]
    )
    assert CampaignSpend.objects.count() == 0
