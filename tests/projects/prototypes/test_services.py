"""Prototype services: generating for a closed project writes nothing; one current version."""

import pytest

from mvpvalidator.exceptions import ConflictError
from projects.models.projects import Project
from projects.models.prototypes import Prototype
from projects.services.prototypes import prototype_generate

pytestmark = pytest.mark.django_db


def test_generate_for_completed_project_writes_nothing(project):
    Project.objects.filter(pk=project.pk).update(status="completed", completed_at=project.created_at)
    project.refresh_from_db()
    with pytest.raises(ConflictError):
        prototype_generate(project=project)
    assert Prototype.objects.count() == 0


def test_one_current_prototype_is_enforced_by_the_database(project):
    from django.db import IntegrityError, transaction

    prototype_generate(project=project)
    current = Prototype.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Prototype.objects.create(
            project=project, version=2, is_current=True, headline="h", value_proposition="v", call_to_action="c"
        )
    assert list(Prototype.objects.values_list("pk", flat=True)) == [current.pk]
