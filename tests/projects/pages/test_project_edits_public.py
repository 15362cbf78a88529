"""An edit of a project shows on its public pages at once, though they are served from the cache:
the privacy notice names the project's contact, the page its name."""

import pytest

from projects.services.projects import project_update
from tests.factories import ProjectFactory, generate_and_publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(user):
    return generate_and_publish(ProjectFactory(owner=user, contact_email="old@example.com"), slug="chaser")


def test_a_new_contact_email_shows_on_the_privacy_notice_at_once(client, commit, page):
    assert "old@example.com" in client.get("/p/chaser/privacy").content.decode()  # now cached
    with commit():
        project_update(project=page.project, data={"contact_email": "new@example.com"})
    html = client.get("/p/chaser/privacy").content.decode()
    assert "new@example.com" in html and "old@example.com" not in html


def test_a_new_project_name_shows_on_the_page_at_once(client, commit, page):
    client.get("/p/chaser/")
    with commit():
        project_update(project=page.project, data={"name": "Renamed Thing"})
    assert "Renamed Thing" in client.get("/p/chaser/").content.decode()


def test_the_contact_edited_in_the_workspace_shows_at_once(client, page, user):
    """Through the project form, as the founder does it."""
    client.get("/p/chaser/privacy")
    client.force_login(user)
    edit = client.get(f"/projects/{page.project_id}/edit")
    assert edit.status_code == 200
    form = edit.context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data["contact_email"] = "new@example.com"
    assert client.post(f"/projects/{page.project_id}/edit", data).status_code == 302
    assert "new@example.com" in client.get("/p/chaser/privacy").content.decode()
