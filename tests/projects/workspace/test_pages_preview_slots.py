"""The live preview holds one rendering per page (and one per variant) in the cache, overwritten
by each keystroke's preview rather than a new key each time, so typing cannot fill the cache; the
frame's address changes with each rendering so it reloads; and the preview POST is rate limited."""

import re
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache

from projects import cache as keys
from projects.services.pages import landing_page_create
from projects.services.prototypes import prototype_generate
from projects.services.variants import variant_create
from tests.projects.workspace.test_pages_editor import edit_url, form_data
from tests.projects.workspace.test_pages_variants import variant_data, variant_url

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def page(project):
    prototype_generate(project=project)
    return landing_page_create(project=project, slug="chaser")


@pytest.fixture
def owner(client, user):
    client.force_login(user)
    return client


def frame_src(response) -> str:
    match = re.search(r'<iframe src="([^"]+)" title="Preview"', response.content.decode())
    assert match, response.content.decode()
    return match.group(1).replace("&amp;", "&")


def test_each_keystroke_overwrites_the_pages_one_preview(owner, page):
    sources = [
        frame_src(owner.post(edit_url(page) + "preview", form_data(page, headline=f"Typed {n}"), **HTMX))
        for n in range(5)
    ]
    paths = {urlsplit(src).path for src in sources}
    assert paths == {f"{edit_url(page)}preview/{keys.PAGE_PREVIEW_PAGE}"}  # one slot
    assert len(set(sources)) == 5  # a new address each time: the frame reloads
    # Whichever address the frame holds, it shows the latest rendering.
    assert "Typed 4" in owner.get(sources[0]).content.decode()
    assert "Typed 4" in cache.get(keys.page_preview_key(page.pk, keys.PAGE_PREVIEW_PAGE))


def test_a_variant_has_a_slot_of_its_own(owner, page):
    variant_create(page=page)
    page_src = frame_src(owner.post(edit_url(page) + "preview", form_data(page, headline="Page words"), **HTMX))
    variant_src = frame_src(
        owner.post(f"{variant_url(page, 'b')}preview", variant_data(page, headline="Variant words"), **HTMX)
    )
    assert urlsplit(variant_src).path == f"{edit_url(page)}preview/{keys.PAGE_PREVIEW_VARIANT}b"
    assert "Page words" in owner.get(page_src).content.decode()
    assert "Variant words" in owner.get(variant_src).content.decode()


@pytest.mark.parametrize("which", ["page", "variant"])
def test_the_preview_post_is_rate_limited(owner, page, settings, which):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "page_view": "2/m"}
    if which == "page":
        url, data = edit_url(page) + "preview", form_data(page)
    else:
        variant_create(page=page)
        url, data = f"{variant_url(page, 'b')}preview", variant_data(page)
    assert [owner.post(url, data, **HTMX).status_code for _ in range(3)] == [200, 200, 429]
