"""Staff edit a landing page's copy in the admin through the service the founder's API uses: the
HTML the page renders as stored is sanitised on this path too, an archived page's address stays
its owner's, and the public page shows the new copy at once."""

import importlib
import json

import pytest
from django.test import Client

from projects.models import LandingPage
from projects.services.pages import landing_page_archive
from tests.factories import ProjectFactory, UserFactory, generate_and_publish

pytestmark = pytest.mark.django_db

PAYLOAD = (
    '<strong>Paid</strong> on time <script>alert("admin")</script>'
    '<img src=x onerror="alert(1)"><a href="javascript:alert(2)">more</a>'
)


@pytest.fixture
def staff():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _form(page: LandingPage, **changes) -> dict:
    """What the admin's change form posts: every editable field, as shown, with the changes."""
    data = {
        "headline": page.headline,
        "subheadline": page.subheadline,
        "value_proposition": page.value_proposition,
        "features": json.dumps(page.features),
        "pricing_tiers": json.dumps(page.pricing_tiers),
        "cta_text": page.cta_text,
        "cta_kind": page.cta_kind,
        "preorder_price": page.preorder_price or "",
        "qualifying_question": page.qualifying_question,
        "slug": page.slug,
        **({"double_opt_in": "on"} if page.double_opt_in else {}),
    }
    data.update(changes)
    return data


def test_page_html_saved_through_the_admin_is_sanitised_and_shown_clean_at_once(staff, live_page):
    assert Client().get("/p/chaser/").status_code == 200  # the rendering is cached
    url = f"/admin/projects/landingpage/{live_page.pk}/change/"
    response = staff.post(url, _form(live_page, value_proposition=PAYLOAD))
    assert response.status_code == 302, response.content.decode()[:2000]
    stored = LandingPage.objects.get(pk=live_page.pk)
    assert "<strong>Paid</strong>" in stored.value_proposition
    for marker in ("<script", "onerror", "javascript:", "<img"):
        assert marker not in stored.value_proposition
    assert stored.content_version == live_page.content_version + 1
    html = Client().get("/p/chaser/").content.decode()
    assert "<strong>Paid</strong> on time" in html and "<script>alert" not in html and "onerror" not in html


def test_the_admin_cannot_give_a_page_another_founders_archived_address(staff, live_page):
    archived = landing_page_archive(page=generate_and_publish(ProjectFactory(), slug="old-campaign"))
    response = staff.post(f"/admin/projects/landingpage/{live_page.pk}/change/", _form(live_page, slug="old-campaign"))
    assert response.status_code == 200  # the form again, with the error beside the field
    assert "This address is already taken." in response.context["adminform"].form.errors["slug"]
    assert LandingPage.objects.get(pk=live_page.pk).slug == "chaser"
    assert LandingPage.objects.get(pk=archived.pk).slug == "old-campaign"


def test_staff_cannot_add_a_page_or_edit_a_generated_prototype_in_the_admin(staff, live_page):
    assert staff.get("/admin/projects/landingpage/add/").status_code == 403
    prototype = live_page.prototype
    response = staff.post(f"/admin/projects/prototype/{prototype.pk}/change/", {"value_proposition": PAYLOAD})
    assert response.status_code == 403
    prototype.refresh_from_db()
    assert "<script" not in prototype.value_proposition


def test_html_an_earlier_admin_stored_unsanitised_is_cleaned_by_the_migration(commit, live_page):
    from django.apps import apps

    LandingPage.objects.filter(pk=live_page.pk).update(value_proposition=PAYLOAD)  # as the old admin saved it
    assert "<script>alert" in Client().get("/p/chaser/").content.decode()
    migration = importlib.import_module("projects.migrations.0012_sanitise_stored_page_html")
    with commit():
        migration.sanitise_page_html(apps, None)
    html = Client().get("/p/chaser/").content.decode()
    assert "<strong>Paid</strong> on time" in html and "<script>alert" not in html and "onerror" not in html


def test_staff_read_pages_and_archive_them_through_the_service(staff, live_page):
    assert staff.get("/admin/projects/landingpage/").status_code == 200
    assert staff.get(f"/admin/projects/landingpage/{live_page.pk}/change/").status_code == 200
    assert staff.get(f"/admin/projects/prototype/{live_page.prototype_id}/change/").status_code == 200
    assert Client().get("/p/chaser/").status_code == 200
    response = staff.post(
        "/admin/projects/landingpage/", {"action": "archive_pages", "_selected_action": [str(live_page.pk)]}
    )
    assert response.status_code == 302
    assert LandingPage.objects.get(pk=live_page.pk).status == "archived"
    assert Client().get("/p/chaser/").status_code == 404  # the public page went with it, cache and all
