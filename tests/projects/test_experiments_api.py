"""The experiments API from the outside: create, edit, move and delete experiments, what the
public page shows while they run, the results endpoint, and the admin pages of the experiment
models. Visitors are chosen by their cookie id, so which variant each one sees is known."""

import math
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from projects.analysis.assignment import assign
from projects.analysis.experiments import Arm, analyse
from projects.analysis.thresholds import SRM_ALPHA
from projects.events import visit
from projects.models import (
    DailyRollup,
    Event,
    EventKind,
    Experiment,
    ExperimentExposure,
    ExperimentStatus,
    Traffic,
    Variant,
)
from projects.selectors.experiments import RESULTS_MC_DRAWS
from projects.services.experiments import experiment_create
from projects.services.pages import landing_page_archive, landing_page_create, landing_page_publish
from projects.services.projects import project_archive
from projects.services.prototypes import prototype_generate
from tests.factories import ProjectFactory, UserFactory, generate_and_publish
from tests.projects.experiments import BROWSER
from tests.security.test_auth_api import assert_error_shape

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.ENABLE_RATE_LIMITING = False


def _variants(*keys, **extra):
    return [{"key": key, **extra.get(key, {})} for key in keys]


def create(api, project, page, **body):
    payload = {"landing_page_id": page.pk, "name": "Headline test", "variants": _variants("control", "b")}
    payload.update(body)
    return api.post(f"/api/projects/{project.pk}/experiments", payload, format="json")


def created(api, project, page, **body) -> dict:
    response = create(api, project, page, **body)
    assert response.status_code == 201, response.content
    return response.json()


def visitor_in(experiment: Experiment, index: int | None, *, start: int = 0) -> str:
    """A cookie id that `projects.analysis.assignment.assign` puts in variant `index` (None: outside the coverage)."""
    weights = [v.weight for v in experiment.variants.all()]
    for i in range(start, start + 100_000):
        vid = f"visitor-{i:012d}"
        if assign(vid, seed=experiment.seed, coverage=float(experiment.coverage), weights=weights) == index:
            return vid
    raise AssertionError(f"no visitor for variant {index}")


def browser(vid: str | None = None, *, ua: str = BROWSER) -> Client:
    client = Client(HTTP_USER_AGENT=ua)
    if vid is not None:
        client.cookies[visit.VISITOR_COOKIE] = visit.signed_visitor_id(vid)
    return client


def shown(response) -> dict:
    """What the visitor saw: the copy the variants may override."""
    assert response.status_code == 200, response.content
    html = response.content.decode()
    sub = re.search(r'<p class="sub">(.*?)</p>', html, re.S)
    price = re.search(r"Buy now for ([\d.]+) ", html)
    return {
        "headline": re.search(r"<h1>(.*?)</h1>", html, re.S).group(1).strip(),
        "subheadline": sub.group(1).strip() if sub else "",
        "cta_text": re.search(r'<a class="button" href="#signup" data-track="cta">(.*?)</a>', html, re.S)
        .group(1)
        .strip(),
        "preorder_price": price.group(1) if price else None,
    }


def counts() -> tuple[int, int]:
    return Experiment.objects.count(), Variant.objects.count()


# --- Create ----------------------------------------------------------------------------------


def test_create_returns_a_draft_with_its_variants_first_is_control(auth_api_client, project, live_page):
    body = created(
        auth_api_client,
        project,
        live_page,
        hypothesis="A sharper headline gets more signups.",
        coverage="0.5",
        minimum_detectable_effect="0.3",
        variants=[
            {"key": "control", "weight": 3},
            {"key": "sharp", "name": "Sharp", "weight": 1, "headline": "Never chase an invoice again",
             "subheadline": "Reminders that get you paid", "cta_text": "Get paid faster", "preorder_price": "9.50"},
        ],
    )  # fmt: skip
    assert body["status"] == "draft"
    assert body["landing_page_id"] == live_page.pk
    assert body["hypothesis"] == "A sharper headline gets more signups."
    assert body["coverage"] == "0.500"
    assert body["minimum_detectable_effect"] == "0.300"
    assert body["started_at"] is None and body["completed_at"] is None
    assert body["results_url"] == f"/api/experiments/{body['id']}/results"
    assert body["variants"] == [
        {"key": "control", "name": "", "is_control": True, "weight": 3, "headline": "", "subheadline": "",
         "cta_text": "", "preorder_price": None},
        {"key": "sharp", "name": "Sharp", "is_control": False, "weight": 1,
         "headline": "Never chase an invoice again", "subheadline": "Reminders that get you paid",
         "cta_text": "Get paid faster", "preorder_price": "9.50"},
    ]  # fmt: skip
    experiment = Experiment.objects.get(pk=body["id"])
    assert len(experiment.seed) == 16
    assert [(v.key, v.position, v.is_control) for v in experiment.variants.all()] == [
        ("control", 0, True),
        ("sharp", 1, False),
    ]


def test_create_defaults_coverage_weights_and_mde(auth_api_client, project, live_page):
    body = created(auth_api_client, project, live_page)
    assert body["coverage"] == "1.000"
    assert body["minimum_detectable_effect"] == "0.200"
    assert [v["weight"] for v in body["variants"]] == [1, 1]


def test_a_marked_control_is_kept_and_five_variants_are_allowed(auth_api_client, project, live_page):
    variants = _variants("a", "b", "c", "d", "e", c={"is_control": True})
    body = created(auth_api_client, project, live_page, variants=variants)
    assert [v["is_control"] for v in body["variants"]] == [False, False, True, False, False]


def test_list_shows_the_projects_experiments_newest_first(auth_api_client, project, live_page):
    first = created(auth_api_client, project, live_page, name="First")
    second = created(auth_api_client, project, live_page, name="Second")
    body = auth_api_client.get(f"/api/projects/{project.pk}/experiments").json()
    assert body["count"] == 2
    assert [e["id"] for e in body["results"]] == [second["id"], first["id"]]


@pytest.mark.parametrize("n", [1, 6])
def test_list_costs_the_same_queries_however_many_experiments(
    auth_api_client, project, live_page, n, django_assert_num_queries
):
    for i in range(n):
        created(auth_api_client, project, live_page, name=f"E{i}", variants=_variants("a", "b", "c"))
    auth_api_client.get(f"/api/projects/{project.pk}/experiments")  # the identity cached
    # The project, the count, the experiments with their pages, their variants.
    with django_assert_num_queries(4):
        body = auth_api_client.get(f"/api/projects/{project.pk}/experiments").json()
    assert body["count"] == n and all(len(e["variants"]) == 3 for e in body["results"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"variants": _variants("control")}, "variants"),
        ({"variants": _variants("a", "b", "c", "d", "e", "f")}, "variants"),
        ({"variants": []}, "variants"),
        ({"variants": _variants("same", "same")}, "variants"),
        ({"variants": _variants("Same", "same")}, "variants"),  # one key once slugified
        ({"variants": _variants("a", "b", a={"is_control": True}, b={"is_control": True})}, "variants"),
        ({"variants": _variants("a", "b", b={"weight": 0})}, "variants"),
        ({"variants": _variants("a", "b", b={"weight": 1001})}, "variants"),
        ({"variants": _variants("a", "b", b={"weight": "heavy"})}, "variants"),
        ({"variants": _variants("a", "b", b={"headline": "x" * 121})}, "variants"),
        ({"variants": _variants("a", "b", b={"cta_text": "x" * 61})}, "variants"),
        ({"variants": _variants("a", "b", b={"preorder_price": "-1"})}, "variants"),
        ({"variants": _variants("a", "not a slug!")}, "variants"),
        ({"variants": "control,b"}, "variants"),
        ({"coverage": "0"}, "coverage"),
        ({"coverage": "1.5"}, "coverage"),
        ({"coverage": "most"}, "coverage"),
        ({"minimum_detectable_effect": "0"}, "minimum_detectable_effect"),
        ({"name": ""}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"landing_page_id": 999_999}, "landing_page_id"),
        ({"landing_page_id": "abc"}, "landing_page_id"),
    ],
)
def test_create_rejects_bad_input_with_field_errors_and_writes_nothing(
    auth_api_client, project, live_page, change, field
):
    before = counts()
    error = assert_error_shape(create(auth_api_client, project, live_page, **change), 400, "validation_error")
    assert error["message"] == "Invalid input."
    assert list(error["fields"]) == [field]
    assert counts() == before == (0, 0)


@pytest.mark.parametrize(
    ("variants", "errors"),
    [
        (_variants("a"), ["Give between 2 and 5 variants."]),
        (_variants(*"abcdef"), ["Give between 2 and 5 variants."]),
        ([], ["Give between 2 and 5 variants."]),
        (_variants("a", "b", b={"headline": "x" * 121}),
         {"1": {"headline": ["Ensure this field has no more than 120 characters."]}}),
        (_variants("a", "b", a={"weight": "heavy"}), {"0": {"weight": ["A valid integer is required."]}}),
        (_variants("a", "b", b={"weight": 0}), {"1": {"weight": ["Ensure this value is greater than or equal to 1."]}}),
    ],
)  # fmt: skip
def test_variant_errors_say_which_variant_and_why(auth_api_client, project, live_page, variants, errors):
    error = assert_error_shape(create(auth_api_client, project, live_page, variants=variants), 400)
    assert error["fields"] == {"variants": errors}
    experiment_id = created(auth_api_client, project, live_page)["id"]
    response = auth_api_client.patch(f"/api/experiments/{experiment_id}/", {"variants": variants}, format="json")
    assert assert_error_shape(response, 400)["fields"] == {"variants": errors}
    assert Variant.objects.count() == 2


def test_duplicate_keys_and_two_controls_say_why(auth_api_client, project, live_page):
    error = assert_error_shape(
        create(auth_api_client, project, live_page, variants=_variants("same", "same")), 400, "validation_error"
    )
    assert error["fields"] == {"variants": ["Each variant needs its own key."]}
    two = _variants("a", "b", a={"is_control": True}, b={"is_control": True})
    error = assert_error_shape(create(auth_api_client, project, live_page, variants=two), 400)
    assert error["fields"] == {"variants": ["Exactly one variant is the control."]}
    assert counts() == (0, 0)


def test_a_page_of_another_project_is_a_field_error(auth_api_client, project, live_page):
    mine_too = ProjectFactory(owner=auth_api_client.user)
    theirs = ProjectFactory()
    for other in (generate_and_publish(mine_too, slug="mine"), generate_and_publish(theirs, slug="theirs")):
        error = assert_error_shape(create(auth_api_client, project, other), 400, "validation_error")
        assert error["fields"] == {"landing_page_id": ["No landing page of this project has this id."]}
    assert counts() == (0, 0)


def test_an_archived_page_cannot_get_an_experiment(auth_api_client, project, live_page):
    landing_page_archive(page=live_page)
    assert_error_shape(create(auth_api_client, project, live_page), 409, "invalid_page_state")
    assert counts() == (0, 0)


def test_an_archived_project_cannot_get_an_experiment(auth_api_client, project, live_page):
    project_archive(project=project)
    assert_error_shape(create(auth_api_client, project, live_page), 409, "invalid_project_state")
    assert counts() == (0, 0)


def test_another_users_project_or_experiment_is_404(auth_api_client, project, live_page):
    other = ProjectFactory()
    other_page = generate_and_publish(other, slug="other")
    assert_error_shape(create(auth_api_client, other, other_page), 404, "not_found")
    assert_error_shape(auth_api_client.get(f"/api/projects/{other.pk}/experiments"), 404)
    theirs = experiment_create(page=other_page, name="Theirs", variants=_variants("a", "b"))
    before = counts()
    for method, url in [
        ("get", f"/api/experiments/{theirs.pk}/"),
        ("patch", f"/api/experiments/{theirs.pk}/"),
        ("delete", f"/api/experiments/{theirs.pk}/"),
        ("post", f"/api/experiments/{theirs.pk}/start"),
        ("post", f"/api/experiments/{theirs.pk}/pause"),
        ("post", f"/api/experiments/{theirs.pk}/complete"),
        ("get", f"/api/experiments/{theirs.pk}/results"),
        ("get", f"/api/projects/{other.pk}/analytics"),
    ]:
        response = getattr(auth_api_client, method)(url, {"name": "Mine now"}, format="json")
        assert_error_shape(response, 404, "not_found")
    theirs.refresh_from_db()
    assert (theirs.name, theirs.status) == ("Theirs", ExperimentStatus.DRAFT)
    assert counts() == before


def test_anonymous_is_401_everywhere(api_client, project, live_page):
    experiment = experiment_create(page=live_page, name="E", variants=_variants("a", "b"))
    for method, url in [
        ("post", f"/api/projects/{project.pk}/experiments"),
        ("get", f"/api/projects/{project.pk}/experiments"),
        ("get", f"/api/experiments/{experiment.pk}/"),
        ("patch", f"/api/experiments/{experiment.pk}/"),
        ("delete", f"/api/experiments/{experiment.pk}/"),
        ("post", f"/api/experiments/{experiment.pk}/start"),
        ("get", f"/api/experiments/{experiment.pk}/results"),
        ("get", f"/api/projects/{project.pk}/analytics"),
    ]:
        assert_error_shape(getattr(api_client, method)(url, {}, format="json"), 401, "not_authenticated")
    assert Experiment.objects.get().status == ExperimentStatus.DRAFT


# --- Status moves ----------------------------------------------------------------------------


def move(api, experiment_id: int, action: str):
    return api.post(f"/api/experiments/{experiment_id}/{action}")


def test_start_pause_resume_complete(auth_api_client, project, live_page):
    experiment_id = created(auth_api_client, project, live_page)["id"]
    started = move(auth_api_client, experiment_id, "start")
    assert started.status_code == 200, started.content
    assert started.json()["status"] == "running" and started.json()["started_at"] is not None
    first_start = started.json()["started_at"]

    paused = move(auth_api_client, experiment_id, "pause").json()
    assert paused["status"] == "paused" and paused["paused_at"] is not None

    resumed = move(auth_api_client, experiment_id, "start").json()
    assert resumed["status"] == "running"
    assert resumed["started_at"] == first_start  # the experiment's age counts from its first start
    assert resumed["paused_at"] is None

    done = move(auth_api_client, experiment_id, "complete").json()
    assert done["status"] == "completed" and done["completed_at"] is not None


def test_a_paused_experiment_can_be_completed(auth_api_client, project, live_page):
    experiment_id = created(auth_api_client, project, live_page)["id"]
    move(auth_api_client, experiment_id, "start")
    move(auth_api_client, experiment_id, "pause")
    assert move(auth_api_client, experiment_id, "complete").json()["status"] == "completed"


def test_start_needs_a_published_page(auth_api_client, project):
    prototype_generate(project=project)
    draft_page = landing_page_create(project=project, slug="draft-page")
    experiment_id = created(auth_api_client, project, draft_page)["id"]
    assert_error_shape(move(auth_api_client, experiment_id, "start"), 409, "page_not_published")
    experiment = Experiment.objects.get(pk=experiment_id)
    assert (experiment.status, experiment.started_at) == (ExperimentStatus.DRAFT, None)


def test_one_running_experiment_per_page(auth_api_client, project, live_page):
    first = created(auth_api_client, project, live_page)["id"]
    second = created(auth_api_client, project, live_page)["id"]
    assert move(auth_api_client, first, "start").status_code == 200
    assert_error_shape(move(auth_api_client, second, "start"), 409, "experiment_already_running")
    assert Experiment.objects.get(pk=second).status == ExperimentStatus.DRAFT
    # Nor may a paused one come back while another runs.
    move(auth_api_client, first, "pause")
    assert move(auth_api_client, second, "start").status_code == 200
    assert_error_shape(move(auth_api_client, first, "start"), 409, "experiment_already_running")
    assert Experiment.objects.get(pk=first).status == ExperimentStatus.PAUSED


@pytest.mark.parametrize(
    ("path", "action", "allowed"),
    [
        ([], "pause", ["running"]),
        ([], "complete", ["running"]),
        (["start"], "start", ["completed", "paused"]),
        (["start", "pause"], "pause", ["completed", "running"]),
        (["start", "complete"], "start", []),
        (["start", "complete"], "pause", []),
        (["start", "complete"], "complete", []),
    ],
)
def test_invalid_moves_are_409_and_change_nothing(auth_api_client, project, live_page, path, action, allowed):
    experiment_id = created(auth_api_client, project, live_page)["id"]
    for step in path:
        assert move(auth_api_client, experiment_id, step).status_code == 200
    before = auth_api_client.get(f"/api/experiments/{experiment_id}/").json()
    error = assert_error_shape(move(auth_api_client, experiment_id, action), 409, "invalid_experiment_state")
    assert error["status"] == before["status"]
    assert error["allowed"] == allowed
    assert auth_api_client.get(f"/api/experiments/{experiment_id}/").json() == before


@pytest.mark.parametrize("archive", ["page", "project"])
def test_taking_the_page_offline_ends_its_running_experiment(auth_api_client, project, live_page, archive):
    experiment_id = created(auth_api_client, project, live_page)["id"]
    move(auth_api_client, experiment_id, "start")
    url = f"/api/landing-pages/{live_page.pk}/archive" if archive == "page" else f"/api/projects/{project.pk}/archive"
    assert auth_api_client.post(url).status_code == 200
    experiment = Experiment.objects.get(pk=experiment_id)
    assert experiment.status == ExperimentStatus.COMPLETED and experiment.completed_at is not None


def test_delete_only_in_draft(auth_api_client, project, live_page):
    draft = created(auth_api_client, project, live_page)["id"]
    assert auth_api_client.delete(f"/api/experiments/{draft}/").status_code == 204
    assert not Experiment.objects.filter(pk=draft).exists()
    assert Variant.objects.count() == 0

    for path in (["start"], ["start", "pause"], ["start", "complete"]):
        experiment_id = created(auth_api_client, project, live_page)["id"]
        for step in path:
            move(auth_api_client, experiment_id, step)
        assert_error_shape(
            auth_api_client.delete(f"/api/experiments/{experiment_id}/"), 409, "invalid_experiment_state"
        )
        assert Experiment.objects.filter(pk=experiment_id).exists()
        assert Variant.objects.filter(experiment_id=experiment_id).count() == 2
        if path != ["start", "complete"]:
            move(auth_api_client, experiment_id, "complete")


def test_draft_edit_replaces_variants_and_coverage(auth_api_client, project, live_page):
    experiment_id = created(auth_api_client, project, live_page)["id"]
    response = auth_api_client.patch(
        f"/api/experiments/{experiment_id}/",
        {"coverage": "0.25", "variants": _variants("base", "bold", "calm", bold={"weight": 2, "headline": "Bold"})},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["coverage"] == "0.250"
    assert [(v["key"], v["weight"], v["is_control"]) for v in body["variants"]] == [
        ("base", 1, True),
        ("bold", 2, False),
        ("calm", 1, False),
    ]
    assert Variant.objects.filter(experiment_id=experiment_id).count() == 3


def test_draft_edit_with_bad_variants_changes_nothing(auth_api_client, project, live_page):
    experiment_id = created(auth_api_client, project, live_page)["id"]
    before = auth_api_client.get(f"/api/experiments/{experiment_id}/").json()
    response = auth_api_client.patch(
        f"/api/experiments/{experiment_id}/",
        {"name": "Renamed", "variants": _variants("x", "x")},
        format="json",
    )
    assert assert_error_shape(response, 400, "validation_error")["fields"] == {
        "variants": ["Each variant needs its own key."]
    }
    assert auth_api_client.get(f"/api/experiments/{experiment_id}/").json() == before


@pytest.mark.parametrize("path", [["start"], ["start", "pause"], ["start", "complete"]])
@pytest.mark.parametrize(
    "change",
    [
        {"coverage": "0.5"},
        {"variants": _variants("control", "b", b={"weight": 9})},
        {"name": "Renamed", "variants": _variants("x", "y")},
    ],
)
def test_assignment_is_frozen_once_started(auth_api_client, project, live_page, path, change):
    body = created(auth_api_client, project, live_page, variants=_variants("control", "b", b={"headline": "Variant B"}))
    for step in path:
        move(auth_api_client, body["id"], step)
    experiment = Experiment.objects.get(pk=body["id"])
    vid = visitor_in(experiment, 1)
    if path == ["start"]:
        assert shown(browser(vid).get("/p/chaser/"))["headline"] == "Variant B"
    before = auth_api_client.get(f"/api/experiments/{body['id']}/").json()

    response = auth_api_client.patch(f"/api/experiments/{body['id']}/", change, format="json")

    assert_error_shape(response, 409, "experiment_started")
    assert auth_api_client.get(f"/api/experiments/{body['id']}/").json() == before
    experiment.refresh_from_db()
    assert assign(vid, seed=experiment.seed, coverage=float(experiment.coverage), weights=[1, 1]) == 1
    if path == ["start"]:
        assert shown(browser(vid).get("/p/chaser/"))["headline"] == "Variant B"


def test_name_and_hypothesis_change_while_running(auth_api_client, project, live_page):
    experiment_id = created(auth_api_client, project, live_page)["id"]
    move(auth_api_client, experiment_id, "start")
    response = auth_api_client.patch(
        f"/api/experiments/{experiment_id}/", {"name": "Better name", "hypothesis": "Why"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["hypothesis"]) == ("Better name", "Why")
    assert response.json()["status"] == "running"


def test_patch_rejects_bad_values(auth_api_client, project, live_page):
    experiment_id = created(auth_api_client, project, live_page)["id"]
    error = assert_error_shape(auth_api_client.patch(f"/api/experiments/{experiment_id}/", {}, format="json"), 400)
    assert error["fields"] == {"non_field_errors": ["Send at least one field to change."]}
    for change, field in (({"name": ""}, "name"), ({"coverage": "2"}, "coverage"), ({"variants": []}, "variants")):
        error = assert_error_shape(
            auth_api_client.patch(f"/api/experiments/{experiment_id}/", change, format="json"), 400
        )
        assert list(error["fields"]) == [field]
    assert Experiment.objects.get(pk=experiment_id).name == "Headline test"


# --- The public page follows the experiment ----------------------------------------------------


@pytest.fixture
def preorder_page(project):
    prototype_generate(project=project)
    page = landing_page_create(project=project, slug="buy", cta_kind="preorder", preorder_price="49.00")
    return landing_page_publish(page=page)


def test_visitors_see_their_variant_sticky_and_the_base_page_after_pause_and_complete(
    auth_api_client, project, preorder_page
):
    body = created(
        auth_api_client,
        project,
        preorder_page,
        variants=[
            {"key": "control"},
            {"key": "b", "headline": "Variant headline", "subheadline": "Variant sub", "cta_text": "Variant CTA",
             "preorder_price": "19.00"},
        ],
    )  # fmt: skip
    experiment = Experiment.objects.get(pk=body["id"])
    base = {
        "headline": preorder_page.headline,
        "subheadline": preorder_page.subheadline,
        "cta_text": preorder_page.cta_text,
        "preorder_price": "49.00",
    }
    variant_b = {"headline": "Variant headline", "subheadline": "Variant sub", "cta_text": "Variant CTA",
                 "preorder_price": "19.00"}  # fmt: skip
    in_a, in_b = browser(visitor_in(experiment, 0)), browser(visitor_in(experiment, 1))
    # Before the start: everyone sees the page, and its render is cached.
    assert shown(in_b.get("/p/buy/")) == base
    assert shown(in_b.get("/p/buy/")) == base

    move(auth_api_client, experiment.pk, "start")
    for _ in range(3):  # sticky: the cookie alone decides
        assert shown(in_a.get("/p/buy/")) == base
        assert shown(in_b.get("/p/buy/")) == variant_b
    # The variant's price follows the visitor to the fake door's honest page.
    assert "19.00 USD" in in_b.get("/p/buy/preorder").content.decode()

    move(auth_api_client, experiment.pk, "pause")
    assert shown(in_b.get("/p/buy/")) == base
    move(auth_api_client, experiment.pk, "start")
    assert shown(in_b.get("/p/buy/")) == variant_b
    move(auth_api_client, experiment.pk, "complete")
    assert shown(in_b.get("/p/buy/")) == base
    assert "49.00 USD" in in_b.get("/p/buy/preorder").content.decode()


def test_blank_overrides_keep_the_pages_own_copy(auth_api_client, project, live_page):
    body = created(
        auth_api_client, project, live_page, variants=_variants("control", "b", b={"cta_text": "Only the CTA"})
    )
    move(auth_api_client, body["id"], "start")
    seen = shown(browser(visitor_in(Experiment.objects.get(pk=body["id"]), 1)).get("/p/chaser/"))
    assert seen["headline"] == live_page.headline
    assert seen["cta_text"] == "Only the CTA"


def test_visitors_outside_the_coverage_see_the_page_and_their_events_carry_no_variant(
    auth_api_client, project, live_page
):
    body = created(
        auth_api_client,
        project,
        live_page,
        coverage="0.3",
        variants=_variants("control", "b", b={"headline": "Variant B"}),
    )
    move(auth_api_client, body["id"], "start")
    experiment = Experiment.objects.get(pk=body["id"])
    inside, outside = visitor_in(experiment, 1), visitor_in(experiment, None)
    for vid in (inside, outside):
        client = browser(vid)
        client.get("/p/chaser/")
        assert client.post("/p/chaser/e", {"k": "cta_click"}).status_code == 204
    assert shown(browser(outside).get("/p/chaser/"))["headline"] == live_page.headline
    call_command("flush_events")

    def seen(vid):
        from security.hashing import hash_identifier

        rows = Event.objects.filter(visitor_hash=hash_identifier(vid)).order_by("kind")
        return sorted({(e.kind, e.experiment_id, e.variant) for e in rows})

    assert seen(inside) == [("cta_click", experiment.pk, "b"), ("view", experiment.pk, "b")]
    assert seen(outside) == [("cta_click", None, ""), ("view", None, "")]
    assert list(ExperimentExposure.objects.values_list("variant", flat=True)) == ["b"]


def _split(experiment: Experiment, n: int) -> list[int]:
    weights = [v.weight for v in experiment.variants.all()]
    per_variant = [0] * len(weights)
    outside = 0
    for i in range(n):
        index = assign(f"visitor-{i:012d}", seed=experiment.seed, coverage=float(experiment.coverage), weights=weights)
        if index is None:
            outside += 1
        else:
            per_variant[index] += 1
    return [*per_variant, outside]


def _within_binomial(observed: int, n: int, p: float, sds: float = 4.5) -> bool:
    """`observed` out of `n` is within `sds` standard deviations of a Binomial(n, p) mean."""
    return abs(observed - n * p) <= sds * math.sqrt(n * p * (1 - p))


def test_coverage_share_is_near_the_coverage(auth_api_client, project, live_page):
    body = created(auth_api_client, project, live_page, coverage="0.4")
    *in_variants, outside = _split(Experiment.objects.get(pk=body["id"]), 1000)
    assert _within_binomial(sum(in_variants), 1000, 0.4), in_variants
    assert _within_binomial(outside, 1000, 0.6)
    assert all(_within_binomial(n, 1000, 0.2) for n in in_variants)


def test_weights_80_20_split_80_20(auth_api_client, project, live_page):
    body = created(
        auth_api_client, project, live_page, variants=_variants("a", "b", a={"weight": 80}, b={"weight": 20})
    )
    a, b, outside = _split(Experiment.objects.get(pk=body["id"]), 1000)
    assert outside == 0 and a + b == 1000
    assert _within_binomial(a, 1000, 0.8), (a, b)


def test_five_variants_split_evenly_and_each_shows_its_headline(auth_api_client, project, live_page):
    keys = ("a", "b", "c", "d", "e")
    variants = _variants(*keys, **{k: {"headline": f"Headline {k.upper()}"} for k in keys[1:]})
    body = created(auth_api_client, project, live_page, variants=variants)
    move(auth_api_client, body["id"], "start")
    experiment = Experiment.objects.get(pk=body["id"])
    *per_variant, outside = _split(experiment, 1000)
    assert outside == 0
    assert all(_within_binomial(n, 1000, 0.2) for n in per_variant), per_variant
    expected = [live_page.headline, "Headline B", "Headline C", "Headline D", "Headline E"]
    for index, headline in enumerate(expected):
        assert shown(browser(visitor_in(experiment, index)).get("/p/chaser/"))["headline"] == headline
    # And the five arms are analysed (Monte Carlo "chance to be best").
    arms = [("a", 110, 11), ("b", 104, 15), ("c", 98, 9), ("d", 120, 14), ("e", 101, 30)]
    for key, n, conversions in arms:
        expose(experiment, key, n, signed_up=conversions)
    results = auth_api_client.get(f"/api/experiments/{experiment.pk}/results").json()
    expected_results = reference(experiment, arms, results["days_running"])
    assert results["arms"] == expected_results["arms"]
    assert results["decision"] == expected_results["decision"]
    assert max(results["arms"], key=lambda a: a["prob_best"])["key"] == "e"


# --- Results -----------------------------------------------------------------------------------


def expose(experiment: Experiment, variant: str, n: int, *, signed_up: int = 0, unconfirmed: int = 0, **flags):
    """`n` confirmed people in `variant`, `signed_up` of them signed up; and `unconfirmed` who did not."""
    start = ExperimentExposure.objects.count()
    now = timezone.now()
    ExperimentExposure.objects.bulk_create(
        [
            ExperimentExposure(
                experiment=experiment, variant=variant, visitor_hash=f"h{start + i}", first_seen=now,
                confirmed=i < n, signed_up=i < signed_up,
                clicked=i < flags.get("clicked", 0), preordered=i < flags.get("preordered", 0),
            )
            for i in range(n + unconfirmed)
        ]
    )  # fmt: skip


def started(auth_api_client, project, page, *, days_ago: float = 0, **body) -> Experiment:
    experiment_id = created(auth_api_client, project, page, **body)["id"]
    assert move(auth_api_client, experiment_id, "start").status_code == 200
    if days_ago:
        Experiment.objects.filter(pk=experiment_id).update(started_at=timezone.now() - timedelta(days=days_ago))
    return Experiment.objects.get(pk=experiment_id)


def reference(experiment: Experiment, arms: list[tuple[str, int, int]], days: float) -> dict:
    """`analyse` (projects.analysis.experiments) on (key, visitors, conversions) per arm, as the endpoint calls it."""
    variants = {v.key: v for v in experiment.variants.all()}
    total = sum(n for _, n, _ in arms)
    return analyse(
        [Arm(key, float(variants[key].weight), n, c, variants[key].is_control) for key, n, c in arms],
        days_running=days,
        visitors_per_day=total / days if days >= 1 else None,
        mde_relative=float(experiment.minimum_detectable_effect),
        draws=RESULTS_MC_DRAWS,
    ).to_dict()


def test_results_shape_and_values_match_the_statistics(auth_api_client, project, live_page):
    experiment = started(auth_api_client, project, live_page, days_ago=10)
    expose(experiment, "control", 1000, signed_up=100, unconfirmed=7, clicked=90, preordered=3)
    expose(experiment, "b", 1010, signed_up=180, unconfirmed=2, clicked=120)

    response = auth_api_client.get(f"/api/experiments/{experiment.pk}/results")

    assert response.status_code == 200, response.content
    body = response.json()
    assert {"arms", "srm", "gates", "decision", "health", "secondary", "days_running", "metric"} <= set(body)
    assert body["experiment_id"] == experiment.pk and body["status"] == "running" and body["metric"] == "signup"
    assert 9.99 < body["days_running"] < 10.01
    expected = reference(experiment, [("control", 1000, 100), ("b", 1010, 180)], body["days_running"])
    for key in ("arms", "srm", "gates", "sample_size_per_variant", "days_to_decision", "decision", "mde_relative"):
        assert body[key] == expected[key], key
    assert [(a["key"], a["visitors"], a["conversions"]) for a in body["arms"]] == [
        ("control", 1000, 100),
        ("b", 1010, 180),
    ]
    assert body["decision"]["status"] == "winner" and body["decision"]["winner"] == "b"
    assert body["secondary"] == {
        "control": {"cta_clicks": 90, "preorders": 3, "unconfirmed_visitors": 7},
        "b": {"cta_clicks": 120, "preorders": 0, "unconfirmed_visitors": 2},
    }
    assert body["health"] == {
        "srm": expected["srm"], "bot_share": None, "bot_share_limit": 0.3, "too_many_bots": False,
    }  # fmt: skip


def test_results_of_three_arms_match_the_statistics(auth_api_client, project, live_page):
    experiment = started(auth_api_client, project, live_page, days_ago=3, variants=_variants("a", "b", "c"))
    expose(experiment, "a", 120, signed_up=12)
    expose(experiment, "b", 118, signed_up=20)
    expose(experiment, "c", 125, signed_up=9)
    body = auth_api_client.get(f"/api/experiments/{experiment.pk}/results").json()
    expected = reference(experiment, [("a", 120, 12), ("b", 118, 20), ("c", 125, 9)], body["days_running"])
    for key in ("arms", "srm", "gates", "sample_size_per_variant", "days_to_decision", "decision"):
        assert body[key] == expected[key], key
    assert body["decision"]["status"] == "collecting"


def test_results_of_a_draft_with_no_one_yet(auth_api_client, project, live_page):
    experiment_id = created(auth_api_client, project, live_page)["id"]
    body = auth_api_client.get(f"/api/experiments/{experiment_id}/results").json()
    assert body["status"] == "draft" and body["days_running"] == 0 and body["started_at"] is None
    assert [a["visitors"] for a in body["arms"]] == [0, 0]
    assert body["decision"]["status"] == "collecting"


def test_a_pause_stops_the_experiments_clock(auth_api_client, project, live_page):
    experiment = started(auth_api_client, project, live_page, days_ago=10)
    Experiment.objects.filter(pk=experiment.pk).update(
        status=ExperimentStatus.PAUSED, paused_at=experiment.started_at + timedelta(days=2)
    )
    url = f"/api/experiments/{experiment.pk}/results"
    body = auth_api_client.get(url).json()
    assert body["status"] == "paused" and 1.99 < body["days_running"] < 2.01
    assert body["gates"]["min_days"] == {"required": 7, "actual": body["days_running"], "met": False}
    move(auth_api_client, experiment.pk, "complete")  # completed while paused: still 2 days of traffic
    assert 1.99 < auth_api_client.get(url).json()["days_running"] < 2.01
    resumed = started(auth_api_client, project, live_page, days_ago=3)
    move(auth_api_client, resumed.pk, "pause")
    move(auth_api_client, resumed.pk, "start")
    assert 2.99 < auth_api_client.get(f"/api/experiments/{resumed.pk}/results").json()["days_running"] < 3.01


def test_sample_ratio_mismatch_makes_the_decision_unhealthy(auth_api_client, project, live_page):
    experiment = started(auth_api_client, project, live_page, days_ago=10)
    expose(experiment, "control", 600, signed_up=60)
    expose(experiment, "b", 400, signed_up=80)  # 60/40 on a 50/50 plan
    body = auth_api_client.get(f"/api/experiments/{experiment.pk}/results").json()
    assert body["srm"]["unhealthy"] is True and body["srm"]["p_value"] < SRM_ALPHA
    assert body["health"]["srm"]["unhealthy"] is True
    assert body["decision"]["status"] == "unhealthy" and body["decision"]["winner"] is None


def _rollup(experiment, variant, traffic, views, day_offset=0):
    DailyRollup.objects.create(
        page=experiment.page, day=timezone.now().date() - timedelta(days=day_offset), experiment=experiment,
        variant=variant, channel="direct", traffic=traffic, views=views, visitors=views,
    )  # fmt: skip


def test_too_many_bots_make_the_decision_unhealthy(auth_api_client, project, live_page):
    experiment = started(auth_api_client, project, live_page, days_ago=10)
    expose(experiment, "control", 1000, signed_up=100)
    expose(experiment, "b", 1010, signed_up=180)
    _rollup(experiment, "control", Traffic.HUMAN, 300)
    _rollup(experiment, "b", Traffic.HUMAN, 300, day_offset=1)
    _rollup(experiment, "control", Traffic.BOT, 310)
    _rollup(experiment, "b", Traffic.FOUNDER, 500)  # the founder's previews are no bots
    body = auth_api_client.get(f"/api/experiments/{experiment.pk}/results").json()
    assert body["health"]["bot_share"] == round(310 / 910, 6)
    assert body["health"]["too_many_bots"] is True
    assert body["decision"]["status"] == "unhealthy" and body["decision"]["winner"] is None
    assert "known bots" in body["decision"]["reason"]


def test_a_bot_share_under_the_limit_keeps_the_verdict(auth_api_client, project, live_page):
    experiment = started(auth_api_client, project, live_page, days_ago=10)
    expose(experiment, "control", 1000, signed_up=100)
    expose(experiment, "b", 1010, signed_up=180)
    _rollup(experiment, "control", Traffic.HUMAN, 700)
    _rollup(experiment, "b", Traffic.BOT, 300)
    body = auth_api_client.get(f"/api/experiments/{experiment.pk}/results").json()
    assert body["health"]["bot_share"] == 0.3 and body["health"]["too_many_bots"] is False
    assert body["decision"]["status"] == "winner"


def test_results_are_cached_until_the_worker_rolls_up_the_experiments_events(
    commit, auth_api_client, project, live_page
):
    experiment = started(auth_api_client, project, live_page, variants=_variants("control", "b"))
    url = f"/api/experiments/{experiment.pk}/results"
    first = auth_api_client.get(url).json()
    assert [a["visitors"] for a in first["arms"]] == [0, 0]
    expose(experiment, "control", 5)  # written behind the worker's back: no bump, still cached
    assert auth_api_client.get(url).json() == first

    vid = visitor_in(experiment, 1)
    client = browser(vid)
    client.get("/p/chaser/")
    client.post("/p/chaser/e", {"k": "beacon"})
    assert auth_api_client.get(url).json() == first  # not rolled up yet
    with commit():
        call_command("flush_events")

    body = auth_api_client.get(url).json()
    assert [(a["key"], a["visitors"]) for a in body["arms"]] == [("control", 5), ("b", 1)]
    assert body["computed_at"] != first["computed_at"]


def test_results_follow_a_new_minimum_detectable_effect(auth_api_client, project, live_page):
    experiment = started(auth_api_client, project, live_page)
    url = f"/api/experiments/{experiment.pk}/results"
    assert auth_api_client.get(url).json()["mde_relative"] == 0.2
    response = auth_api_client.patch(
        f"/api/experiments/{experiment.pk}/", {"minimum_detectable_effect": "0.5"}, format="json"
    )
    assert response.status_code == 200
    assert auth_api_client.get(url).json()["mde_relative"] == 0.5


def test_results_follow_a_status_move(auth_api_client, project, live_page):
    experiment = started(auth_api_client, project, live_page)
    url = f"/api/experiments/{experiment.pk}/results"
    assert auth_api_client.get(url).json()["status"] == "running"
    move(auth_api_client, experiment.pk, "complete")
    assert auth_api_client.get(url).json()["status"] == "completed"


def test_bots_and_founder_views_never_count_in_the_results(auth_api_client, project, live_page):
    experiment = started(auth_api_client, project, live_page)
    bot = browser(visitor_in(experiment, 0), ua="Mozilla/5.0 (compatible; Googlebot/2.1)")
    bot.get("/p/chaser/")
    bot.post("/p/chaser/e", {"k": "beacon"})
    founder = browser(visitor_in(experiment, 1))
    preview_url = auth_api_client.get(f"/api/landing-pages/{live_page.pk}/").json()["preview_url"]
    assert founder.get(preview_url).status_code == 302
    founder.get("/p/chaser/")
    founder.post("/p/chaser/e", {"k": "cta_click"})
    call_command("flush_events")
    assert Event.objects.filter(kind=EventKind.VIEW).count() == 2
    body = auth_api_client.get(f"/api/experiments/{experiment.pk}/results").json()
    assert [a["visitors"] for a in body["arms"]] == [0, 0]
    assert ExperimentExposure.objects.count() == 0


# --- Admin -------------------------------------------------------------------------------------


@pytest.fixture
def admin_data(auth_api_client, project, live_page):
    experiment = started(
        auth_api_client, project, live_page, variants=_variants("control", "b", b={"headline": "Variant B"})
    )
    expose(experiment, "control", 3)
    _rollup(experiment, "b", Traffic.BOT, 4)
    return experiment


@pytest.mark.parametrize(
    "url",
    [
        "/admin/projects/experiment/",
        "/admin/projects/experiment/?status__exact=running",
        "/admin/projects/dailyrollup/",
        "/admin/projects/dailyrollup/?traffic__exact=bot",
        "/admin/projects/experimentexposure/",
    ],
)
def test_admin_changelists_render_for_a_superuser(admin_data, superuser_client, url):
    response = superuser_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    if "/experiment/" in url:
        assert "Headline test" in html and "chaser" in html and "Running" in html
    if "traffic__exact=bot" in url:
        assert "1 daily rollup" in html


@pytest.fixture
def superuser_client():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_admin_experiment_page_shows_its_variants_read_only(admin_data, superuser_client):
    response = superuser_client.get(f"/admin/projects/experiment/{admin_data.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Variants" in html and 'name="variants-TOTAL_FORMS" value="2"' in html
    assert 'name="variants-0-weight"' not in html  # frozen: shown, not editable
    assert 'name="coverage"' not in html and 'name="name"' not in html


def test_admin_cannot_add_or_delete_experiments(admin_data, superuser_client):
    assert superuser_client.get("/admin/projects/experiment/add/").status_code == 403
    response = superuser_client.post(f"/admin/projects/experiment/{admin_data.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert Experiment.objects.filter(pk=admin_data.pk).exists()


def test_admin_pause_action_goes_through_the_service(admin_data, superuser_client):
    in_b = browser(visitor_in(admin_data, 1))
    assert shown(in_b.get("/p/chaser/"))["headline"] == "Variant B"  # and the render is cached
    response = superuser_client.post(
        "/admin/projects/experiment/",
        {"action": "pause_experiments", "_selected_action": [admin_data.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "1 experiment(s) now paused." in response.content.decode()
    admin_data.refresh_from_db()
    assert admin_data.status == ExperimentStatus.PAUSED and admin_data.paused_at is not None
    assert shown(in_b.get("/p/chaser/"))["headline"] == admin_data.page.headline
    # A move the state does not allow is reported, not made.
    response = superuser_client.post(
        "/admin/projects/experiment/",
        {"action": "pause_experiments", "_selected_action": [admin_data.pk]},
        follow=True,
    )
    assert "cannot be paused" in response.content.decode()
    assert "0 experiment(s) now paused." in response.content.decode()


def test_admin_rollups_and_exposures_are_read_only(admin_data, superuser_client):
    assert superuser_client.get("/admin/projects/dailyrollup/add/").status_code == 403
    assert superuser_client.get("/admin/projects/experimentexposure/add/").status_code == 403
    rollup = DailyRollup.objects.get()
    assert superuser_client.get(f"/admin/projects/dailyrollup/{rollup.pk}/change/").status_code == 200  # view only
    response = superuser_client.post(f"/admin/projects/dailyrollup/{rollup.pk}/change/", {"views": 999})
    assert response.status_code == 403
    assert DailyRollup.objects.get().views == 4
    exposure = ExperimentExposure.objects.first()
    response = superuser_client.post(f"/admin/projects/experimentexposure/{exposure.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert ExperimentExposure.objects.count() == 3


@pytest.mark.parametrize(
    "url", ["/admin/projects/experiment/", "/admin/projects/dailyrollup/", "/admin/projects/experimentexposure/"]
)
def test_admin_changelists_redirect_a_non_staff_user_to_login(admin_data, url):
    client = Client()
    client.force_login(UserFactory())
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
