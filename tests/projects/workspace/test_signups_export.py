"""The founder's signup CSV download: the filtered list, every page of it, streamed, with no cell
a spreadsheet would run, under a name that says whose and when."""

import csv
import io
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from projects.models import Channel, EventKind, Signup, Traffic
from projects.selectors.signups import PREORDER_COLUMN, SIGNUP_CSV_COLUMNS, SIGNUP_PAGE_SIZE
from tests.factories import ProjectFactory, UserFactory, generate_and_publish
from tests.projects.events.helpers import store_event

pytestmark = pytest.mark.django_db

T0 = datetime(2031, 3, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
def page(user):
    return generate_and_publish(ProjectFactory(owner=user, name="Invoice Chaser!"), slug="chaser")


@pytest.fixture
def owner(client, user):
    client.force_login(user)
    return client


def signup(page, email, **fields):
    return Signup.objects.create(landing_page=page, project_id=page.project_id, email=email, **fields)


def download(client, page, **query):
    response = client.get(reverse("signup-export", kwargs={"pk": page.project_id}), query)
    assert response.status_code == 200 and response.streaming
    body = b"".join(response.streaming_content).decode()
    return response, list(csv.reader(io.StringIO(body)))


def test_the_csv_holds_every_signup_of_the_filter_in_the_apis_columns(owner, page):
    for n in range(SIGNUP_PAGE_SIZE + 3):  # more than a page of the list
        signup(page, f"s{n}@example.com", channel=Channel.SOCIAL, utm_source="fb")
    signup(page, "mail@example.com", channel=Channel.EMAIL)
    signup(page, "me@example.com", channel=Channel.SOCIAL, traffic=Traffic.FOUNDER)
    response, rows = download(owner, page, channel="social")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert rows[0] == [*SIGNUP_CSV_COLUMNS, PREORDER_COLUMN]
    body = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert len(body) == SIGNUP_PAGE_SIZE + 3  # people only, as on the list; every page
    assert {row["channel"] for row in body} == {"social"} and body[0]["landing_page"] == "chaser"
    assert body[0]["email"] == f"s{SIGNUP_PAGE_SIZE + 2}@example.com"  # newest first
    _, everyone = download(owner, page, traffic="all")
    assert len(everyone) == 1 + SIGNUP_PAGE_SIZE + 5


def test_the_filename_names_the_project_and_the_day(owner, page):
    response, _ = download(owner, page)
    today = timezone.now().strftime("%Y-%m-%d")
    expected = f'attachment; filename="signups-invoice-chaser-{page.project_id}-{today}.csv"'
    assert response["Content-Disposition"] == expected


def test_search_and_preorder_filters_apply_to_the_csv(owner, page):
    buyer = signup(page, "buyer@example.com", visitor_hash="h1", name="Buyer")
    signup(page, "other@example.com", visitor_hash="h2", name="Other")
    store_event(key="p1", page=page, kind=EventKind.PREORDER, visitor_hash="h1", occurred_at=T0, day=T0.date())
    _, rows = download(owner, page, preorder="yes")
    assert [row[0] for row in rows[1:]] == [buyer.email] and rows[1][-1] == "yes"
    _, rows = download(owner, page, q="OTH")
    assert [row[0] for row in rows[1:]] == ["other@example.com"] and rows[1][-1] == "no"


def test_no_cell_is_a_formula(owner, page):
    signup(page, "evil@example.com", name='=HYPERLINK("http://x")', qualifying_answer="Ann;@SUM(A1)", referrer="+1")
    _, rows = download(owner, page)
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["name"] == '\'=HYPERLINK("http://x")'
    assert row["qualifying_answer"] == "Ann;'@SUM(A1)"
    assert row["referrer"] == "'+1"


def test_bad_filters_are_left_out_not_a_500(owner, page):
    signup(page, "a@example.com")
    _, rows = download(owner, page, channel="pigeon", older="garbage", confirmed="maybe")
    assert [row[0] for row in rows[1:]] == ["a@example.com"]


def test_another_founder_gets_a_404(client, page):
    client.force_login(UserFactory())
    assert client.get(reverse("signup-export", kwargs={"pk": page.project_id})).status_code == 404
