"""The founder's experiment screens over HTTP: the list, a new experiment from a page's variants
(errors beside their fields, nothing written on error), start, pause, resume, complete, and who
may see them."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from projects.models import Experiment, ExperimentStatus, PageVariant, Variant
from projects.selectors.variants import variant_values
from projects.services.experiments import experiment_create_from_page
from projects.services.pages import landing_page_create
from projects.services.prototypes import prototype_generate
from projects.services.variants import variant_create, variant_update
from tests.factories import ProjectFactory, UserFactory, generate_and_publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def page(user):
    return generate_and_publish(ProjectFactory(owner=user), slug="chaser")


def add_variant(page, *, name="", **changes):
    variant = variant_create(page=page, name=name)
    if changes:
        values = {**variant_values(page=page, variant=variant), **changes}
        variant_update(variant=variant, name=variant.name, values=values)
    return PageVariant.objects.get(pk=variant.pk)


def list_url(page):
    return reverse("experiment-list", kwargs={"pk": page.project_id})


def create_url(page):
    return reverse("experiment-create", kwargs={"pk": page.project_id}) + f"?page={page.pk}"


def detail_url(experiment):
    return reverse("experiment-detail", kwargs={"pk": experiment.page.project_id, "exp_pk": experiment.pk})


def move_url(experiment, action):
    return reverse(f"experiment-{action}", kwargs={"pk": experiment.page.project_id, "exp_pk": experiment.pk})


def form_data(**changes):
    data = {
        "name": "Pain headline",
        "hypothesis": "Naming the pain gets more sign-ups",
        "arms": ["b"],
        "weight_a": "50",
        "weight_b": "50",
        "coverage": "100",
        "minimum_detectable_effect": "20",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def errors_beside(html: str, field: str) -> str:
    """The error list Django renders right after the field's input (its help, if any, between)."""
    match = re.search(rf'id="id_{field}(_\d+)?".*?<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S)
    assert match, f"no error beside {field}"
    return re.sub(r"<[^>]+>", "", match.group(2)).strip()


def test_list_offers_a_new_experiment_per_page_with_variants_and_explains_the_others(owner, page):
    other = landing_page_create(project=page.project, slug="second")
    add_variant(page)
    html = owner.get(list_url(page)).content.decode()
    assert "No experiment yet" in html
    assert f'href="{create_url(page)}"' in html
    assert f"?page={other.pk}" not in html  # no variant: no button, but the way to make one
    assert f'href="{reverse("page-edit", args=[page.project_id, other.pk])}#variants-heading"' in html
    assert 'aria-current="page">Experiments<' in html


def test_create_from_two_variants_snapshots_their_overrides_and_names(owner, page):
    b = add_variant(page, name="Pain", headline="Stop chasing invoices", features=["One", "Two"])
    c = add_variant(page, name="Price", preorder_price=Decimal("9.00"))
    response = owner.post(
        create_url(page), form_data(arms=["b", "c"], weight_a="20", weight_b="30", weight_c="50", coverage="80")
    )
    experiment = Experiment.objects.get()
    assert response.status_code == 302 and response["Location"] == detail_url(experiment)
    assert experiment.status == ExperimentStatus.DRAFT
    assert experiment.coverage == Decimal("0.8") and experiment.minimum_detectable_effect == Decimal("0.2")
    assert experiment.hypothesis == "Naming the pain gets more sign-ups"
    arms = {v.key: v for v in experiment.variants.all()}
    assert [(v.key, v.weight, v.is_control) for v in experiment.variants.all()] == [
        ("a", 20, True),
        ("b", 30, False),
        ("c", 50, False),
    ]
    assert arms["a"].overrides == {} and arms["a"].name == "The page"
    assert arms["b"].overrides == b.overrides and arms["b"].name == "Pain"
    assert arms["b"].overrides["headline"] == "Stop chasing invoices"
    assert arms["c"].overrides == c.overrides and arms["c"].name == "Price"
    assert all(v.headline == v.subheadline == v.cta_text == "" and v.preorder_price is None for v in arms.values())
    # A snapshot: a later edit of the page variant does not reach the experiment.
    variant_update(variant=b, name="Pain", values={**variant_values(page=page, variant=b), "headline": "Later"})
    assert Variant.objects.get(pk=arms["b"].pk).overrides["headline"] == "Stop chasing invoices"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"arms": None}, "arms", "Choose at least one variant"),
        ({"weight_b": "0"}, "weight_b", "greater than or equal to 1"),
        ({"weight_a": "1001"}, "weight_a", "less than or equal to 1000"),
        ({"coverage": "0"}, "coverage", "greater than or equal to 1"),
        ({"coverage": "101"}, "coverage", "less than or equal to 100"),
        ({"minimum_detectable_effect": "0.5"}, "minimum_detectable_effect", "greater than or equal to 1"),
        ({"name": ""}, "name", "required"),
        ({"arms": ["z"]}, "arms", "Select a valid choice"),
    ],
)
def test_bad_input_is_an_error_beside_its_field_and_nothing_is_written(owner, page, changes, field, message):
    add_variant(page)
    response = owner.post(create_url(page), form_data(**changes))
    assert response.status_code == 400
    html = response.content.decode()
    assert message in errors_beside(html, field)
    assert "Nothing was saved" in html
    assert Experiment.objects.count() == 0 and Variant.objects.count() == 0


def test_a_variant_of_another_page_is_refused_by_the_service(page):
    other = landing_page_create(project=page.project, slug="second")
    add_variant(other)
    with pytest.raises(Exception) as caught:
        experiment_create_from_page(
            page=page,
            name="x",
            arms={"a": 1, "b": 1},
            coverage=Decimal("1"),
            minimum_detectable_effect=Decimal("0.2"),
        )
    assert "No variant B on this page" in str(caught.value)
    assert Experiment.objects.count() == 0


def test_start_now_on_a_page_with_a_running_experiment_writes_nothing(owner, page):
    add_variant(page)
    assert owner.post(create_url(page), form_data(start="on")).status_code == 302
    running = Experiment.objects.get()
    assert running.status == ExperimentStatus.RUNNING
    response = owner.post(create_url(page), form_data(name="Second", start="on"))
    assert response.status_code == 400
    assert "Another experiment is running on this page." in errors_beside(response.content.decode(), "start")
    assert list(Experiment.objects.values_list("name", flat=True)) == ["Pain headline"]
    assert Variant.objects.count() == 2


def test_start_pause_resume_complete_through_the_buttons(owner, page):
    add_variant(page)
    owner.post(create_url(page), form_data())
    experiment = Experiment.objects.get()
    html = owner.get(detail_url(experiment)).content.decode()
    assert "How long it will take" in html and "No traffic yet" in html  # the planner, before starting
    assert f'action="{move_url(experiment, "start")}"' in html
    response = owner.post(move_url(experiment, "start"), follow=True)
    assert "is running" in response.content.decode()
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.RUNNING and experiment.started_at is not None
    html = response.content.decode()
    assert 'data-live="20"' in html and f'hx-get="{detail_url(experiment)}?fragment=live"' in html
    assert "How long it will take" not in html
    owner.post(move_url(experiment, "pause"))
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.PAUSED
    assert ">Resume<" in owner.get(detail_url(experiment)).content.decode()
    owner.post(move_url(experiment, "start"))
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.RUNNING
    asked = owner.post(move_url(experiment, "complete")).content.decode()  # asks first
    assert "cannot be started again" in asked and 'name="confirm" value="yes"' in asked
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.RUNNING
    owner.post(move_url(experiment, "complete"), {"confirm": "yes"})
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.COMPLETED and experiment.completed_at is not None
    html = owner.get(list_url(page)).content.decode()
    assert "Completed" in html and f'href="{detail_url(experiment)}"' in html


def test_a_refused_move_is_a_message(owner, page):
    add_variant(page)
    owner.post(create_url(page), form_data(start="on"))
    owner.post(create_url(page), form_data(name="Second"))
    second = Experiment.objects.get(name="Second")
    response = owner.post(move_url(second, "start"), follow=True)
    assert "Another experiment is running on this page." in response.content.decode()
    second.refresh_from_db()
    assert second.status == ExperimentStatus.DRAFT
    response = owner.post(move_url(second, "pause"), follow=True)
    assert "A draft experiment cannot be paused." in response.content.decode()


def test_a_draft_page_cannot_start(owner, user):
    project = ProjectFactory(owner=user)
    prototype_generate(project=project)
    draft = landing_page_create(project=project, slug="draft")
    add_variant(draft)
    response = owner.post(create_url(draft), form_data(start="on"))
    assert response.status_code == 400
    assert "Publish the page" in errors_beside(response.content.decode(), "start")
    assert Experiment.objects.count() == 0


def test_another_founders_experiment_and_pages_are_404(client, page):
    add_variant(page)
    experiment = experiment_create_from_page(
        page=page, name="x", arms={"a": 1, "b": 1}, coverage=Decimal("1"), minimum_detectable_effect=Decimal("0.2")
    )
    client.force_login(UserFactory())
    assert client.get(list_url(page)).status_code == 404
    assert client.get(create_url(page)).status_code == 404
    assert client.get(detail_url(experiment)).status_code == 404
    assert client.post(move_url(experiment, "start")).status_code == 404
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.DRAFT


def test_an_experiment_under_another_project_of_the_same_founder_is_404(owner, page, user):
    add_variant(page)
    experiment = experiment_create_from_page(
        page=page, name="x", arms={"a": 1, "b": 1}, coverage=Decimal("1"), minimum_detectable_effect=Decimal("0.2")
    )
    other = ProjectFactory(owner=user)
    assert owner.get(reverse("experiment-detail", kwargs={"pk": other.pk, "exp_pk": experiment.pk})).status_code == 404
    assert owner.get(reverse("experiment-create", kwargs={"pk": other.pk}) + f"?page={page.pk}").status_code == 404
    assert owner.get(reverse("experiment-create", kwargs={"pk": page.project_id}) + "?page=nope").status_code == 404


def test_anonymous_is_sent_to_login_and_moves_refuse_get(client, owner, page):
    add_variant(page)
    experiment = experiment_create_from_page(
        page=page, name="x", arms={"a": 1, "b": 1}, coverage=Decimal("1"), minimum_detectable_effect=Decimal("0.2")
    )
    for action in ("start", "pause", "complete"):
        assert owner.get(move_url(experiment, action)).status_code == 405
    owner.logout()
    for url in (list_url(page), create_url(page), detail_url(experiment), move_url(experiment, "start")):
        response = owner.get(url) if "start" not in url else owner.post(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login")


def test_csrf_is_required_on_the_moves(page, user):
    from django.test import Client

    add_variant(page)
    experiment = experiment_create_from_page(
        page=page, name="x", arms={"a": 1, "b": 1}, coverage=Decimal("1"), minimum_detectable_effect=Decimal("0.2")
    )
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    assert browser.post(move_url(experiment, "start")).status_code == 403
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.DRAFT


def test_planner_fragment_follows_the_form(owner, page):
    add_variant(page)
    add_variant(page)
    url = reverse("experiment-plan", kwargs={"pk": page.project_id})
    htmx = {"HTTP_HX_REQUEST": "true"}
    two = owner.get(url, {"page": page.pk, "arms": ["b"], "minimum_detectable_effect": "20", "coverage": "100"}, **htmx)
    three = owner.get(
        url, {"page": page.pk, "arms": ["b", "c"], "minimum_detectable_effect": "20", "coverage": "100"}, **htmx
    )
    big = owner.get(url, {"page": page.pk, "arms": ["b"], "minimum_detectable_effect": "50", "coverage": "100"}, **htmx)
    plain = owner.get(url, {"page": page.pk})  # no script: the whole create screen
    assert plain.status_code == 302 and plain["Location"] == create_url(page)

    def figure(response, name):
        html = response.content.decode()
        return int(re.search(rf'data-testid="plan-{name}">([\d,]+)<', html).group(1).replace(",", ""))

    assert figure(two, "per-arm") == figure(three, "per-arm")
    assert figure(three, "total") == 3 * figure(three, "per-arm")
    assert figure(big, "per-arm") < figure(two, "per-arm")
    assert "<html" not in two.content.decode()


@pytest.mark.parametrize(
    ("arms", "coverage", "mde", "key"),
    [
        ({"a": 1}, "1", "0.2", "arms"),
        ({"b": 1, "c": 1}, "1", "0.2", "arms"),
        ({"a": 1, "b": 0}, "1", "0.2", "weight_b"),
        ({"a": 1001, "b": 1}, "1", "0.2", "weight_a"),
        ({"a": 1, "b": 1}, "0", "0.2", "coverage"),
        ({"a": 1, "b": 1}, "1.5", "0.2", "coverage"),
        ({"a": 1, "b": 1}, "1", "0", "minimum_detectable_effect"),
    ],
)
def test_the_service_refuses_bad_arms_and_ranges_keyed_by_field(page, arms, coverage, mde, key):
    from django.core.exceptions import ValidationError

    add_variant(page)
    add_variant(page)
    with pytest.raises(ValidationError) as caught:
        experiment_create_from_page(
            page=page, name="x", arms=arms, coverage=Decimal(coverage), minimum_detectable_effect=Decimal(mde)
        )
    assert key in caught.value.message_dict
    assert Experiment.objects.count() == 0 and Variant.objects.count() == 0


def test_planner_reads_the_last_fourteen_days_of_rollups(owner, page):
    from datetime import timedelta

    from django.utils import timezone

    from projects.analysis.planning import sample_size_per_variant
    from projects.models import DailyRollup, Traffic

    add_variant(page)
    today = timezone.localdate()
    for offset in range(20):  # 14 days count; the 6 before them do not
        for traffic, visitors in ((Traffic.HUMAN, 100), (Traffic.BOT, 1000)):
            DailyRollup.objects.create(
                page=page, day=today - timedelta(days=offset), channel="direct", traffic=traffic,
                visitors=visitors, signed_up_visitors=5 if offset < 14 else 50,
            )  # fmt: skip
    html = owner.get(create_url(page) + "&").content.decode()
    per_arm = sample_size_per_variant(0.05, 0.2)
    assert "Over the last 14 days the page had 1,400 visitors (100 a day)" in html
    assert "sign-up rate</a> of 5.0%" in html
    assert f'data-testid="plan-per-arm">{per_arm:,}<' in html
    assert f'data-testid="plan-total">{2 * per_arm:,}<' in html
    days = -(-2 * per_arm // 100)  # all visitors in (100% coverage), rounded up
    assert f'data-testid="plan-days">{days:,}<' in html
    # Half the visitors in the experiment: twice the days.
    url = reverse("experiment-plan", kwargs={"pk": page.project_id})
    query = {"page": page.pk, "arms": ["b"], "minimum_detectable_effect": "20", "coverage": "50"}
    half = owner.get(url, query, HTTP_HX_REQUEST="true")
    assert f'data-testid="plan-days">{-(-2 * per_arm // 50):,}<' in half.content.decode()


def test_planner_without_signups_uses_the_test_cards_bar_and_says_so(owner, page):
    from projects.analysis.planning import sample_size_per_variant
    from projects.models import TestCard

    add_variant(page)
    TestCard.objects.update_or_create(project=page.project, defaults={"overrides": {"signup_bar": 0.1}})
    html = owner.get(create_url(page)).content.decode()
    assert "No traffic yet" in html and "(your test card's bar)" in html
    assert f'data-testid="plan-per-arm">{sample_size_per_variant(0.1, 0.2):,}<' in html
    assert 'data-testid="plan-days">—<' in html
