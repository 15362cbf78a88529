"""The founder's report page: the owner's only, with charts and a CSV export."""

import pytest
from django.core.management import call_command
from django.test import Client

from tests.projects.reports.test_api import visit

pytestmark = pytest.mark.django_db


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_report_page_is_the_owners_with_charts_and_a_csv_export(user, project, live_page):
    for n in range(12):
        visit(live_page, n, query="?utm_source=google&utm_medium=cpc", sign_up=n % 4 == 0)
    call_command("flush_events")
    page = _signed_in(user).get(f"/projects/{project.pk}/report")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="verdict">not enough data<' in html
    assert html.count("<svg") >= 2 and "Daily visitors and signups" in html
    exported = _signed_in(user).get(f"/projects/{project.pk}/report?format=csv")
    assert exported["Content-Type"].startswith("text/csv")
    lines = exported.content.decode().strip().splitlines()
    assert lines[0] == "day,views,visitors,signups,preorders,spend,clicks"
    assert lines[1].split(",")[1:5] == ["12", "12", "3", "0"]


def test_the_report_page_refuses_others(project):
    assert Client().get(f"/projects/{project.pk}/report").status_code == 302  # to the login page
    from tests.factories import UserFactory

    assert _signed_in(UserFactory()).get(f"/projects/{project.pk}/report").status_code == 404
