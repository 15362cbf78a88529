"""A landing page's logo and hero image: uploads checked by their content, re-encoded, stored.

An upload is trusted for nothing it says about itself (name, content type): its bytes are read
by Pillow, which must recognise one of the allowed formats from the data. The checks run cheapest
first and before any pixel is decoded: the size in bytes, then the dimensions the header declares
(a small file can declare a picture of billions of pixels: a decompression bomb), then Pillow's
structural check. The picture is then redrawn from its pixels alone: turned the way its EXIF
orientation says, scaled down, and encoded afresh, so no metadata (EXIF with GPS, comments,
colour profiles) and nothing the original format hid in it reaches the public page.

Files are written through the field's storage (local files or a bucket, see settings' media
block) under a random name; the page's previous file is deleted once the change has committed.
"""

from __future__ import annotations

import io
import logging
import secrets
import warnings
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.db.models import ImageField, QuerySet
from PIL import Image, ImageOps, UnidentifiedImageError

from mvpvalidator import cache as app_cache
from mvpvalidator.exceptions import ConflictError
from projects.cache import invalidate_on_commit, page_ns
from projects.models.pages import LandingPage, PageStatus
from projects.services.transitions import require_open

logger = logging.getLogger(__name__)

ImageKindName = Literal["logo", "hero"]

# What an upload may be, by its content (Pillow's format names).
ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
# Refused above this many pixels, from the header, before decoding: 25 Mpx is a 6000 x 4000 photo,
# and decoding one costs about 100 MB of memory.
MAX_PIXELS = 25_000_000

NOT_AN_IMAGE = "This file is not an image we can use (PNG, JPEG, WebP or GIF)."
TOO_MANY_PIXELS = "The image is too large in pixels."


@dataclass(frozen=True)
class ImageKind:
    field: str  # the LandingPage ImageField (and the form field its errors are keyed by)
    width_field: str
    height_field: str
    max_side: int  # longest side after the re-encoding, in pixels
    format: str  # what it is stored as
    extension: str


KINDS: dict[str, ImageKind] = {
    # A logo keeps its transparency (PNG); shown small, 512 px covers high-density screens.
    "logo": ImageKind("logo", "logo_width", "logo_height", 512, "PNG", "png"),
    # A hero is a photo: JPEG, which every share-card crawler reads; 2000 px for wide screens.
    "hero": ImageKind("hero_image", "hero_width", "hero_height", 2000, "JPEG", "jpg"),
}


@dataclass(frozen=True)
class EncodedImage:
    data: bytes
    width: int
    height: int


def upload_max_bytes_text() -> str:
    """The size cap as the founder reads it ("2 MB")."""
    megabytes = settings.UPLOAD_MAX_BYTES / (1024 * 1024)
    return f"{megabytes:g} MB" if megabytes >= 1 else f"{settings.UPLOAD_MAX_BYTES // 1024} KB"


def _kind(kind: str) -> ImageKind:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"Unknown page image kind {kind!r}.") from None


def _open(upload: File[bytes]) -> Image.Image:
    """The upload opened from its header (no pixel decoded yet); a bomb raises DecompressionBombError."""
    upload.seek(0)
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that: make it a refusal as well.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return Image.open(upload, formats=ALLOWED_FORMATS)


def image_encode(*, kind: str, upload: File[bytes]) -> EncodedImage:
    """The upload checked and redrawn as `kind` is stored, or a ValidationError keyed by the
    kind's field. Reads the upload; writes nothing."""
    spec = _kind(kind)

    def refuse(message: str) -> ValidationError:
        return ValidationError({spec.field: [message]})

    size = upload.size
    if size is None or size > settings.UPLOAD_MAX_BYTES:
        raise refuse(f"The file is larger than {upload_max_bytes_text()}.")
    if size == 0:
        raise refuse(NOT_AN_IMAGE)
    try:
        with _open(upload) as probe:
            # The declared dimensions, read from the header: nothing decoded yet.
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise refuse(TOO_MANY_PIXELS)
            probe.verify()  # the file's structure (chunks, checksums), still without decoding
        with _open(upload) as image:
            image.seek(0)  # a GIF's (or animated WebP's) first frame
            image.load()
            picture = ImageOps.exif_transpose(image)  # turned as the camera meant, EXIF left behind
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise refuse(TOO_MANY_PIXELS) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        # Not one of the formats, truncated, or damaged: Pillow's ways of saying so.
        raise refuse(NOT_AN_IMAGE) from None
    return _redraw(picture, spec)


def _redraw(picture: Image.Image, spec: ImageKind) -> EncodedImage:
    """The picture from its pixels alone, scaled to fit `spec.max_side`, encoded as `spec.format`."""
    has_alpha = picture.mode in ("RGBA", "LA", "PA") or (picture.mode == "P" and "transparency" in picture.info)
    if spec.format == "PNG":
        picture = picture.convert("RGBA" if has_alpha else "RGB")
    elif has_alpha:
        # JPEG has no transparency: what was transparent shows white, as on the page.
        rgba = picture.convert("RGBA")
        picture = Image.new("RGB", rgba.size, (255, 255, 255))
        picture.paste(rgba, mask=rgba.getchannel("A"))
    else:
        picture = picture.convert("RGB")
    picture.thumbnail((spec.max_side, spec.max_side), Image.Resampling.LANCZOS)
    # A new image holding only the pixels: nothing of the original's `info` (EXIF, ICC profile,
    # comments, text chunks) can be written out with it.
    clean = Image.new(picture.mode, picture.size)
    clean.paste(picture)
    out = io.BytesIO()
    if spec.format == "JPEG":
        clean.save(out, "JPEG", quality=85, optimize=True, progressive=True)
    else:
        clean.save(out, spec.format, optimize=True)
    return EncodedImage(out.getvalue(), clean.width, clean.height)


def _delete_file(field: ImageField, name: str) -> None:
    if not name:
        return
    try:
        field.storage.delete(name)
    except Exception:
        # After the commit nothing can be undone: a file left behind wastes space, nothing more,
        # so the change stands and the failure is logged for the operator.
        logger.exception("Could not delete the page image %s", name)


IMAGES_ACTION = "change the page's images"


def _require_changeable(page: LandingPage) -> None:
    """ConflictError as every other page write refuses: the project no longer takes changes
    (completed, archived), or the page is archived."""
    require_open(page.project, IMAGES_ACTION)
    if page.status == PageStatus.ARCHIVED:
        raise ConflictError("An archived page cannot be edited.", code="invalid_page_state")


def _lock_for_change(page: LandingPage) -> LandingPage:
    """The page under its row lock, checked again there (it may have been archived meanwhile)."""
    locked = LandingPage.objects.select_for_update().select_related("project").get(pk=page.pk)
    _require_changeable(locked)
    return locked


def _store(locked: LandingPage, spec: ImageKind, image: EncodedImage | None) -> LandingPage:
    """Point the locked page at `image` (None: no image); the old file goes once this commits,
    the new one at once if the row cannot be written."""
    field = locked._meta.get_field(spec.field)
    assert isinstance(field, ImageField)  # KINDS names ImageFields only
    old_name = getattr(locked, spec.field).name or ""
    new_name = ""
    if image is not None:
        filename = f"{spec.field.replace('_', '-')}-{secrets.token_urlsafe(12)}.{spec.extension}"
        new_name = field.storage.save(field.generate_filename(locked, filename), ContentFile(image.data))
    values = {
        spec.field: new_name,
        spec.width_field: image.width if image else None,
        spec.height_field: image.height if image else None,
        "content_version": locked.content_version + 1,
    }
    try:
        # An update of the named columns: assigning the file through the model would read the
        # stored file back (from the bucket) only to learn the dimensions already known here.
        LandingPage.objects.filter(pk=locked.pk).update(**values)
    except Exception:
        _delete_file(field, new_name)
        raise
    for name, value in values.items():
        setattr(locked, name, value)
    transaction.on_commit(lambda: _delete_file(field, old_name))
    invalidate_on_commit(owner_id=locked.project.owner_id, project_id=locked.project_id, slugs=(locked.slug,))
    return locked


@transaction.atomic
def page_image_set(*, page: LandingPage, kind: ImageKindName, upload: File[bytes]) -> LandingPage:
    """Replace the page's logo or hero image with `upload`, checked and re-encoded; a refusal is
    a ValidationError keyed by the field ("logo" / "hero_image"), or a ConflictError when the
    page or its project takes no changes, and writes nothing."""
    spec = _kind(kind)
    # The state first, as the caller read it: no decoding spent on an upload refused anyway. The
    # decoding then runs before the row lock, so the page's other writes do not wait on Pillow.
    _require_changeable(page)
    image = image_encode(kind=kind, upload=upload)
    return _store(_lock_for_change(page), spec, image)


@transaction.atomic
def page_image_clear(*, page: LandingPage, kind: ImageKindName) -> LandingPage:
    """Remove the page's logo or hero image (the file goes once this commits); ConflictError
    when the page or its project takes no changes."""
    spec = _kind(kind)
    locked = _lock_for_change(page)
    if not getattr(locked, spec.field):
        return locked
    return _store(locked, spec, None)


def pages_forget_on_commit(*, pages: QuerySet[LandingPage]) -> None:
    """For pages about to be deleted (with their project or their owner's account): once the
    deletion commits, their public pages leave the cache and their logo and hero files leave the
    storage. The database cascade knows nothing of either: without this, a deleted page is still
    served from the cache (and a signup sent to it fails on the missing row) until it expires,
    and its pictures stay publicly reachable under /media/ for good.

    Call it inside the deleting transaction, before the delete (the rows are read here)."""
    slugs: set[str] = set()
    files: list[str] = []
    for slug, logo, hero in pages.values_list("slug", "logo", "hero_image"):
        slugs.add(slug)
        files.extend(name for name in (logo, hero) if name)
    if not slugs:
        return
    field = LandingPage._meta.get_field("logo")
    assert isinstance(field, ImageField)  # both image fields use the same storage

    def forget() -> None:
        app_cache.bump(*(page_ns(slug) for slug in sorted(slugs)))
        for name in files:
            _delete_file(field, name)

    transaction.on_commit(forget)
