"""The founder's project pages over HTTP: the home, the list, create, edit, archive and the hub;
another founder's project is a 404, an anonymous visitor is sent to sign in."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from projects.models import (
    DailyRollup,
    LandingPage,
    PageStatus,
    Project,
    ProjectStatus,
    ReportSnapshot,
    Signup,
    Traffic,
)
from projects.services.pages import landing_page_create
from projects.services.projects import project_archive
from projects.services.prototypes import prototype_generate
from tests.factories import ProjectFactory, UserFactory, generate_and_publish

pytestmark = pytest.mark.django_db

VALID = {
    "name": "Invoice Chaser",
    "idea_description": "A tool that chases late invoices for freelancers, politely and on time.",
    "target_audience": "Freelance designers",
    "business_model": "saas",
    "price_point": "19.50",
    "currency": "EUR",
    "billing": "subscription",
    "delivery": "web_app",
    "contact_name": "Ada Founder",
    "contact_email": "ada@example.com",
    "contact_address": "1 Main Street, Dublin",
}


@pytest.fixture
def founder(user):
    client = Client()
    client.force_login(user)
    return client


# --- Home -----------------------------------------------------------------------------------


def test_home_introduces_the_product_to_a_visitor_with_sign_up_and_sign_in():
    response = Client().get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "How it works" in body
    assert 'href="/accounts/signup/"' in body and 'href="/accounts/login/"' in body


def test_home_sends_a_signed_in_founder_to_their_projects(founder):
    response = founder.get("/")
    assert response.status_code == 302 and response["Location"] == "/projects/"


# --- The list -------------------------------------------------------------------------------


def test_list_says_what_to_do_first_when_there_is_no_project(founder):
    body = founder.get("/projects/").content.decode()
    assert "Create your first project" in body
    assert body.count('href="/projects/new"') == 1  # one call to action, in the empty state


def test_list_shows_each_project_with_status_figures_and_verdict(founder, user):
    live = ProjectFactory(owner=user, name="Plant Pal")
    page = generate_and_publish(live, slug="plant-pal")
    today = timezone.localdate()
    for day, traffic, visitors, signups in (
        (today, Traffic.HUMAN, 30, 4),
        (today - timedelta(days=6), Traffic.HUMAN, 12, 1),
        (today - timedelta(days=7), Traffic.HUMAN, 500, 50),  # last week: not counted
        (today, Traffic.BOT, 900, 0),  # bots: not counted
        (today, Traffic.FOUNDER, 7, 1),  # the founder's own looks: not counted
    ):
        DailyRollup.objects.create(
            page=page, day=day, channel="direct", traffic=traffic, views=visitors, visitors=visitors, signups=signups
        )
    # Signups are counted from the signups themselves (what the list shows), people only, this week.
    now = timezone.now()
    for n, (age, traffic) in enumerate(
        [(timedelta(0), Traffic.HUMAN)] * 4
        + [(timedelta(days=6), Traffic.HUMAN)]
        + [(timedelta(days=8), Traffic.HUMAN)] * 3  # last week: not counted
        + [(timedelta(0), Traffic.FOUNDER), (timedelta(0), Traffic.BOT)]
    ):
        signup = Signup.objects.create(landing_page=page, project=live, email=f"s{n}@example.com", traffic=traffic)
        Signup.objects.filter(pk=signup.pk).update(created_at=now - age)
    ReportSnapshot.objects.create(project=live, verdict="inconclusive", data={})
    ProjectFactory(owner=user, name="Quiet Idea")
    ProjectFactory(name="Someone else's")

    body = founder.get("/projects/").content.decode()

    assert "Plant Pal" in body and "Quiet Idea" in body and "Someone else" not in body
    card = body[
        body.index("Plant Pal") - 400 : body.index("Quiet Idea")
        if body.index("Quiet Idea") > body.index("Plant Pal")
        else None
    ]
    assert "<dd>42</dd>" in card and "<dd>5</dd>" in card and "<dd>1</dd>" in card
    assert "Inconclusive" in card and ">Live<" in card
    assert "Not enough data yet" in body


def test_list_hides_archived_projects_behind_a_filter(founder, user):
    ProjectFactory(owner=user, name="Still Open")
    gone = ProjectFactory(owner=user, name="Shelved Idea")
    project_archive(project=gone)

    body = founder.get("/projects/").content.decode()
    assert "Still Open" in body and "Shelved Idea" not in body
    assert "Show archived projects (1)" in body

    archived = founder.get("/projects/?show=archived").content.decode()
    assert "Shelved Idea" in archived and "Still Open" not in archived


def test_the_verdict_that_completed_a_project_wins_over_a_kept_report(founder, user):
    project = ProjectFactory(
        owner=user, verdict="validated", status=ProjectStatus.COMPLETED, completed_at=timezone.now()
    )
    ReportSnapshot.objects.create(project=project, verdict="inconclusive", data={})
    body = founder.get("/projects/").content.decode()
    assert "Validated" in body and "Inconclusive" not in body


# --- Create ---------------------------------------------------------------------------------


def test_create_makes_the_project_and_opens_its_hub(founder, user):
    response = founder.post("/projects/new", VALID)
    project = Project.objects.get(owner=user)
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.pk}/"
    assert project.price_point == Decimal("19.50") and project.currency == "EUR"
    assert (project.billing, project.delivery) == ("subscription", "web_app")
    assert (project.contact_name, project.contact_email, project.contact_address) == (
        "Ada Founder",
        "ada@example.com",
        "1 Main Street, Dublin",
    )
    hub = founder.get(response["Location"]).content.decode()
    assert "is created" in hub and "Generate your copy" in hub


def test_create_form_ties_labels_help_and_errors_to_each_input(founder):
    body = founder.post("/projects/new", {**VALID, "name": ""}).content.decode()
    assert '<label for="id_name">' in body
    assert 'aria-invalid="true"' in body
    assert 'aria-describedby="id_name_helptext id_name_error"' in body
    assert 'id="id_name_error"' in body


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field is required."),
        ("name", "x" * 121, "at most 120 characters"),
        ("idea_description", "", "This field is required."),
        ("idea_description", "too short", "at least 10 characters"),
        ("idea_description", "x" * 2001, "at most 2000 characters"),
        ("target_audience", "x" * 201, "at most 200 characters"),
        ("business_model", "", "This field is required."),
        ("business_model", "barter", "Select a valid choice"),
        ("price_point", "", "This field is required."),
        ("price_point", "free", "Enter a number."),
        ("price_point", "-1", "greater than or equal to 0"),
        ("price_point", "10000.01", "less than or equal to 10000"),
        ("price_point", "9.999", "no more than 2 decimal places"),
        ("currency", "BTC", "Select a valid choice"),
        ("billing", "barter", "Select a valid choice"),
        ("delivery", "telepathy", "Select a valid choice"),
        ("contact_name", "x" * 151, "at most 150 characters"),
        ("contact_email", "not-an-email", "Enter a valid email address."),
        ("contact_address", "x" * 301, "at most 300 characters"),
    ],
)
def test_create_refuses_a_bad_field_beside_it_and_writes_nothing(founder, field, value, message):
    response = founder.post("/projects/new", {**VALID, field: value})
    assert response.status_code == 200
    body = response.content.decode()
    error_list = body[body.index(f'id="id_{field}_error"') :]
    assert message in error_list[: error_list.index("</ul>")]
    assert f'name="{field}"' in body
    assert not Project.objects.exists()


def test_create_refuses_markup_only_in_the_name_through_the_service(founder):
    """The service cleans the text (tags stripped): a name that is only markup is then blank,
    which the model refuses; the refusal shows beside the name."""
    response = founder.post("/projects/new", {**VALID, "name": "<b></b>"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="id_name_error"' in body
    assert not Project.objects.exists()


def test_create_keeps_what_was_typed_after_an_error(founder):
    body = founder.post("/projects/new", {**VALID, "price_point": "free"}).content.decode()
    assert 'value="Invoice Chaser"' in body and "Freelance designers" in body


# --- Edit -----------------------------------------------------------------------------------


def test_edit_shows_the_project_and_saves_changes(founder, user):
    project = ProjectFactory(owner=user, name="Old Name")
    form = founder.get(f"/projects/{project.pk}/edit").content.decode()
    assert 'value="Old Name"' in form

    response = founder.post(f"/projects/{project.pk}/edit", {**VALID, "name": "New Name", "contact_email": ""})
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.pk}/"
    project.refresh_from_db()
    assert project.name == "New Name" and project.contact_name == "Ada Founder" and project.contact_email == ""


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field is required."),
        ("idea_description", "short", "at least 10 characters"),
        ("price_point", "-5", "greater than or equal to 0"),
        ("currency", "XXX", "Select a valid choice"),
        ("contact_email", "nope", "Enter a valid email address."),
    ],
)
def test_edit_refuses_a_bad_field_beside_it_and_writes_nothing(founder, user, field, value, message):
    project = ProjectFactory(owner=user, name="Kept")
    before = Project.objects.filter(pk=project.pk).values().get()
    response = founder.post(f"/projects/{project.pk}/edit", {**VALID, field: value})
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body[body.index(f'id="id_{field}_error"') :]
    assert Project.objects.filter(pk=project.pk).values().get() == before


def test_edit_of_an_archived_project_is_refused_at_the_top_of_the_form(founder, user):
    project = ProjectFactory(owner=user, name="Shelved")
    project_archive(project=project)
    response = founder.post(f"/projects/{project.pk}/edit", {**VALID, "name": "Revived"})
    assert response.status_code == 200
    assert "Cannot edit the project: the project is archived." in response.content.decode()
    project.refresh_from_db()
    assert project.name == "Shelved"


# --- Archive --------------------------------------------------------------------------------


def test_archive_asks_first_then_archives_and_takes_the_pages_down(founder, user):
    project = ProjectFactory(owner=user, name="Plant Pal")
    generate_and_publish(project, slug="plant-pal")

    confirm = founder.get(f"/projects/{project.pk}/archive")
    assert confirm.status_code == 200 and "Archive the project" in confirm.content.decode()
    project.refresh_from_db()
    assert project.status != ProjectStatus.ARCHIVED  # asking writes nothing

    response = founder.post(f"/projects/{project.pk}/archive")
    assert response.status_code == 302 and response["Location"] == "/projects/"
    project.refresh_from_db()
    assert project.status == ProjectStatus.ARCHIVED
    assert not LandingPage.objects.filter(project=project).exclude(status=PageStatus.ARCHIVED).exists()
    assert "is archived" in founder.get("/projects/").content.decode()


# --- The hub --------------------------------------------------------------------------------


def test_hub_of_a_new_project_offers_to_generate_the_copy(founder, user):
    project = ProjectFactory(owner=user)
    body = founder.get(f"/projects/{project.pk}/").content.decode()
    assert "Generate your copy" in body
    assert f'action="{reverse("prototype-generate", args=[project.pk])}"' in body
    assert "No landing page yet" in body


def test_hub_with_copy_but_no_page_offers_to_create_the_page(founder, user):
    project = ProjectFactory(owner=user)
    prototype_generate(project=project)
    body = founder.get(f"/projects/{project.pk}/").content.decode()
    assert "Create the landing page" in body and "Generate your copy" not in body
    assert f'action="{reverse("page-create", args=[project.pk])}"' in body


def test_hub_with_a_draft_page_offers_edit_and_publish(founder, user):
    project = ProjectFactory(owner=user)
    prototype_generate(project=project)
    page = landing_page_create(project=project, slug="draft-one")
    body = founder.get(f"/projects/{project.pk}/").content.decode()
    assert "Edit the page" in body and ">Publish</button>" in body
    assert f'href="{reverse("page-edit", args=[project.pk, page.pk])}"' in body
    assert f'action="{reverse("page-publish", args=[project.pk, page.pk])}"' in body


def test_hub_with_a_live_page_shows_its_public_link(founder, user):
    project = ProjectFactory(owner=user)
    generate_and_publish(project, slug="plant-pal")
    body = founder.get(f"/projects/{project.pk}/").content.decode()
    assert "http://testserver/p/plant-pal/" in body
    assert "Read the report" in body and f"/projects/{project.pk}/report" in body


def test_hub_links_the_project_sub_navigation(founder, user):
    project = ProjectFactory(owner=user)
    body = founder.get(f"/projects/{project.pk}/").content.decode()
    nav = body[body.index('<nav class="subnav"') : body.index("</nav>", body.index('<nav class="subnav"'))]
    assert 'aria-current="page">Overview' in nav
    for href in ("prototype/", "#pages", "signups/", "report"):
        assert f'href="/projects/{project.pk}/{href}"' in nav


# --- Who may see what -----------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "edit", "archive"])
def test_another_founders_project_is_a_404(founder, suffix):
    theirs = ProjectFactory(owner=UserFactory(), name="Not yours")
    response = founder.get(f"/projects/{theirs.pk}/{suffix}")
    assert response.status_code == 404
    assert "Not yours" not in response.content.decode()


def test_another_founders_project_cannot_be_archived_or_edited(founder):
    theirs = ProjectFactory(owner=UserFactory(), name="Not yours")
    assert founder.post(f"/projects/{theirs.pk}/archive").status_code == 404
    assert founder.post(f"/projects/{theirs.pk}/edit", VALID).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == ProjectStatus.DRAFT and theirs.name == "Not yours"


@pytest.mark.parametrize(
    "path", ["/projects/", "/projects/new", "/projects/{pk}/", "/projects/{pk}/edit", "/projects/{pk}/archive"]
)
def test_anonymous_visitors_are_sent_to_sign_in(path):
    project = ProjectFactory()
    url = path.format(pk=project.pk)
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


def test_anonymous_post_writes_nothing():
    project = ProjectFactory()
    assert Client().post(f"/projects/{project.pk}/archive").status_code == 302
    assert Client().post("/projects/new", VALID).status_code == 302
    project.refresh_from_db()
    assert project.status == ProjectStatus.DRAFT and Project.objects.count() == 1


# --- The shell ------------------------------------------------------------------------------


def test_top_bar_for_a_founder_links_projects_and_account_and_signs_out_by_post(founder):
    body = founder.get("/projects/").content.decode()
    assert 'href="/projects/" aria-current="page">Projects' in body
    assert 'href="/accounts/"' in body
    assert 'action="/accounts/logout/"' in body and ">Sign out</button>" in body
    assert "Monitor" not in body and "/admin/" not in body
    assert 'class="skip" href="#main"' in body


def test_top_bar_links_monitor_and_admin_for_staff_only(staff_user):
    client = Client()
    client.force_login(staff_user)
    body = client.get("/projects/").content.decode()
    assert 'href="/performance-monitor/">Monitor' in body and 'href="/admin/">Admin' in body


def test_hub_of_a_completed_project_offers_archive_but_not_edit(founder, user):
    project = ProjectFactory(
        owner=user, status=ProjectStatus.COMPLETED, completed_at=timezone.now(), verdict="validated"
    )
    body = founder.get(f"/projects/{project.pk}/").content.decode()
    assert f'href="/projects/{project.pk}/archive"' in body
    assert f'href="/projects/{project.pk}/edit"' not in body
    assert "Verdict: Validated" in body and "Read the report" in body
