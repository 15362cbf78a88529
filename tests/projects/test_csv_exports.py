"""Every CSV the platform writes: no piece of a cell is a formula in any spreadsheet locale, and
each export answers the `Accept` headers that admit CSV (406 only for those that do not)."""

import csv
import io
from decimal import Decimal

import pytest
from django.test import Client

from projects.models import CampaignPlatform
from projects.services.campaigns import campaign_create, spend_import_csv
from tests.projects.conftest import signup_post_data
from tests.security.test_auth_api import assert_error_shape

pytestmark = pytest.mark.django_db

ACCEPTED = ("text/csv", "text/csv; charset=utf-8", "text/csv;header=present", "text/*", "*/*", None)
REFUSED = ("application/json", "text/html", "text/csv;q=0, */*")


def _rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode())))


def _accept(accept: str | None) -> dict[str, str]:
    return {} if accept is None else {"HTTP_ACCEPT": accept}


def _sign_up_through_the_form(page, **fields) -> None:
    visitor = Client(HTTP_USER_AGENT="Mozilla/5.0 Chrome/131")
    visitor.get(f"/p/{page.slug}/")
    response = visitor.post(f"/p/{page.slug}/signup", signup_post_data(visitor, **fields))
    assert response.status_code == 302, response.content


def test_signups_csv_has_no_formula_in_any_piece_a_semicolon_locale_splits_a_name_into(auth_api_client, live_page):
    _sign_up_through_the_form(
        live_page,
        email="a@example.com",
        name=";=1+41;",
        qualifying_answer="Sheets,+cmd|' /C calc'!A0\t@SUM(1)",
    )
    response = auth_api_client.get(f"/api/projects/{live_page.project_id}/signups.csv")
    assert response.status_code == 200
    header, row = _rows(response)
    cells = dict(zip(header, row, strict=True))
    assert cells["name"] == ";'=1+41;"
    assert cells["qualifying_answer"] == "Sheets,'+cmd|' /C calc'!A0\t'@SUM(1)"
    # What Excel in a `;`, `,`, tab or `|` locale makes of every cell: no piece starts a formula.
    for cell in row:
        for separator in ";,\t|":
            for piece in cell.split(separator):
                assert not piece.lstrip(" ").startswith(("=", "+", "-", "@")), (cell, piece)


def test_signups_csv_has_no_formula_behind_a_quote_either(auth_api_client, live_page):
    """`;"=1+41"`: a `;`-locale import reads the piece after `;` as an empty quoted part and then
    `=1+41`, a formula, so a quote before the trigger must not hide it from the guard."""
    _sign_up_through_the_form(live_page, email="q@example.com", name=';"=1+41";\'@SUM(1)')
    response = auth_api_client.get(f"/api/projects/{live_page.project_id}/signups.csv")
    _, row = _rows(response)
    for cell in row:
        for separator in ";,\t|":
            for piece in cell.split(separator):
                assert not piece.lstrip(' "').startswith(("=", "+", "-", "@")), (cell, piece)


@pytest.mark.parametrize("accept", ACCEPTED)
def test_signups_csv_answers_every_accept_header_that_admits_csv(auth_api_client, live_page, accept):
    response = auth_api_client.get(f"/api/projects/{live_page.project_id}/signups.csv", **_accept(accept))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert _rows(response)[0][0] == "email"


@pytest.mark.parametrize("accept", REFUSED)
def test_signups_csv_refuses_only_what_it_cannot_produce_in_the_error_shape(auth_api_client, live_page, accept):
    response = auth_api_client.get(f"/api/projects/{live_page.project_id}/signups.csv", HTTP_ACCEPT=accept)
    assert_error_shape(response, 406)


def test_signups_csv_errors_keep_the_json_shape_when_csv_was_asked_for(api_client, live_page):
    assert_error_shape(api_client.get(f"/api/projects/{live_page.project_id}/signups.csv", HTTP_ACCEPT="text/csv"), 401)


def _report_csv(user, project, accept: str | None):
    client = Client()
    client.force_login(user)
    return client.get(f"/projects/{project.pk}/report?format=csv", **_accept(accept))


@pytest.mark.parametrize("accept", ACCEPTED)
def test_report_csv_answers_every_accept_header_that_admits_csv(user, project, live_page, accept):
    response = _report_csv(user, project, accept)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"


@pytest.mark.parametrize("accept", REFUSED)
def test_report_csv_refuses_only_what_it_cannot_produce(user, project, live_page, accept):
    assert _report_csv(user, project, accept).status_code == 406


def test_report_csv_writes_the_platforms_numbers_as_numbers(user, project, live_page):
    campaign = campaign_create(
        project=project, name="Search", platform=CampaignPlatform.GOOGLE, budget=Decimal("100"), utm_campaign="search"
    )
    spend_import_csv(campaign=campaign, data="date,spend,clicks\n2026-01-05,12.50,30\n")
    header, *rows = _rows(_report_csv(user, project, "text/csv"))
    assert header == ["day", "views", "visitors", "signups", "preorders", "spend", "clicks"]
    [(day, *counts, spend, clicks)] = rows
    assert (day, counts, Decimal(spend), clicks) == ("2026-01-05", ["0"] * 4, Decimal("12.5"), "30")
