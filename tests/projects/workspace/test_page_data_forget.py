"""What the database cascade cannot take with a deleted project or account: the public pages' cached
copies and the pages' pictures in the storage. Once the deletion commits, the page is a 404 at
once (a signup posted to it too, never a 500), and its logo and hero files are gone."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from PIL import Image

from projects.services.page_images import page_image_set
from projects.services.projects import owner_data_forget, project_delete
from security.models import User
from tests.factories import DEFAULT_PASSWORD, ProjectFactory, UserFactory, generate_and_publish
from tests.projects.conftest import signup_post_data
from tests.projects.workspace.test_page_images_service import stored_files

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def png() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 120, 90)).save(out, "PNG")
    return SimpleUploadedFile("picture.png", out.getvalue())


@pytest.fixture
def page(commit):
    owner = UserFactory()
    with commit():
        page = generate_and_publish(ProjectFactory(owner=owner), slug="chaser")
        page = page_image_set(page=page, kind="logo", upload=png())
        page = page_image_set(page=page, kind="hero", upload=png())
    return page


def warm(client, slug="chaser"):
    """A visitor reads the page and its privacy notice: both now come from the cache."""
    assert client.get(f"/p/{slug}/").status_code == 200
    assert client.get(f"/p/{slug}/privacy").status_code == 200


def test_deleting_a_project_takes_its_page_off_the_web_and_its_pictures_out_of_storage(
    client, commit, page, media_root
):
    other = generate_and_publish(ProjectFactory(), slug="other")
    with commit():
        page_image_set(page=other, kind="logo", upload=png())
    warm(client)
    assert len(stored_files(media_root)) == 3
    with commit():
        project_delete(project=page.project)
    assert client.get("/p/chaser/").status_code == 404
    assert client.get("/p/chaser/privacy").status_code == 404
    # The visitor who loaded the page before the deletion sends the form: a 404, not a 500.
    assert client.post("/p/chaser/signup", signup_post_data(client)).status_code == 404
    # Only the other project's logo is left.
    other.refresh_from_db()
    assert [p.name for p in stored_files(media_root)] == [other.logo.name.rsplit("/", 1)[-1]]


def test_the_pictures_stay_when_the_deletion_rolls_back(commit, page, media_root):
    with commit(), pytest.raises(RuntimeError), transaction.atomic():
        project_delete(project=page.project)
        raise RuntimeError("the transaction fails after the delete")
    assert len(stored_files(media_root)) == 2
    page.refresh_from_db()


def test_deleting_an_account_forgets_its_pages_as_the_account_deletion_does(client, commit, page, media_root):
    """What `accounts.services.account_delete` runs before deleting the user (through the hook
    projects registers), then the cascade."""
    warm(client)
    owner = page.project.owner
    with commit():
        owner_data_forget(user=owner)
        User.objects.filter(pk=owner.pk).delete()
    assert client.get("/p/chaser/").status_code == 404
    assert client.post("/p/chaser/signup", signup_post_data(client)).status_code == 404
    assert stored_files(media_root) == []


def test_forgetting_touches_only_the_owners_pages(commit, page, media_root):
    with commit():
        owner_data_forget(user=UserFactory())
    assert len(stored_files(media_root)) == 2


def test_deleting_the_account_in_the_browser_takes_its_pages_and_pictures_with_it(client, commit, page, media_root):
    """Through the account page: the registered deletion hook runs inside the deleting
    transaction, so the page is a 404 at once and no picture stays behind."""
    warm(client)
    owner = page.project.owner
    founder = Client()
    founder.force_login(owner)
    with commit():
        response = founder.post("/accounts/delete/", {"password": DEFAULT_PASSWORD, "confirm_email": owner.email})
    assert response.status_code == 302
    assert not User.objects.filter(pk=owner.pk).exists()
    assert client.get("/p/chaser/").status_code == 404
    assert client.get("/p/chaser/privacy").status_code == 404
    assert client.post("/p/chaser/signup", signup_post_data(client)).status_code == 404
    assert stored_files(media_root) == []
