"""The page editor's image forms and the page's QR code, through HTTP: owner only (another
founder's page is a 404, an anonymous visitor is sent to sign in), a refusal shown beside its field
with nothing written, and the QR code a valid SVG of the public address."""

import io
import xml.etree.ElementTree as ET

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from projects.models import LandingPage
from projects.services.pages import landing_page_create
from projects.services.prototypes import prototype_generate
from tests.factories import DEFAULT_PASSWORD, ProjectFactory, UserFactory
from tests.projects.workspace.test_page_images_service import png_declaring, stored_files

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def page():
    project = ProjectFactory(owner=UserFactory())
    prototype_generate(project=project)
    return landing_page_create(project=project, slug="leafwise")


def signed_in(user) -> Client:
    client = Client()
    assert client.login(email=user.email, password=DEFAULT_PASSWORD)
    return client


def png(size=(300, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 90)).save(out, "PNG")
    return out.getvalue()


def images_url(page) -> str:
    return f"/projects/{page.project_id}/pages/{page.pk}/images"


def qr_url(page) -> str:
    return f"/projects/{page.project_id}/pages/{page.pk}/qr.svg"


def test_the_owner_uploads_a_logo_and_is_sent_back_to_the_editor(page, media_root):
    client = signed_in(page.project.owner)
    response = client.post(
        images_url(page), {"kind": "logo", "action": "upload", "logo": SimpleUploadedFile("l.png", png())}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/projects/{page.project_id}/pages/{page.pk}/"
    page.refresh_from_db()
    assert page.logo and (page.logo_width, page.logo_height) == (300, 200)
    # Served from local storage, cacheable for good, never sniffed.
    served = client.get(page.logo.url)
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert "immutable" in served["Cache-Control"] and served["X-Content-Type-Options"] == "nosniff"
    # The editor's section shows it, with a Remove button.
    html = client.get(images_url(page)).content.decode()
    assert page.logo.url in html and "Remove logo" in html


def test_a_non_image_is_refused_beside_its_field_and_nothing_is_written(page, media_root):
    client = signed_in(page.project.owner)
    before = LandingPage.objects.values().get(pk=page.pk)
    fake = SimpleUploadedFile("hero.png", b"MZ\x90\x00 not a picture" * 50, content_type="image/png")
    response = client.post(images_url(page), {"kind": "hero", "action": "upload", "hero_image": fake})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="hero-errors"' in html and "This file is not an image we can use" in html
    assert 'aria-describedby="hero-help hero-errors" aria-invalid="true"' in html
    assert LandingPage.objects.values().get(pk=page.pk) == before
    assert stored_files(media_root) == []


def test_a_bomb_and_an_oversized_file_are_refused_over_http(page, media_root, settings):
    client = signed_in(page.project.owner)
    bomb = SimpleUploadedFile("bomb.png", png_declaring(30000, 30000))
    html = client.post(images_url(page), {"kind": "logo", "action": "upload", "logo": bomb}).content.decode()
    assert "The image is too large in pixels." in html
    settings.UPLOAD_MAX_BYTES = 1024
    big = SimpleUploadedFile("big.png", png((400, 400)) + b"\0" * 2048)
    html = client.post(images_url(page), {"kind": "logo", "action": "upload", "logo": big}).content.decode()
    assert "The file is larger than 1 KB." in html
    assert stored_files(media_root) == []


def test_upload_without_a_file_says_so(page):
    response = signed_in(page.project.owner).post(images_url(page), {"kind": "logo", "action": "upload"})
    assert response.status_code == 400 and "Choose an image file to upload." in response.content.decode()


def test_the_owner_removes_the_hero_image(page, media_root, django_capture_on_commit_callbacks):
    client = signed_in(page.project.owner)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            images_url(page), {"kind": "hero", "action": "upload", "hero_image": SimpleUploadedFile("h.png", png())}
        )
        page.refresh_from_db()
        name = page.hero_image.name
        response = client.post(images_url(page), {"kind": "hero", "action": "remove"})
    assert response.status_code == 302
    page.refresh_from_db()
    assert not page.hero_image and not (media_root / name).exists()


def test_another_founder_gets_a_404_and_changes_nothing(page, media_root):
    stranger = signed_in(UserFactory())
    upload = SimpleUploadedFile("l.png", png())
    assert stranger.post(images_url(page), {"kind": "logo", "action": "upload", "logo": upload}).status_code == 404
    assert stranger.get(images_url(page)).status_code == 404
    assert stranger.get(qr_url(page)).status_code == 404
    page.refresh_from_db()
    assert not page.logo and stored_files(media_root) == []


def test_a_page_under_another_project_of_the_same_founder_is_a_404(page):
    other = ProjectFactory(owner=page.project.owner)
    client = signed_in(page.project.owner)
    assert client.get(f"/projects/{other.pk}/pages/{page.pk}/images").status_code == 404
    assert client.get(f"/projects/{other.pk}/pages/{page.pk}/qr.svg").status_code == 404


def test_staff_who_do_not_own_the_page_get_a_404(page):
    staff = signed_in(UserFactory(is_staff=True))
    assert staff.get(images_url(page)).status_code == 404
    assert staff.get(qr_url(page)).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(page):
    for url in (images_url(page), qr_url(page)):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    response = Client().post(images_url(page), {"kind": "logo", "action": "remove"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_qr_code_is_an_svg_of_the_public_address(page, settings):
    settings.PUBLIC_BASE_URL = "https://mvp.example.com"
    settings.PUBLIC_BASE_URL_SET = True
    response = signed_in(page.project.owner).get(qr_url(page))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Content-Disposition" not in response
    root = ET.fromstring(response.content)  # noqa: S314 - our own output, and the test is that it parses
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("viewBox")
    title = root.find("{http://www.w3.org/2000/svg}title")
    assert title is not None and title.text == "QR code of https://mvp.example.com/p/leafwise/"


def test_the_qr_code_decodes_to_the_public_address(page, settings):
    """The modules drawn are those of the address's code (segno's own matrix of the same text)."""
    import segno

    settings.PUBLIC_BASE_URL = "https://mvp.example.com"
    settings.PUBLIC_BASE_URL_SET = True
    svg = signed_in(page.project.owner).get(qr_url(page)).content
    expected = segno.make("https://mvp.example.com/p/leafwise/", error="m", micro=False)
    out = io.BytesIO()
    expected.save(out, kind="svg", scale=8, border=4, dark="#111111", light="#ffffff", xmldecl=False, svgns=True)

    def modules(doc: bytes) -> str:
        line = ET.fromstring(doc).find(".//{http://www.w3.org/2000/svg}path[@class='qrline']")  # noqa: S314 - ours
        assert line is not None
        return line.get("d") or ""

    assert modules(svg) == modules(out.getvalue())


def test_the_qr_code_downloads_as_a_file(page):
    response = signed_in(page.project.owner).get(qr_url(page) + "?download=1")
    assert response["Content-Disposition"] == 'attachment; filename="leafwise-qr.svg"'


def test_in_development_the_qr_code_points_at_this_server(page, settings):
    settings.DEBUG = True
    settings.PUBLIC_BASE_URL_SET = False
    client = signed_in(page.project.owner)
    svg = client.get(qr_url(page), HTTP_HOST="127.0.0.1:8123").content.decode()
    assert "QR code of http://127.0.0.1:8123/p/leafwise/" in svg
