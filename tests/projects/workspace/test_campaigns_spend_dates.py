"""The spend-date rules, the same whichever way a day comes in (the screen's one-day form, its file
upload, the API's rows and file): inside the campaign's dates when set, not in the future, and not older
than `spend_csv.OLDEST_SPEND_DAYS` (a mistyped year). The form shows the refusal beside its date field,
a file names the line. And a campaign whose stored spend is centuries old (written before these rules)
still opens."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from projects.analysis import spend_csv
from projects.models import CampaignSpend
from projects.selectors.campaigns import MAX_CHART_DAYS, campaign_days
from projects.services.campaigns import campaign_create, spend_today

pytestmark = pytest.mark.django_db


@pytest.fixture
def founder(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def campaign(project):  # a draft with no dates: only today and the floor bound its spend
    return campaign_create(project=project, name="Autumn", platform="google", budget="300", utm_campaign="autumn")


@pytest.fixture
def dated(project):
    return campaign_create(
        project=project,
        name="Week",
        platform="google",
        budget="300",
        utm_campaign="week",
        starts_on=date(2026, 11, 1),
        ends_on=date(2026, 11, 5),
    )


def _url(name, campaign):
    return reverse(name, args=[campaign.project_id, campaign.pk])


def _day(day, spend="1"):
    return {"day-date": str(day), "day-spend": spend}


def _upload(data: bytes):
    return {"upload-file": SimpleUploadedFile("spend.csv", data, content_type="text/csv")}


def _date_error(html: str) -> str:
    match = re.search(r'<ul class="errorlist" id="id_day-date_error">(.*?)</ul>', html, re.S)
    assert match, "no error beside the date"
    return re.sub(r"<[^>]+>", "", match[1]).strip()


def _file_errors(html: str) -> list[str]:
    block = re.search(r'data-testid="file-errors">(.*?)</div>', html, re.S)
    assert block, "no file errors shown"
    return [re.sub(r"\s+", " ", item) for item in re.findall(r"<li>(.*?)</li>", block[1], re.S)]


def test_a_day_in_year_one_is_refused_beside_the_date_and_the_campaign_still_opens(founder, campaign):
    response = founder.post(_url("campaign-spend", campaign), _day("0001-01-01"))
    assert response.status_code == 400
    assert "0001-01-01 is more than two years ago" in _date_error(response.content.decode())
    assert CampaignSpend.objects.count() == 0
    assert founder.get(_url("campaign-detail", campaign)).status_code == 200


def test_a_file_line_in_year_one_is_named_and_nothing_is_imported(founder, campaign):
    response = founder.post(_url("campaign-spend-upload", campaign), _upload(b"date,spend\n0001-01-01,1\n"))
    assert response.status_code == 400
    (item,) = _file_errors(response.content.decode())
    assert item.startswith("Line 2") and "0001-01-01 is more than two years ago" in item
    assert CampaignSpend.objects.count() == 0
    assert founder.get(_url("campaign-detail", campaign)).status_code == 200


def test_the_oldest_day_taken_is_the_floor_and_the_day_before_is_refused(founder, campaign):
    today, _ = spend_today()
    oldest = today - timedelta(days=spend_csv.OLDEST_SPEND_DAYS)
    refused = founder.post(_url("campaign-spend", campaign), _day(oldest - timedelta(days=1)))
    assert refused.status_code == 400
    assert f"the oldest day taken is {oldest}" in _date_error(refused.content.decode())
    assert founder.post(_url("campaign-spend", campaign), _day(oldest)).status_code == 302
    assert list(CampaignSpend.objects.values_list("date", flat=True)) == [oldest]


def test_a_day_outside_the_campaign_is_refused_by_the_form_as_by_the_file(founder, dated):
    response = founder.post(_url("campaign-spend", dated), _day("2026-10-31"))
    assert response.status_code == 400
    assert "2026-10-31 is outside the campaign (2026-11-01 to 2026-11-05)." in _date_error(response.content.decode())
    response = founder.post(_url("campaign-spend", dated), _day("2026-11-06"))
    assert response.status_code == 400 and "is outside the campaign" in _date_error(response.content.decode())
    upload = founder.post(_url("campaign-spend-upload", dated), _upload(b"date,spend\n2026-10-31,1\n"))
    assert upload.status_code == 400
    (item,) = _file_errors(upload.content.decode())
    assert item.startswith("Line 2") and "2026-10-31 is outside the campaign (2026-11-01 to 2026-11-05)." in item
    assert CampaignSpend.objects.count() == 0
    assert founder.post(_url("campaign-spend", dated), _day("2026-11-01")).status_code == 302
    assert founder.post(_url("campaign-spend", dated), _day("2026-11-05")).status_code == 302
    assert CampaignSpend.objects.count() == 2


def test_the_date_picker_is_bounded_by_the_campaign_and_the_floor(founder, campaign, dated):
    today, _ = spend_today()
    oldest = today - timedelta(days=spend_csv.OLDEST_SPEND_DAYS)
    html = founder.get(_url("campaign-detail", campaign)).content.decode()
    (field,) = re.findall(r'<input type="date" name="day-date"[^>]*>', html)
    assert f'min="{oldest}"' in field and f'max="{today}"' in field
    html = founder.get(_url("campaign-detail", dated)).content.decode()
    (field,) = re.findall(r'<input type="date" name="day-date"[^>]*>', html)
    assert 'min="2026-11-01"' in field and 'max="2026-11-05"' in field


def test_a_campaign_with_spend_stored_in_year_one_still_opens_with_a_bounded_chart(founder, campaign):
    # Rows written before the spend-date rules: the screen must not fail on them.
    today, _ = spend_today()
    CampaignSpend.objects.create(campaign=campaign, date=date(1, 1, 1), spend=Decimal("1"))
    only_old = founder.get(_url("campaign-detail", campaign))
    assert only_old.status_code == 200 and "<svg" in only_old.content.decode()
    CampaignSpend.objects.create(campaign=campaign, date=today, spend=Decimal("2"))
    response = founder.get(_url("campaign-detail", campaign))
    assert response.status_code == 200 and "<svg" in response.content.decode()
    days = campaign_days(campaign=campaign)
    assert len(days) == MAX_CHART_DAYS and days[-1].day == today
    assert days[-1].cost_per_signup_so_far is None  # no signups; the old day's spend still counts in the totals
