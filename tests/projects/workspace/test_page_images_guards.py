"""The page image writes refuse what every page write refuses (an archived page, a project that
takes no changes), shown as a message on the editor; and an upload over the size cap is refused
from its declared length, before Django reads (and spools) its body."""

import io
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http.multipartparser import MultiPartParser
from django.test import Client
from django.urls import reverse
from PIL import Image

from mvpvalidator.exceptions import ConflictError
from projects.models import LandingPage
from projects.services.page_images import page_image_clear, page_image_set
from projects.services.pages import landing_page_archive
from projects.services.projects import project_archive
from tests.factories import ProjectFactory, UserFactory, generate_and_publish
from tests.projects.workspace.test_page_images_service import stored_files

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def png(size=(300, 200)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 90)).save(out, "PNG")
    return SimpleUploadedFile("picture.png", out.getvalue())


@pytest.fixture
def page():
    return generate_and_publish(ProjectFactory(owner=UserFactory()), slug="leafwise")


def images_url(page) -> str:
    return f"/projects/{page.project_id}/pages/{page.pk}/images"


@pytest.fixture
def owner(page):
    client = Client()
    client.force_login(page.project.owner)
    return client


@pytest.mark.parametrize("close", ["page", "project"])
def test_an_archived_page_or_project_takes_no_new_image(page, media_root, close):
    page = page_image_set(page=page, kind="logo", upload=png())
    if close == "page":
        landing_page_archive(page=page)
    else:
        project_archive(project=page.project)
    with pytest.raises(ConflictError):
        page_image_set(page=page, kind="hero", upload=png())
    with pytest.raises(ConflictError):
        page_image_clear(page=page, kind="logo")
    page.refresh_from_db()
    assert page.logo and not page.hero_image
    assert len(stored_files(media_root)) == 1


def test_the_editor_says_why_an_archived_page_keeps_its_images(owner, page, media_root):
    landing_page_archive(page=page)
    response = owner.post(images_url(page), {"kind": "logo", "action": "upload", "logo": png()}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("page-edit", args=[page.project_id, page.pk])
    assert "An archived page cannot be edited." in response.content.decode()
    assert stored_files(media_root) == []


@pytest.mark.parametrize("query", ["?kind=hero", ""])
def test_a_body_over_the_cap_is_refused_before_it_is_read(owner, page, media_root, settings, query):
    settings.UPLOAD_MAX_BYTES = 100 * 1024
    big = SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * (settings.UPLOAD_MAX_BYTES + 100 * 1024))
    with mock.patch.object(MultiPartParser, "parse", side_effect=AssertionError("the body was read")) as parse:
        response = owner.post(images_url(page) + query, {"kind": "hero", "action": "upload", "hero_image": big})
    assert not parse.called
    assert response.status_code == 413
    html = response.content.decode()
    assert "The file is larger than 100 KB." in html
    assert 'id="hero-errors"' in html and 'aria-invalid="true"' in html
    # Named, the form whose file it was is the one that says so.
    assert ('id="logo-errors"' in html) == (query == "")
    assert stored_files(media_root) == []
    assert not LandingPage.objects.get(pk=page.pk).hero_image


def test_a_file_just_under_the_cap_still_reaches_the_service(owner, page, settings):
    settings.UPLOAD_MAX_BYTES = 100 * 1024
    almost = SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * (settings.UPLOAD_MAX_BYTES - 10))
    response = owner.post(images_url(page), {"kind": "hero", "action": "upload", "hero_image": almost})
    # Read, judged by its content, refused beside its field as before.
    assert response.status_code == 400
    assert "not an image we can use" in response.content.decode()


def test_the_image_form_still_needs_its_csrf_token(page):
    client = Client(enforce_csrf_checks=True)
    client.force_login(page.project.owner)
    response = client.post(images_url(page), {"kind": "logo", "action": "upload", "logo": png()})
    assert response.status_code == 403


def test_a_page_archived_meanwhile_is_refused_under_the_row_lock(page, media_root):
    """The caller's copy still says published; the row, read again under its lock, says archived."""
    stale = LandingPage.objects.select_related("project").get(pk=page.pk)
    landing_page_archive(page=page)
    with pytest.raises(ConflictError):
        page_image_set(page=stale, kind="logo", upload=png())
    assert stored_files(media_root) == []
