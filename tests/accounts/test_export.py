"""The founder's data export: one JSON document, a zip of CSVs, or one CSV per kind; only the
founder's own data, cells defused for spreadsheets."""

import csv
import io
import json
import zipfile

import pytest

from accounts import exports
from projects.models import Signup
from tests.factories import ProjectFactory, UserFactory, generate_and_publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(user):
    project = ProjectFactory(owner=user, name='=HYPERLINK("http://evil")')
    page = generate_and_publish(project, slug="mine")
    for n in range(3):
        Signup.objects.create(landing_page=page, project=project, email=f"v{n}@example.com", name=f"Visitor {n}")
    Signup.objects.create(landing_page=page, project=project, email="x@example.com", name="-2+3")
    other = ProjectFactory(owner=UserFactory(), name="Not mine")
    other_page = generate_and_publish(other, slug="theirs")
    Signup.objects.create(landing_page=other_page, project=other, email="stranger@example.com")
    return project, page


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_page_offers_every_format(client, user):
    client.force_login(user)
    content = client.get("/accounts/export/").content
    for href in ("?format=json", "?format=csv", "?format=csv&amp;kind=signups", "?format=csv&amp;kind=account"):
        assert f'href="/accounts/export/{href}"'.encode() in content


def test_json_is_one_document_of_the_founders_data_only(client, user, data):
    project, page = data
    client.force_login(user)
    response = client.get("/accounts/export/?format=json")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"] and "no-store" in response["Cache-Control"]
    document = json.loads(body(response))
    assert list(document) == ["account", "projects", "pages", "signups"]
    assert document["account"][0]["email"] == user.email
    assert [p["name"] for p in document["projects"]] == [project.name]  # raw in JSON: not a spreadsheet
    assert [p["slug"] for p in document["pages"]] == ["mine"]
    assert sorted(s["email"] for s in document["signups"]) == sorted(
        ["v0@example.com", "v1@example.com", "v2@example.com", "x@example.com"]
    )
    assert all(s["landing_page_slug"] == "mine" for s in document["signups"])


def test_csv_is_a_zip_of_one_file_per_kind_with_cells_defused(client, user, data):
    client.force_login(user)
    response = client.get("/accounts/export/?format=csv")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(body(response)))
    assert archive.namelist() == ["account.csv", "projects.csv", "pages.csv", "signups.csv"]
    projects = list(csv.DictReader(io.StringIO(archive.read("projects.csv").decode())))
    assert projects[0]["name"] == '\'=HYPERLINK("http://evil")'
    signups = list(csv.DictReader(io.StringIO(archive.read("signups.csv").decode())))
    assert len(signups) == 4 and "stranger@example.com" not in {s["email"] for s in signups}
    assert {s["name"] for s in signups} >= {"'-2+3", "Visitor 0"}
    pages = list(csv.DictReader(io.StringIO(archive.read("pages.csv").decode())))
    assert pages[0]["slug"] == "mine" and pages[0]["features"].startswith("[")


def test_one_kind_as_csv(client, user, data):
    client.force_login(user)
    response = client.get("/accounts/export/?format=csv&kind=signups")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="mvp-validator-signups.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(body(response).decode())))
    assert rows[0][:4] == ["id", "project_id", "landing_page_slug", "email"] and len(rows) == 5


def test_an_empty_kind_still_has_its_header(client, user):
    client.force_login(user)
    rows = list(csv.reader(io.StringIO(body(client.get("/accounts/export/?format=csv&kind=signups")).decode())))
    assert rows == [list(exports.get("signups").columns)]


def test_unknown_kind_or_format_is_refused(client, user):
    client.force_login(user)
    assert client.get("/accounts/export/?format=csv&kind=secrets").status_code == 404
    assert client.get("/accounts/export/?format=xml").status_code == 400


def test_signups_are_streamed_not_loaded_whole(client, user, data, django_assert_max_num_queries):
    client.force_login(user)
    with django_assert_max_num_queries(8):
        response = client.get("/accounts/export/?format=json")
        body(response)
