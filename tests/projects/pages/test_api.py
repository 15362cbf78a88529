"""The landing pages API from the outside: create, update, publish and archive, and the refusals."""

import pytest

from projects.models import LandingPage, Project
from projects.services.pages import landing_page_create
from projects.services.prototypes import prototype_generate
from tests.factories import ProjectFactory, generate_and_publish
from tests.security.test_auth_api import assert_error_shape

pytestmark = pytest.mark.django_db


def test_landing_page_needs_a_prototype(auth_api_client, project):
    response = auth_api_client.post(f"/api/projects/{project.pk}/landing-pages", {}, format="json")
    assert_error_shape(response, 409, "no_prototype")
    assert LandingPage.objects.count() == 0


def test_landing_page_is_created_from_current_prototype(auth_api_client, project):
    prototype = prototype_generate(project=project)
    response = auth_api_client.post(f"/api/projects/{project.pk}/landing-pages", {"slug": "My-Page"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft"
    assert body["slug"] == "my-page"
    assert body["headline"] == prototype.headline
    assert body["features"] == prototype.features


def test_landing_page_slug_is_generated_when_omitted(auth_api_client, project):
    prototype_generate(project=project)
    body = auth_api_client.post(f"/api/projects/{project.pk}/landing-pages", {}, format="json").json()
    assert body["slug"].startswith("idea-")


def test_preorder_page_defaults_to_the_project_price(auth_api_client, project):
    prototype_generate(project=project)
    body = auth_api_client.post(
        f"/api/projects/{project.pk}/landing-pages", {"cta_kind": "preorder"}, format="json"
    ).json()
    assert body["cta_kind"] == "preorder"
    assert body["preorder_price"] == "29.00"


def test_taken_slug_is_400_and_creates_nothing(auth_api_client, project):
    generate_and_publish(ProjectFactory(), slug="taken")
    prototype_generate(project=project)
    response = auth_api_client.post(f"/api/projects/{project.pk}/landing-pages", {"slug": "TAKEN"}, format="json")
    error = assert_error_shape(response, 400, "validation_error")
    assert "slug" in error["fields"]
    assert LandingPage.objects.filter(project=project).count() == 0


def test_update_page_sanitises_and_bumps_version(auth_api_client, project):
    prototype_generate(project=project)
    page = landing_page_create(project=project)
    response = auth_api_client.patch(
        f"/api/landing-pages/{page.pk}/",
        {
            "headline": "<script>alert(1)</script>Faster invoices",
            "value_proposition": '<strong>Paid</strong> <img src=x onerror="alert(1)"> on time',
            "features": ["<b>One</b>", "Two"],
            "pricing_tiers": [{"name": "Solo", "price": "9", "period": "month"}],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert "<script" not in body["headline"] and "Faster invoices" in body["headline"]
    assert "<strong>Paid</strong>" in body["value_proposition"]
    assert "onerror" not in body["value_proposition"] and "<img" not in body["value_proposition"]
    assert body["features"] == ["One", "Two"]
    assert body["pricing_tiers"] == [{"name": "Solo", "price": "9.00", "period": "month", "features": []}]
    assert body["content_version"] == 2


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"features": ["x"] * 9},
        {"pricing_tiers": [{"name": "A", "price": "-1", "period": "month"}]},
        {"pricing_tiers": [{"name": "A", "price": "1", "period": "weekly"}]},
        {"cta_kind": "preorder", "preorder_price": None},
        {"slug": "not a slug!"},
        {"headline": "x" * 121},
    ],
)
def test_update_page_rejects_bad_input_and_changes_nothing(auth_api_client, project, payload):
    prototype_generate(project=project)
    page = landing_page_create(project=project)
    before = LandingPage.objects.values().get(pk=page.pk)
    response = auth_api_client.patch(f"/api/landing-pages/{page.pk}/", payload, format="json")
    assert_error_shape(response, 400, "validation_error")
    assert LandingPage.objects.values().get(pk=page.pk) == before


def test_publish_makes_the_project_live(auth_api_client, project):
    prototype_generate(project=project)
    page = landing_page_create(project=project, slug="go")
    response = auth_api_client.post(f"/api/landing-pages/{page.pk}/publish")
    assert response.status_code == 200
    assert response.json()["status"] == "published"
    assert response.json()["published_at"]
    project.refresh_from_db()
    assert project.status == "live"
    assert auth_api_client.post(f"/api/landing-pages/{page.pk}/publish").status_code == 200  # idempotent


def test_publishing_a_page_of_an_archived_project_is_409_and_writes_nothing(auth_api_client, project):
    prototype_generate(project=project)
    page = landing_page_create(project=project)
    Project.objects.filter(pk=project.pk).update(status="archived")
    response = auth_api_client.post(f"/api/landing-pages/{page.pk}/publish")
    assert_error_shape(response, 409, "invalid_project_state")
    page.refresh_from_db()
    assert page.status == "draft" and page.published_at is None


def test_archived_page_cannot_be_published_or_edited(auth_api_client, live_page):
    client = auth_api_client
    assert client.post(f"/api/landing-pages/{live_page.pk}/archive").json()["status"] == "archived"
    assert_error_shape(client.post(f"/api/landing-pages/{live_page.pk}/publish"), 409, "invalid_page_state")
    response = client.patch(f"/api/landing-pages/{live_page.pk}/", {"headline": "x"}, format="json")
    assert_error_shape(response, 409, "invalid_page_state")


def test_archiving_the_project_takes_its_pages_offline(auth_api_client, live_page, client):
    assert client.get("/p/chaser/").status_code == 200
    auth_api_client.post(f"/api/projects/{live_page.project_id}/archive")
    assert client.get("/p/chaser/").status_code == 404
