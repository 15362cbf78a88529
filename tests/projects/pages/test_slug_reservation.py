"""An archived page keeps its address reserved to its owner: the ads, emails and QR codes that
still point at /p/<slug>/ never land on another founder's page."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from projects.models import LandingPage
from projects.services.pages import landing_page_archive, landing_page_create
from projects.services.prototypes import prototype_generate
from tests.conftest import bearer
from tests.factories import ProjectFactory, UserFactory, generate_and_publish
from tests.security.test_auth_api import assert_error_shape

pytestmark = pytest.mark.django_db


@pytest.fixture
def archived(user):
    """The signed-in founder's page at /p/spring-sale/, archived."""
    page = generate_and_publish(ProjectFactory(owner=user), slug="spring-sale")
    return landing_page_archive(page=page)


@pytest.fixture
def rival():
    founder = UserFactory()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(founder))
    project = ProjectFactory(owner=founder)
    prototype_generate(project=project)
    return client, project


def test_another_founder_cannot_create_a_page_at_an_archived_pages_address(archived, rival):
    client, project = rival
    response = client.post(f"/api/projects/{project.pk}/landing-pages", {"slug": "Spring-Sale"}, format="json")
    error = assert_error_shape(response, 400, "validation_error")
    assert error["fields"]["slug"] == ["This address is already taken."]
    assert not LandingPage.objects.filter(project=project).exists()


def test_another_founder_cannot_move_a_page_to_an_archived_pages_address(archived, rival):
    client, project = rival
    page = landing_page_create(project=project, slug="autumn-sale")
    response = client.patch(f"/api/landing-pages/{page.pk}/", {"slug": "spring-sale"}, format="json")
    error = assert_error_shape(response, 400, "validation_error")
    assert "slug" in error["fields"]
    page.refresh_from_db()
    assert page.slug == "autumn-sale"


def test_the_owner_may_use_an_archived_pages_address_again(archived, auth_api_client, user):
    project = ProjectFactory(owner=user)
    prototype_generate(project=project)
    response = auth_api_client.post(f"/api/projects/{project.pk}/landing-pages", {"slug": "spring-sale"}, format="json")
    assert response.status_code == 201, response.content
    page = LandingPage.objects.get(pk=response.json()["id"])
    assert auth_api_client.post(f"/api/landing-pages/{page.pk}/publish").status_code == 200
    assert Client().get("/p/spring-sale/").status_code == 200
