"""Project services: validation before writing, the database's own refusals, and the status
moves of the flow."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from projects.models.projects import Project
from projects.services.pages import landing_page_create, landing_page_publish
from projects.services.projects import project_create
from projects.services.prototypes import prototype_generate
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def test_project_create_validates_before_writing(user):
    with pytest.raises(ValidationError) as info:
        project_create(owner=user, name="X", idea_description="short", price_point=Decimal("1"), business_model="saas")
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
    prototype_generate(project=project)
    project.refresh_from_db()
    assert project.status == "prototype_ready"
    page = landing_page_create(project=project)
    landing_page_publish(page=page)
    project.refresh_from_db()
    assert project.status == "live"
