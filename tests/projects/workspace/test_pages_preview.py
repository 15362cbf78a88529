"""The editor's live preview: unsaved content rendered as the public page, served to the owner
only in a frame this site alone may embed, and never counted as a visit."""

import re

import pytest

from projects.models import Event, LandingPage
from projects.services.pages import landing_page_create
from projects.services.prototypes import prototype_generate
from tests.factories import UserFactory
from tests.projects.workspace.test_pages_editor import edit_url, form_data

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


def frame_src(html: str) -> str:
    match = re.search(r'<iframe src="([^"]+)" title="Preview"', html)
    assert match, html
    return match.group(1)


def test_htmx_preview_answers_a_frame_of_the_unsaved_content_and_saves_nothing(owner, page):
    before = LandingPage.objects.values().get(pk=page.pk)
    response = owner.post(edit_url(page) + "preview", form_data(page, headline="A headline not saved"), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html  # a fragment
    src = frame_src(html)
    assert src.startswith(edit_url(page) + "preview/")
    frame = owner.get(src)
    assert frame.status_code == 200
    assert "A headline not saved" in frame.content.decode()
    assert LandingPage.objects.values().get(pk=page.pk) == before


def test_preview_frame_may_be_framed_by_this_site_only_and_records_no_visit(owner, page):
    src = frame_src(owner.post(edit_url(page) + "preview", form_data(page), **HTMX).content.decode())
    frame = owner.get(src)
    assert frame["X-Frame-Options"] == "SAMEORIGIN"
    csp = frame["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in csp
    assert "form-action 'none'" in csp  # its signup form goes nowhere
    html = frame.content.decode()
    assert "track.js" not in html
    assert not Event.objects.exists()
    # Every other page keeps the site-wide refusal.
    editor = owner.get(edit_url(page))
    assert editor["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in editor["Content-Security-Policy"]
    assert "frame-src 'self'" in editor["Content-Security-Policy"]  # the editor may show the frame


def test_preview_frame_is_the_owners_only(owner, client_factory, page):
    src = frame_src(owner.post(edit_url(page) + "preview", form_data(page), **HTMX).content.decode())
    other = client_factory()
    other.force_login(UserFactory())
    assert other.get(src).status_code == 404
    assert client_factory().get(src).status_code == 302  # anonymous: to the login


def test_a_preview_key_of_another_page_is_a_404(owner, page, project):
    other_page = landing_page_create(project=project, slug="other")
    src = frame_src(owner.post(edit_url(page) + "preview", form_data(page), **HTMX).content.decode())
    key = src.rstrip("/").rsplit("/", 1)[1]
    assert owner.get(f"{edit_url(other_page)}preview/{key}").status_code == 404
    assert owner.get(f"{edit_url(page)}preview/made-up-key").status_code == 404


def test_preview_of_bad_input_says_so_and_draws_no_frame(owner, page):
    response = owner.post(edit_url(page) + "preview", form_data(page, accent_color="red"), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<iframe" not in html and "Fix the fields marked" in html


def test_without_script_the_preview_button_shows_the_editor_with_the_preview(owner, page):
    response = owner.post(edit_url(page) + "preview", form_data(page, headline="Draft words"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html and 'value="Draft words"' in html  # the form keeps what was typed
    assert "Draft words" in owner.get(frame_src(html)).content.decode()
    page.refresh_from_db()
    assert page.headline != "Draft words"


def test_without_script_a_bad_preview_shows_the_error_beside_the_field(owner, page):
    response = owner.post(edit_url(page) + "preview", form_data(page, headline=""))
    assert response.status_code == 400
    assert 'id="id_headline_error"' in response.content.decode()


def test_preview_of_another_founders_page_is_a_404(client, page):
    client.force_login(UserFactory())
    assert client.post(edit_url(page) + "preview", form_data(page), **HTMX).status_code == 404
