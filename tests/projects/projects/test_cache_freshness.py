"""A write followed by a read never shows stale data to its owner: for every write service,
read (filling the cache), write through the service, read again."""

import pytest

from mvpvalidator import cache as app_cache
from projects.models import Signup
from projects.services.pages import landing_page_archive, landing_page_create, landing_page_publish, landing_page_update
from projects.services.projects import project_archive, project_create, project_delete, project_update
from projects.services.prototypes import prototype_generate
from projects.services.signups import signup_confirm, signup_create, signup_unsubscribe
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def detail(auth_api_client):
    def read(project_id):
        return auth_api_client.get(f"/api/projects/{project_id}/")

    return read


@pytest.fixture
def listing(auth_api_client):
    return lambda: auth_api_client.get("/api/projects/").json()


def test_reads_are_served_from_the_cache(detail, project, django_assert_num_queries):
    detail(project.pk)
    with django_assert_num_queries(0):  # identity and detail both from the cache
        detail(project.pk)
    assert app_cache.stats.snapshot()["families"]["project"]["miss"] == 1


def test_project_create_shows_in_the_list(commit, auth_api_client, listing):
    assert listing()["count"] == 0
    with commit():
        project_create(
            owner=auth_api_client.user, name="New", idea_description="A fresh idea to test.", price_point=5,
            business_model="saas",
        )  # fmt: skip
    assert listing()["count"] == 1


def test_project_update(commit, detail, listing, project):
    detail(project.pk), listing()
    with commit():
        project_update(project=project, data={"name": "Renamed"})
    assert detail(project.pk).json()["name"] == "Renamed"
    assert listing()["results"][0]["name"] == "Renamed"


def test_project_archive(commit, detail, listing, live_page, client):
    project = live_page.project
    detail(project.pk), listing(), client.get("/p/chaser/")
    with commit():
        project_archive(project=project)
    assert detail(project.pk).json()["status"] == "archived"
    assert listing()["results"][0]["status"] == "archived"
    assert client.get("/p/chaser/").status_code == 404


def test_project_delete(commit, detail, listing, live_page, client):
    project = live_page.project
    detail(project.pk), listing(), client.get("/p/chaser/")
    with commit():
        project_delete(project=project)
    assert detail(project.pk).status_code == 404
    assert listing()["count"] == 0
    assert client.get("/p/chaser/").status_code == 404


def test_prototype_generate(commit, detail, listing, project):
    detail(project.pk), listing()
    with commit():
        prototype_generate(project=project)
    assert detail(project.pk).json()["current_prototype"]["version"] == 1
    assert listing()["results"][0]["status"] == "prototype_ready"


def test_landing_page_create_update_publish_archive(commit, detail, listing, project, client):
    with commit():
        prototype_generate(project=project)
    detail(project.pk), listing()
    with commit():
        page = landing_page_create(project=project, slug="fresh")
    assert [p["slug"] for p in detail(project.pk).json()["landing_pages"]] == ["fresh"]

    assert client.get("/p/fresh/").status_code == 404  # a draft: and a 404 is not cached
    with commit():
        landing_page_publish(page=page)
    assert client.get("/p/fresh/").status_code == 200
    assert detail(project.pk).json()["landing_pages"][0]["status"] == "published"
    assert listing()["results"][0]["status"] == "live"

    with commit():
        landing_page_update(page=page, data={"headline": "Brand new headline"})
    assert "Brand new headline" in client.get("/p/fresh/").content.decode()
    assert detail(project.pk).json()["landing_pages"][0]["headline"] == "Brand new headline"

    with commit():
        landing_page_update(page=page, data={"slug": "moved"})
    assert client.get("/p/fresh/").status_code == 404
    assert client.get("/p/moved/").status_code == 200

    with commit():
        landing_page_archive(page=page)
    assert client.get("/p/moved/").status_code == 404
    assert detail(project.pk).json()["landing_pages"][0]["status"] == "archived"


def test_signup_create_confirm_unsubscribe(commit, detail, live_page):
    project_id = live_page.project_id
    assert detail(project_id).json()["signup_count"] == 0
    with commit():
        signup = signup_create(page=live_page, email="a@example.com").signup
    assert detail(project_id).json()["signup_count"] == 1
    with commit():
        signup_confirm(signup=signup)
    assert detail(project_id).json()["landing_pages"][0]["confirmed_count"] == 1
    with commit():
        signup_unsubscribe(signup=Signup.objects.get(pk=signup.pk))
    assert detail(project_id).json()["landing_pages"][0]["confirmed_count"] == 0


def test_another_owners_write_does_not_invalidate_my_cache(commit, detail, project, django_assert_num_queries):
    detail(project.pk)
    other = ProjectFactory()
    with commit():
        project_update(project=other, data={"name": "Theirs"})
    with django_assert_num_queries(0):
        detail(project.pk)


def test_a_failed_write_invalidates_nothing(commit, detail, project, django_assert_num_queries):
    from django.core.exceptions import ValidationError

    detail(project.pk)
    with pytest.raises(ValidationError), commit():
        project_update(project=project, data={"price_point": -1})
    with django_assert_num_queries(0):
        assert detail(project.pk).json()["price_point"] == "29.00"
