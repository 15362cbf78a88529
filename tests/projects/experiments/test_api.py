"""The experiments API from the outside: create, edit, move and delete experiments."""

import pytest

from projects.analysis.assignment import assign
from projects.models import (
    Experiment,
    ExperimentStatus,
    Variant,
)
from projects.services.experiments import experiment_create
from projects.services.pages import landing_page_archive, landing_page_create
from projects.services.projects import project_archive
from projects.services.prototypes import prototype_generate
from tests.factories import ProjectFactory, generate_and_publish
from tests.projects.experiments.helpers import browser, counts, create, created, move, shown, variant_list, visitor_in
from tests.security.test_auth_api import assert_error_shape

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]


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
    variants = variant_list("a", "b", "c", "d", "e", c={"is_control": True})
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
        created(auth_api_client, project, live_page, name=f"E{i}", variants=variant_list("a", "b", "c"))
    auth_api_client.get(f"/api/projects/{project.pk}/experiments")  # the identity cached
    # The project, the count, the experiments with their pages, their variants.
    with django_assert_num_queries(4):
        body = auth_api_client.get(f"/api/projects/{project.pk}/experiments").json()
    assert body["count"] == n and all(len(e["variants"]) == 3 for e in body["results"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"variants": variant_list("control")}, "variants"),
        ({"variants": variant_list("a", "b", "c", "d", "e", "f")}, "variants"),
        ({"variants": []}, "variants"),
        ({"variants": variant_list("same", "same")}, "variants"),
        ({"variants": variant_list("Same", "same")}, "variants"),  # one key once slugified
        ({"variants": variant_list("a", "b", a={"is_control": True}, b={"is_control": True})}, "variants"),
        ({"variants": variant_list("a", "b", b={"weight": 0})}, "variants"),
        ({"variants": variant_list("a", "b", b={"weight": 1001})}, "variants"),
        ({"variants": variant_list("a", "b", b={"weight": "heavy"})}, "variants"),
        ({"variants": variant_list("a", "b", b={"headline": "x" * 121})}, "variants"),
        ({"variants": variant_list("a", "b", b={"cta_text": "x" * 61})}, "variants"),
        ({"variants": variant_list("a", "b", b={"preorder_price": "-1"})}, "variants"),
        ({"variants": variant_list("a", "not a slug!")}, "variants"),
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
        (variant_list("a"), ["Give between 2 and 5 variants."]),
        (variant_list(*"abcdef"), ["Give between 2 and 5 variants."]),
        ([], ["Give between 2 and 5 variants."]),
        (variant_list("a", "b", b={"headline": "x" * 121}),
         {"1": {"headline": ["Ensure this field has no more than 120 characters."]}}),
        (variant_list("a", "b", a={"weight": "heavy"}), {"0": {"weight": ["A valid integer is required."]}}),
        (variant_list("a", "b", b={"weight": 0}),
         {"1": {"weight": ["Ensure this value is greater than or equal to 1."]}}),
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
        create(auth_api_client, project, live_page, variants=variant_list("same", "same")), 400, "validation_error"
    )
    assert error["fields"] == {"variants": ["Each variant needs its own key."]}
    two = variant_list("a", "b", a={"is_control": True}, b={"is_control": True})
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
    theirs = experiment_create(page=other_page, name="Theirs", variants=variant_list("a", "b"))
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
    experiment = experiment_create(page=live_page, name="E", variants=variant_list("a", "b"))
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
        {"coverage": "0.25", "variants": variant_list("base", "bold", "calm", bold={"weight": 2, "headline": "Bold"})},
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
        {"name": "Renamed", "variants": variant_list("x", "x")},
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
        {"variants": variant_list("control", "b", b={"weight": 9})},
        {"name": "Renamed", "variants": variant_list("x", "y")},
    ],
)
def test_assignment_is_frozen_once_started(auth_api_client, project, live_page, path, change):
    body = created(
        auth_api_client, project, live_page, variants=variant_list("control", "b", b={"headline": "Variant B"})
    )
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
