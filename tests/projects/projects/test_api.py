"""The projects API from the outside: success and refusal for every endpoint of a project."""

import pytest

from projects.models import LandingPage, Project, Prototype
from projects.services.pages import landing_page_create, landing_page_publish
from projects.services.prototypes import prototype_generate
from projects.services.signups import signup_create
from tests.factories import ProjectFactory, generate_and_publish
from tests.security.test_auth_api import assert_error_shape

pytestmark = pytest.mark.django_db

VALID = {
    "name": "Invoice Chaser",
    "idea_description": "Freelancers lose hours chasing late invoices; we chase them automatically.",
    "target_audience": "Freelance designers",
    "price_point": "29.00",
    "currency": "USD",
    "business_model": "saas",
}


def test_create_project_returns_it_in_draft(auth_api_client):
    response = auth_api_client.post("/api/projects/", VALID, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft"
    assert body["price_point"] == "29.00"
    project = Project.objects.get(pk=body["id"])
    assert project.owner == auth_api_client.user


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"idea_description": "too short"}, "idea_description"),
        ({"idea_description": "x" * 2001}, "idea_description"),
        ({"price_point": "10000.01"}, "price_point"),
        ({"price_point": "-1"}, "price_point"),
        ({"price_point": "abc"}, "price_point"),
        ({"business_model": "franchise"}, "business_model"),
        ({"currency": "XYZ"}, "currency"),
        ({"name": ""}, "name"),
    ],
)
def test_create_project_rejects_bad_input_and_writes_nothing(auth_api_client, change, field):
    response = auth_api_client.post("/api/projects/", {**VALID, **change}, format="json")
    error = assert_error_shape(response, 400, "validation_error")
    assert field in error["fields"]
    assert Project.objects.count() == 0


def test_create_project_needs_a_token(api_client):
    assert_error_shape(api_client.post("/api/projects/", VALID, format="json"), 401)
    assert Project.objects.count() == 0


def test_list_is_owner_scoped_newest_first_and_paginated(auth_api_client):
    mine = [ProjectFactory(owner=auth_api_client.user) for _ in range(3)]
    ProjectFactory()  # someone else's
    body = auth_api_client.get("/api/projects/?limit=2").json()
    assert body["count"] == 3
    assert [p["id"] for p in body["results"]] == [mine[2].pk, mine[1].pk]
    assert body["next"] is not None
    second = auth_api_client.get("/api/projects/?limit=2&offset=2").json()
    assert [p["id"] for p in second["results"]] == [mine[0].pk]


def test_list_caps_the_page_size_at_100(auth_api_client):
    ProjectFactory.create_batch(105, owner=auth_api_client.user)
    body = auth_api_client.get("/api/projects/?limit=1000").json()
    assert len(body["results"]) == 100


def test_list_filters_by_status(auth_api_client):
    draft = ProjectFactory(owner=auth_api_client.user)
    live = ProjectFactory(owner=auth_api_client.user)
    generate_and_publish(live)
    ids = [p["id"] for p in auth_api_client.get("/api/projects/?status=live").json()["results"]]
    assert ids == [live.pk]
    assert draft.pk not in ids
    assert auth_api_client.get("/api/projects/?status=bogus").json()["count"] == 0


def test_detail_includes_prototype_pages_and_counts(auth_api_client, project):
    page = generate_and_publish(project)
    signup_create(page=page, email="a@example.com")
    body = auth_api_client.get(f"/api/projects/{project.pk}/").json()
    assert body["status"] == "live"
    assert body["current_prototype"]["version"] == 1
    assert body["landing_pages"][0]["slug"] == "page"
    assert body["landing_pages"][0]["signup_count"] == 1
    assert body["landing_pages"][0]["public_url"] == "/p/page/"
    assert body["signup_count"] == 1


def _fill(project, pages, signups_per_page):
    for _ in range(3):
        prototype_generate(project=project)
    for n in range(pages):
        page = landing_page_create(project=project, slug=f"p{project.pk}-{n}")
        page = landing_page_publish(page=page)
        for s in range(signups_per_page):
            signup_create(page=page, email=f"v{s}@example.com")


@pytest.mark.parametrize(("pages", "signups"), [(1, 1), (6, 25)])
def test_detail_costs_the_same_queries_however_many_related_rows(
    auth_api_client, django_assert_num_queries, pages, signups
):
    project = ProjectFactory(owner=auth_api_client.user)
    _fill(project, pages, signups)
    # 1 user (JWT) + 1 project + 1 current prototype + 1 pages with their counts.
    with django_assert_num_queries(4):
        response = auth_api_client.get(f"/api/projects/{project.pk}/")
    assert len(response.json()["landing_pages"]) == pages
    # Cached: the identity and the detail's representation both come from the cache.
    with django_assert_num_queries(0):
        again = auth_api_client.get(f"/api/projects/{project.pk}/")
    assert again.json() == response.json()


def test_other_users_project_is_404_on_every_endpoint(auth_api_client):
    other = ProjectFactory()
    page = generate_and_publish(other, slug="theirs")
    for method, url in [
        ("get", f"/api/projects/{other.pk}/"),
        ("patch", f"/api/projects/{other.pk}/"),
        ("delete", f"/api/projects/{other.pk}/"),
        ("post", f"/api/projects/{other.pk}/archive"),
        ("post", f"/api/projects/{other.pk}/generate-prototype"),
        ("get", f"/api/projects/{other.pk}/prototypes"),
        ("get", f"/api/projects/{other.pk}/landing-pages"),
        ("post", f"/api/projects/{other.pk}/landing-pages"),
        ("get", f"/api/projects/{other.pk}/signups"),
        ("get", f"/api/projects/{other.pk}/signups.csv"),
        ("get", f"/api/landing-pages/{page.pk}/"),
        ("patch", f"/api/landing-pages/{page.pk}/"),
        ("post", f"/api/landing-pages/{page.pk}/publish"),
        ("post", f"/api/landing-pages/{page.pk}/archive"),
    ]:
        response = getattr(auth_api_client, method)(url, {"name": "mine now"}, format="json")
        assert_error_shape(response, 404, "not_found")
    other.refresh_from_db()
    assert other.name != "mine now"
    assert Prototype.objects.filter(project=other).count() == 1
    assert LandingPage.objects.get(pk=page.pk).status == "published"


def test_update_project(auth_api_client, project):
    response = auth_api_client.patch(f"/api/projects/{project.pk}/", {"price_point": "39.50"}, format="json")
    assert response.status_code == 200
    assert response.json()["price_point"] == "39.50"
    project.refresh_from_db()
    assert str(project.price_point) == "39.50"


def test_update_costs_no_query_per_check_constraint(auth_api_client, project, django_assert_num_queries):
    """The fields' validators say what the table's check constraints say: Django's validation of
    the constraints (a query each, eight of them) would more than double an edit's queries."""
    # The user (JWT) and the project; the edit's transaction (in the test's, so a savepoint and
    # its release) with the row under lock, the UPDATE and its pages' slugs; then the detail
    # answered: project, prototype, pages.
    with django_assert_num_queries(10):
        response = auth_api_client.patch(f"/api/projects/{project.pk}/", {"price_point": "41.00"}, format="json")
    assert response.json()["price_point"] == "41.00"


def test_update_project_rejects_bad_input_and_changes_nothing(auth_api_client, project):
    response = auth_api_client.patch(
        f"/api/projects/{project.pk}/", {"name": "New", "price_point": "99999"}, format="json"
    )
    assert_error_shape(response, 400, "validation_error")
    project.refresh_from_db()
    assert project.name != "New"


def test_status_cannot_be_set_through_update(auth_api_client, project):
    auth_api_client.patch(f"/api/projects/{project.pk}/", {"status": "completed"}, format="json")
    project.refresh_from_db()
    assert project.status == "draft"


def test_archived_project_cannot_be_edited(auth_api_client, project):
    auth_api_client.post(f"/api/projects/{project.pk}/archive")
    response = auth_api_client.patch(f"/api/projects/{project.pk}/", {"name": "New"}, format="json")
    assert_error_shape(response, 409, "invalid_project_state")


def test_delete_project(auth_api_client, project):
    generate_and_publish(project)
    assert auth_api_client.delete(f"/api/projects/{project.pk}/").status_code == 204
    assert not Project.objects.filter(pk=project.pk).exists()
    assert LandingPage.objects.count() == 0
