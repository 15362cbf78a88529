"""The upload service of a page's logo and hero image (`projects.services.page_images`): an upload
is judged by its content, redrawn without its metadata, scaled down and stored under a random
name; a refusal is a field error and writes nothing (no file, no change of the row)."""

import io
import re
import struct
import zlib
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from projects.models import LandingPage
from projects.services import page_images
from projects.services.page_images import page_image_clear, page_image_set
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def page(db):
    from projects.services.pages import landing_page_create
    from projects.services.prototypes import prototype_generate

    project = ProjectFactory()
    prototype_generate(project=project)
    return landing_page_create(project=project, slug="leafwise")


def picture(fmt: str, size=(800, 600), *, mode="RGB", exif: Image.Exif | None = None, **save) -> bytes:
    image = Image.new(mode, size, (200, 60, 40) if mode == "RGB" else (200, 60, 40, 128))
    # A marker in one corner, to see which way the stored picture is turned.
    for x in range(20):
        for y in range(10):
            image.putpixel((x, y), (0, 0, 255) if mode == "RGB" else (0, 0, 255, 255))
    out = io.BytesIO()
    if exif is not None:
        save["exif"] = exif
    image.save(out, fmt, **save)
    return out.getvalue()


def upload(data: bytes, name="photo.png", content_type="image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares `width` x `height` pixels (a decompression bomb: a few
    hundred bytes that would decode to gigabytes)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1024))
        + chunk(b"IEND", b"")
    )


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_a_logo_is_stored_as_png_under_a_random_name_and_scaled_down(page, media_root):
    version = page.content_version
    page = page_image_set(page=page, kind="logo", upload=upload(picture("PNG", (1600, 800)), name="my logo.png"))
    page.refresh_from_db()
    # A name of the service's making: nothing of the founder's file name ("my logo.png").
    assert re.fullmatch(rf"pages/{page.project_id}/logo-[A-Za-z0-9_-]{{16}}\.png", page.logo.name), page.logo.name
    assert (page.logo_width, page.logo_height) == (512, 256)
    assert page.content_version == version + 1
    with Image.open(media_root / page.logo.name) as stored:
        assert stored.format == "PNG" and stored.size == (512, 256)


def test_a_hero_photo_loses_its_exif_and_is_turned_as_the_camera_meant(page, media_root):
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to view
    exif[0x010F] = "ACME Camera"  # Make
    exif[0x8825] = {2: (48.0, 51.0, 24.0)}  # GPS latitude
    data = picture("JPEG", (3000, 2000), exif=exif, quality=90)
    with Image.open(io.BytesIO(data)) as original:
        assert original.getexif()[0x010F] == "ACME Camera"  # the test's file does carry it

    page = page_image_set(page=page, kind="hero", upload=upload(data, name="IMG_0001.JPG", content_type="image/jpeg"))
    page.refresh_from_db()
    assert page.hero_image.name.endswith(".jpg")
    # 3000 x 2000 turned upright is 2000 x 3000, then fitted in 2000 px.
    assert (page.hero_width, page.hero_height) == (1333, 2000)
    with Image.open(media_root / page.hero_image.name) as stored:
        assert stored.format == "JPEG" and stored.size == (1333, 2000)
        assert not stored.getexif()
        assert "exif" not in stored.info and "icc_profile" not in stored.info
        # The marker (top left of the sensor) is now top right: the picture was turned.
        r, g, b = stored.convert("RGB").getpixel((1330, 3))
        assert b > 150 and r < 100


def test_png_text_chunks_do_not_survive(page, media_root):
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "secret address: 1 Main St")
    page = page_image_set(page=page, kind="logo", upload=upload(picture("PNG", (64, 64), pnginfo=info)))
    data = (media_root / page.logo.name).read_bytes()
    assert b"secret address" not in data and b"tEXt" not in data


def test_a_transparent_logo_keeps_its_transparency_and_a_gif_gives_its_first_frame(page, media_root):
    page = page_image_set(page=page, kind="logo", upload=upload(picture("PNG", (100, 100), mode="RGBA")))
    with Image.open(media_root / page.logo.name) as stored:
        assert stored.mode == "RGBA"
    frames = [Image.new("RGB", (40, 30), color) for color in ((255, 0, 0), (0, 255, 0))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:])
    page = page_image_set(page=page, kind="hero", upload=upload(out.getvalue(), name="a.gif", content_type="image/gif"))
    with Image.open(media_root / page.hero_image.name) as stored:
        r, g, _ = stored.convert("RGB").getpixel((5, 5))
        assert r > 200 and g < 60  # the first frame, red


def test_webp_is_accepted(page, media_root):
    page = page_image_set(page=page, kind="hero", upload=upload(picture("WEBP", (300, 200)), name="x.webp"))
    assert (page.hero_width, page.hero_height) == (300, 200)


def _assert_refused(page, media_root, kind: str, data: bytes, message: str, **upload_kw) -> None:
    before = LandingPage.objects.values().get(pk=page.pk)
    with pytest.raises(ValidationError) as caught:
        page_image_set(page=page, kind=kind, upload=upload(data, **upload_kw))
    field = "logo" if kind == "logo" else "hero_image"
    assert caught.value.message_dict == {field: [message]}
    assert LandingPage.objects.values().get(pk=page.pk) == before
    assert stored_files(media_root) == []


def test_a_text_file_renamed_png_is_refused_and_nothing_is_written(page, media_root):
    _assert_refused(page, media_root, "logo", b"<?php echo 'hello'; ?>\n" * 20, page_images.NOT_AN_IMAGE)


def test_an_svg_or_a_truncated_png_is_refused(page, media_root):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    _assert_refused(
        page, media_root, "logo", svg, page_images.NOT_AN_IMAGE, name="logo.svg", content_type="image/svg+xml"
    )
    _assert_refused(page, media_root, "hero", picture("PNG")[:200], page_images.NOT_AN_IMAGE)
    _assert_refused(page, media_root, "hero", b"", page_images.NOT_AN_IMAGE)


def test_an_image_format_not_on_the_list_is_refused(page, media_root):
    _assert_refused(page, media_root, "hero", picture("BMP", (50, 50)), page_images.NOT_AN_IMAGE, name="x.png")


def test_an_oversized_file_is_refused_before_it_is_decoded(page, media_root, settings, monkeypatch):
    settings.UPLOAD_MAX_BYTES = 2 * 1024 * 1024
    opened = []
    monkeypatch.setattr(page_images, "_open", lambda f: opened.append(f))
    _assert_refused(page, media_root, "hero", b"\0" * (2 * 1024 * 1024 + 1), "The file is larger than 2 MB.")
    assert opened == []


def test_a_decompression_bomb_is_refused_from_its_header(page, media_root):
    bomb = png_declaring(30000, 30000)
    assert len(bomb) < 200
    _assert_refused(page, media_root, "hero", bomb, page_images.TOO_MANY_PIXELS)


def test_a_picture_over_the_pixel_cap_but_under_pillows_own_is_refused(page, media_root):
    # 30 Mpx: above MAX_PIXELS (25 Mpx), below the 89 Mpx at which Pillow itself warns.
    _assert_refused(page, media_root, "logo", png_declaring(6000, 5000), page_images.TOO_MANY_PIXELS)


def test_replacing_an_image_deletes_the_old_file_once_committed(page, media_root, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = page_image_set(page=page, kind="logo", upload=upload(picture("PNG", (64, 64)))).logo.name
    assert (media_root / first).exists()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        second = page_image_set(page=page, kind="logo", upload=upload(picture("PNG", (32, 32)))).logo.name
    assert first != second
    assert (media_root / first).exists()  # not before the commit
    for callback in callbacks:
        callback()
    assert not (media_root / first).exists() and (media_root / second).exists()


def test_clearing_removes_the_image_and_its_file(page, media_root, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        name = page_image_set(page=page, kind="hero", upload=upload(picture("PNG", (64, 64)))).hero_image.name
        page.refresh_from_db()
        version = page.content_version
        page = page_image_clear(page=page, kind="hero")
    page.refresh_from_db()
    assert not page.hero_image and page.hero_width is None and page.hero_height is None
    assert page.content_version == version + 1
    assert not (media_root / name).exists()


def test_a_change_of_image_refreshes_the_cached_public_page(page, media_root, django_capture_on_commit_callbacks):
    from django.test import Client

    from projects.services.pages import landing_page_publish

    landing_page_publish(page=page)
    client = Client()
    assert "hero-image" not in client.get("/p/leafwise/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        page_image_set(page=page, kind="hero", upload=upload(picture("PNG", (64, 48))))
    assert 'class="hero-image"' in client.get("/p/leafwise/").content.decode()
