"""The projects API from the outside: success and refusal for every endpoint."""

import csv
import io
import json

import pytest

from projects.models import LandingPage, Project, Prototype, Signup
from projects.services.pages import landing_page_create, landing_page_publish
from projects.services.prototypes import prototype_generate
from projects.services.signups import signup_create
from tests.factories import ProjectFactory, UserFactory, generate_and_publish
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


# --- projects --------------------------------------------------------------------------------


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


# --- prototypes --------------------------------------------------------------------------------


def test_generate_prototype_moves_draft_to_prototype_ready(auth_api_client, project):
    response = auth_api_client.post(f"/api/projects/{project.pk}/generate-prototype")
    assert response.status_code == 201
    body = response.json()
    assert body["version"] == 1 and body["is_current"] is True
    assert body["generator"] == "builtin"
    assert len(body["features"]) >= 3
    project.refresh_from_db()
    assert project.status == "prototype_ready"


def test_generating_again_keeps_history_with_one_current(auth_api_client, project):
    for _ in range(3):
        auth_api_client.post(f"/api/projects/{project.pk}/generate-prototype")
    body = auth_api_client.get(f"/api/projects/{project.pk}/prototypes").json()
    assert [p["version"] for p in body["results"]] == [3, 2, 1]
    assert [p["is_current"] for p in body["results"]] == [True, False, False]


@pytest.mark.parametrize("state", ["archived", "completed"])
def test_generate_for_closed_project_is_409_and_writes_nothing(auth_api_client, project, state):
    Project.objects.filter(pk=project.pk).update(
        status=state, completed_at=project.created_at if state == "completed" else None
    )
    response = auth_api_client.post(f"/api/projects/{project.pk}/generate-prototype")
    error = assert_error_shape(response, 409, "invalid_project_state")
    assert state in error["message"]
    assert Prototype.objects.count() == 0


# --- landing pages -----------------------------------------------------------------------------


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


# --- signups -----------------------------------------------------------------------------------


def test_signup_list_is_paginated_newest_first(auth_api_client, live_page):
    for n in range(3):
        signup_create(page=live_page, email=f"s{n}@example.com")
    body = auth_api_client.get(f"/api/projects/{live_page.project_id}/signups?limit=2").json()
    assert body["count"] == 3
    assert [s["email"] for s in body["results"]] == ["s2@example.com", "s1@example.com"]
    assert body["results"][0]["landing_page_slug"] == "chaser"


def test_signups_csv_streams_every_row_and_defuses_formulas(auth_api_client, live_page):
    signup_create(page=live_page, email="a@example.com", name="=HYPERLINK(1)")
    signup_create(page=live_page, email="b@example.com", utm={"utm_source": "reddit"})
    response = auth_api_client.get(f"/api/projects/{live_page.project_id}/signups.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.streaming
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {r["email"] for r in rows} == {"a@example.com", "b@example.com"}
    by_email = {r["email"]: r for r in rows}
    assert by_email["a@example.com"]["name"] == "'=HYPERLINK(1)"
    assert by_email["b@example.com"]["utm_source"] == "reddit"


def test_signups_need_a_token(api_client, live_page):
    assert_error_shape(api_client.get(f"/api/projects/{live_page.project_id}/signups"), 401)
    assert_error_shape(api_client.get(f"/api/projects/{live_page.project_id}/signups.csv"), 401)


def test_another_users_signups_are_not_listed(auth_api_client):
    other_page = generate_and_publish(ProjectFactory(owner=UserFactory()), slug="other")
    signup_create(page=other_page, email="secret@example.com")
    mine = ProjectFactory(owner=auth_api_client.user)
    body = auth_api_client.get(f"/api/projects/{mine.pk}/signups").json()
    assert body["count"] == 0
    assert Signup.objects.count() == 1


# --- the configured provider, end to end through the API -----------------------------------


def test_generate_prototype_uses_the_configured_provider(auth_api_client, project, openai_server):
    from tests.fake_openai import MODEL, chat_reply
    from tests.projects.test_generation import good_draft

    openai_server.script(chat_reply(json.dumps(good_draft(headline="<script>x</script>From the model"))))
    body = auth_api_client.post(f"/api/projects/{project.pk}/generate-prototype").json()
    assert body["generator"] == f"openai:{MODEL}"
    assert body["fallback_reason"] == ""
    assert body["headline"] == "xFrom the model"  # sanitised on the way in
    assert openai_server.requests[0]["json"]["messages"][1]["content"].count(project.name) == 1


def test_generate_prototype_records_the_fallback_on_the_prototype(auth_api_client, project, openai_server):
    from tests.fake_openai import Reply

    openai_server.script(Reply(status=500))
    body = auth_api_client.post(f"/api/projects/{project.pk}/generate-prototype").json()
    assert body["generator"] == "builtin"
    assert body["fallback_reason"] == "openai: HTTP 500 after 2 attempts"
    assert Prototype.objects.get().fallback_reason == body["fallback_reason"]
    assert len(openai_server.requests) == 2
