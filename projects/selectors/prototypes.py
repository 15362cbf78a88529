"""Reads of a project's prototypes."""

from django.db.models import QuerySet

from projects.models import Project, Prototype


def prototype_list(*, project: Project) -> QuerySet[Prototype]:
    return project.prototypes.order_by("-version")


def prototype_current(*, project: Project) -> Prototype | None:
    return project.prototypes.filter(is_current=True).first()
