"""A campaign's daily spend on its screen: one day through the form (checked as the API checks it),
a CSV file uploaded (a bad file names every bad line and imports nothing; a good one says how many
days were added or replaced; uploading it again replaces the days), and the size bound."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from projects.analysis import spend_csv
from projects.models import CampaignSpend
from projects.services.campaigns import campaign_create, campaign_move, spend_today

pytestmark = pytest.mark.django_db

GOOD = b"date,spend,impressions,clicks\n2026-11-01,30.00,4000,20\n2026-11-02,$45.5,5000,30\n\n2026-11-03,0,0,0\n"
BAD = (
    b"Day,Cost,Clicks\n"
    b"2026-11-01,12.00,10\n"
    b"2026-13-01,5,1\n"  # line 3: no 13th month
    b"2026-11-02,-4,2\n"  # line 4: negative spend
    b"2026-11-01,3.333,x\n"  # line 5: a day already on line 2, three decimals, clicks not a number
    b"2026-11-04,7\n"  # line 6: a value missing
)


@pytest.fixture
def founder(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def campaign(project):
    return campaign_create(project=project, name="Autumn", platform="google", budget="300", utm_campaign="autumn")


def _url(name, campaign):
    return reverse(name, args=[campaign.project_id, campaign.pk])


def _day(**overrides):
    data = {"date": "2026-11-01", "spend": "12.50", "clicks": "40", "impressions": "1000", **overrides}
    return {f"day-{k}": v for k, v in data.items()}


def _rows():
    return list(CampaignSpend.objects.order_by("date").values_list("date", "spend", "impressions", "clicks"))


def _field_error(html: str, field: str) -> str:
    match = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', html, re.S)
    assert match, f"no error beside {field}"
    return re.sub(r"<[^>]+>", "", match[1]).strip()


def _upload(data: bytes, name: str = "spend.csv"):
    return {"upload-file": SimpleUploadedFile(name, data, content_type="text/csv")}


# --- One day -----------------------------------------------------------------------------------


def test_a_day_is_added_then_replaced(founder, campaign):
    response = founder.post(_url("campaign-spend", campaign), _day(), follow=True)
    assert "Spend of 01 Nov 2026 added." in response.content.decode()
    founder.post(_url("campaign-spend", campaign), _day(spend="20", clicks="", impressions=""))
    response = founder.get(_url("campaign-detail", campaign))
    assert [(str(d), str(s), i, c) for d, s, i, c in _rows()] == [("2026-11-01", "20.00", 0, 0)]
    assert "20.00 USD" in response.content.decode()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"date": ""}, "date", "This field is required."),
        ({"date": "01/11/2026x"}, "date", "Enter a valid date."),
        ({"spend": "-1"}, "spend", "greater than or equal to 0"),
        ({"spend": "1.234"}, "spend", "2 decimal places"),
        ({"spend": "ten"}, "spend", "Enter a number."),
        ({"clicks": "-3"}, "clicks", "greater than or equal to 0"),
        ({"clicks": "2000", "impressions": "1000"}, "clicks", "More clicks than impressions."),
    ],
)
def test_a_bad_day_is_refused_beside_its_field_and_nothing_is_written(founder, campaign, overrides, field, message):
    response = founder.post(_url("campaign-spend", campaign), _day(**overrides))
    assert response.status_code == 400
    assert message in _field_error(response.content.decode(), f"day-{field}")
    assert CampaignSpend.objects.count() == 0


def test_a_day_in_the_future_is_refused(founder, campaign):
    today, zone = spend_today()
    response = founder.post(_url("campaign-spend", campaign), _day(date=(today + timedelta(days=1)).isoformat()))
    assert response.status_code == 400
    assert f"is in the future (today is {today}, {zone})" in _field_error(response.content.decode(), "day-date")
    assert CampaignSpend.objects.count() == 0
    assert founder.post(_url("campaign-spend", campaign), _day(date=today.isoformat())).status_code == 302


def test_a_day_before_the_campaign_is_refused_as_the_api_refuses_it(founder, campaign):
    # One set of spend-date rules (`spend_import`): the form, the file and the API's rows agree.
    campaign.starts_on = spend_today()[0]
    campaign.save()
    response = founder.post(_url("campaign-spend", campaign), _day(date="2026-01-01"))
    assert response.status_code == 400
    assert "2026-01-01 is outside the campaign" in _field_error(response.content.decode(), "day-date")
    assert CampaignSpend.objects.count() == 0


def test_a_completed_campaign_takes_no_spend_and_says_so(founder, campaign):
    campaign_move(campaign=campaign, to="active")
    campaign_move(campaign=campaign, to="completed")
    response = founder.post(_url("campaign-spend", campaign), _day())
    assert response.status_code == 400
    assert "A completed campaign takes no more spend." in response.content.decode()
    response = founder.post(_url("campaign-spend-upload", campaign), _upload(GOOD))
    assert response.status_code == 400 and "A completed campaign takes no more spend." in response.content.decode()
    assert CampaignSpend.objects.count() == 0


# --- A file ------------------------------------------------------------------------------------


def test_a_bad_file_names_every_bad_line_and_imports_nothing(founder, campaign):
    response = founder.post(_url("campaign-spend-upload", campaign), _upload(BAD))
    html = response.content.decode()
    assert response.status_code == 400
    _, errors = spend_csv.parse(BAD)
    assert {e.line for e in errors} == {3, 4, 5, 6}
    block = re.search(r'data-testid="file-errors">(.*?)</div>', html, re.S)[1]
    items = re.findall(r"<li>(.*?)</li>", block, re.S)
    assert len(items) == len(errors) == 6
    for error, item in zip(errors, items, strict=True):
        assert item.startswith(f"Line {error.line}")
        assert error.message.replace("'", "&#x27;") in item
    assert "Nothing was imported: the file has 6 problems" in html
    assert CampaignSpend.objects.count() == 0


def test_a_good_file_is_imported_and_says_how_many_days(founder, campaign):
    response = founder.post(_url("campaign-spend-upload", campaign), _upload(GOOD), follow=True)
    assert "The file is imported: 3 days added, 0 replaced." in response.content.decode()
    assert [(str(d), str(s), i, c) for d, s, i, c in _rows()] == [
        ("2026-11-01", "30.00", 4000, 20),
        ("2026-11-02", "45.50", 5000, 30),
        ("2026-11-03", "0.00", 0, 0),
    ]


def test_uploading_again_replaces_the_days(founder, campaign):
    founder.post(_url("campaign-spend-upload", campaign), _upload(GOOD))
    response = founder.post(_url("campaign-spend-upload", campaign), _upload(GOOD), follow=True)
    assert "0 days added, 3 replaced." in response.content.decode()
    assert CampaignSpend.objects.count() == 3
    changed = b"date,spend\n2026-11-02,50\n2026-11-04,9.99\n"
    response = founder.post(_url("campaign-spend-upload", campaign), _upload(changed), follow=True)
    assert "1 day added, 1 replaced." in response.content.decode()
    assert [(str(d), str(s)) for d, s, _, _ in _rows()] == [
        ("2026-11-01", "30.00"),
        ("2026-11-02", "50.00"),
        ("2026-11-03", "0.00"),
        ("2026-11-04", "9.99"),
    ]


def test_a_bad_file_after_a_good_one_changes_nothing(founder, campaign):
    founder.post(_url("campaign-spend-upload", campaign), _upload(GOOD))
    before = _rows()
    founder.post(_url("campaign-spend-upload", campaign), _upload(b"date,spend\n2026-11-01,99\n2026-11-02,oops\n"))
    assert _rows() == before


def test_a_file_over_the_bound_is_refused_unread(founder, campaign, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000_000
    big = b"date,spend\n" + b"2026-11-01,1\n" * (spend_csv.MAX_BYTES // 13 + 10)
    response = founder.post(_url("campaign-spend-upload", campaign), _upload(big))
    assert response.status_code == 400
    assert "larger than 1000 kB" in _field_error(response.content.decode(), "upload-file")
    assert CampaignSpend.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The submitted file is empty."),
        (b"\xff\xfe\x00bad", "not UTF-8"),
        (b"when,howmuch\n2026-11-01,3\n", "Missing column(s): date, spend"),
    ],
)
def test_files_that_are_no_spend_file_say_why(founder, campaign, data, message):
    response = founder.post(_url("campaign-spend-upload", campaign), _upload(data))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert CampaignSpend.objects.count() == 0


def test_no_file_is_an_error_beside_the_field(founder, campaign):
    response = founder.post(_url("campaign-spend-upload", campaign), {})
    assert response.status_code == 400
    assert "This field is required." in _field_error(response.content.decode(), "upload-file")


def test_the_screen_shows_the_expected_columns_and_an_example(founder, campaign):
    html = founder.get(_url("campaign-detail", campaign)).content.decode()
    assert "<code>date</code>" in html and "<code>spend</code>" in html and "<code>clicks</code>" in html
    rows, errors = spend_csv.parse(re.search(r"<pre>(.*?)</pre>", html, re.S)[1])
    assert errors == [] and len(rows) == 2  # the example is a file the importer takes
    assert 'enctype="multipart/form-data"' in html


def test_the_spend_table_is_newest_first(founder, campaign):
    founder.post(_url("campaign-spend-upload", campaign), _upload(GOOD))
    html = founder.get(_url("campaign-detail", campaign)).content.decode()
    days = re.findall(r'<time datetime="(\d{4}-\d\d-\d\d)">', html)
    assert days == ["2026-11-03", "2026-11-02", "2026-11-01"]
