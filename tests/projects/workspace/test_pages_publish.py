"""Publish, unpublish and archive from the editor, seen from the public address."""

import pytest

from projects.models import Experiment, ExperimentStatus, LandingPage
from projects.services.experiments import experiment_create, experiment_move
from projects.services.pages import landing_page_create, landing_page_publish, landing_page_unpublish
from projects.services.prototypes import prototype_generate
from tests.factories import UserFactory
from tests.projects.workspace.test_pages_editor import edit_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]


@pytest.fixture
def page(project):
    prototype_generate(project=project)
    return landing_page_create(project=project, slug="chaser")


@pytest.fixture
def owner(client_factory, user):
    founder = client_factory()
    founder.force_login(user)
    return founder


@pytest.fixture
def visitor(client_factory):
    return client_factory()


def test_publish_unpublish_publish_archive_as_seen_at_the_public_address(owner, visitor, page):
    assert visitor.get("/p/chaser/").status_code == 404  # a draft

    response = owner.post(f"{edit_url(page)}publish")
    assert response.status_code == 302 and response["Location"] == edit_url(page)
    assert visitor.get("/p/chaser/").status_code == 200

    response = owner.post(f"{edit_url(page)}unpublish")  # asks first
    assert response.status_code == 200 and 'name="confirm" value="yes"' in response.content.decode()
    assert visitor.get("/p/chaser/").status_code == 200
    owner.post(f"{edit_url(page)}unpublish", {"confirm": "yes"})
    page.refresh_from_db()
    assert page.status == "draft"
    assert visitor.get("/p/chaser/").status_code == 404

    owner.post(f"{edit_url(page)}publish")
    assert visitor.get("/p/chaser/").status_code == 200

    response = owner.post(f"{edit_url(page)}archive")  # asks first
    assert response.status_code == 200 and "Archive this page?" in response.content.decode()
    assert visitor.get("/p/chaser/").status_code == 200
    owner.post(f"{edit_url(page)}archive", {"confirm": "yes"})
    page.refresh_from_db()
    assert page.status == "archived"
    assert visitor.get("/p/chaser/").status_code == 404
    html = owner.get(edit_url(page)).content.decode()
    assert "Archived pages are offline for good." in html
    assert f'action="{edit_url(page)}publish"' not in html
    assert '<fieldset class="bare stack" disabled>' in html  # the editor is read-only


# Without PUBLIC_BASE_URL the links shown to the founder use the address the request reached
# (`mvpvalidator.links.site_origin`): the test client's.
ORIGIN = "http://testserver"


def test_publish_panel_shows_the_public_link_the_preview_link_and_the_qr_place(owner, page):
    html = owner.get(edit_url(page)).content.decode()
    assert f"The public link will be {ORIGIN}/p/chaser/ once published" in html
    assert "?preview=" not in html
    landing_page_publish(page=page)
    html = owner.get(edit_url(page)).content.decode()
    assert f'href="{ORIGIN}/p/chaser/"' in html
    assert f"{ORIGIN}/p/chaser/?preview=" in html
    assert "Open preview" in html


def test_the_preview_link_marks_the_founders_browser(owner, page, client_factory):
    landing_page_publish(page=page)
    html = owner.get(edit_url(page)).content.decode()
    link = html.split(f"{ORIGIN}/p/chaser/?preview=", 1)[1].split('"', 1)[0]
    browser = client_factory()
    response = browser.get(f"/p/chaser/?preview={link}")
    assert response.status_code == 302 and "mvp_preview" in response.cookies


def test_unpublish_pauses_a_running_experiment(page):
    landing_page_publish(page=page)
    experiment = experiment_create(
        page=page,
        name="Headlines",
        variants=[{"key": "a", "weight": 50, "is_control": True}, {"key": "b", "weight": 50, "headline": "Other"}],
    )
    experiment_move(experiment=experiment, to=ExperimentStatus.RUNNING)
    landing_page_unpublish(page=page)
    assert Experiment.objects.get(pk=experiment.pk).status == ExperimentStatus.PAUSED


def test_unpublish_of_a_draft_changes_nothing(owner, page):
    owner.post(f"{edit_url(page)}unpublish", {"confirm": "yes"})
    page.refresh_from_db()
    assert page.status == "draft"


def test_another_founder_can_neither_publish_nor_archive(client, page):
    client.force_login(UserFactory())
    assert client.post(f"{edit_url(page)}publish").status_code == 404
    assert client.post(f"{edit_url(page)}archive", {"confirm": "yes"}).status_code == 404
    assert LandingPage.objects.get(pk=page.pk).status == "draft"


def test_publishing_is_post_only(owner, page):
    assert owner.get(f"{edit_url(page)}publish").status_code == 405
    assert LandingPage.objects.get(pk=page.pk).status == "draft"


def test_with_a_public_base_url_the_links_use_it_whatever_the_host(owner, page, settings):
    settings.PUBLIC_BASE_URL = "https://pages.example.com"
    settings.PUBLIC_BASE_URL_SET = True
    landing_page_publish(page=page)
    html = owner.get(edit_url(page), HTTP_HOST="testserver").content.decode()
    assert 'href="https://pages.example.com/p/chaser/"' in html
    assert "http://testserver/p/chaser/" not in html
