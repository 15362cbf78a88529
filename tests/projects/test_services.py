"""Service behaviour: state moves, and failed writes that leave the database as it was."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from mvpvalidator.exceptions import ConflictError
from projects import services
from projects.models import LandingPage, Project, Prototype, Signup
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def test_project_create_validates_before_writing(user):
    with pytest.raises(ValidationError) as info:
        services.project_create(
            owner=user, name="X", idea_description="short", price_point=Decimal("1"), business_model="saas"
        )
    assert "idea_description" in info.value.message_dict
    assert Project.objects.count() == 0


def test_database_refuses_invalid_rows_that_bypass_the_service(user):
    from django.db import IntegrityError, transaction

    for bad in (
        {"price_point": Decimal("10001")},
        {"status": "bogus"},
        {"business_model": "franchise"},
        {"idea_description": "tiny"},
        {"status": "completed"},  # completed without completed_at
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            ProjectFactory(owner=user, **bad)
    assert Project.objects.count() == 0


def test_flow_moves_status_draft_prototype_ready_live(project):
    assert project.status == "draft"
    services.prototype_generate(project=project)
    project.refresh_from_db()
    assert project.status == "prototype_ready"
    page = services.landing_page_create(project=project)
    services.landing_page_publish(page=page)
    project.refresh_from_db()
    assert project.status == "live"


def test_generate_for_completed_project_writes_nothing(project):
    Project.objects.filter(pk=project.pk).update(status="completed", completed_at=project.created_at)
    project.refresh_from_db()
    with pytest.raises(ConflictError):
        services.prototype_generate(project=project)
    assert Prototype.objects.count() == 0


def test_one_current_prototype_is_enforced_by_the_database(project):
    from django.db import IntegrityError, transaction

    services.prototype_generate(project=project)
    current = Prototype.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Prototype.objects.create(
            project=project, version=2, is_current=True, headline="h", value_proposition="v", call_to_action="c"
        )
    assert list(Prototype.objects.values_list("pk", flat=True)) == [current.pk]


def test_one_active_page_per_slug_is_enforced_by_the_database(live_page):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        LandingPage.objects.create(
            project=live_page.project, slug="CHASER", headline="h", value_proposition="v", cta_text="c"
        )
    # An archived page frees its slug.
    services.landing_page_archive(page=live_page)
    page = services.landing_page_create(project=live_page.project, slug="chaser")
    assert page.slug == "chaser"


def test_publish_refuses_when_another_page_took_the_slug_and_writes_nothing(project, live_page):
    other = ProjectFactory(owner=project.owner)
    services.prototype_generate(project=other)
    page = services.landing_page_create(project=other, slug="mine")
    LandingPage.objects.filter(pk=page.pk).update(slug="other-slug")
    with pytest.raises(ValidationError):
        services.landing_page_update(page=page, data={"slug": "chaser"})
    page.refresh_from_db()
    assert page.slug == "other-slug" and page.content_version == 1


def test_signup_on_unpublished_page_is_refused(project):
    services.prototype_generate(project=project)
    page = services.landing_page_create(project=project)
    with pytest.raises(ConflictError):
        services.signup_create(page=page, email="a@example.com")
    assert Signup.objects.count() == 0


def test_duplicate_signup_returns_the_first_and_writes_nothing(live_page):
    first = services.signup_create(page=live_page, email="a@example.com", name="First")
    second = services.signup_create(page=live_page, email=" A@EXAMPLE.com ", name="Second")
    assert first.created and not second.created
    assert second.signup.pk == first.signup.pk
    assert Signup.objects.get().name == "First"


def test_signup_invalid_email_writes_nothing(live_page):
    with pytest.raises(ValidationError):
        services.signup_create(page=live_page, email="nope")
    assert Signup.objects.count() == 0


def test_confirm_then_unsubscribe_keeps_both_times(live_page):
    signup = services.signup_create(page=live_page, email="a@example.com").signup
    signup = services.signup_confirm(signup=signup)
    confirmed_at = signup.confirmed_at
    signup = services.signup_unsubscribe(signup=signup)
    assert signup.confirmed_at == confirmed_at and signup.unsubscribed_at is not None
    assert not signup.is_confirmed
