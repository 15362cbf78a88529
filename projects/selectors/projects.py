"""Reads of projects. Every object a user reaches goes through an owner-scoped queryset, so
another user's id answers 404 (never 403: ids cannot be probed)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from mvpvalidator import cache as app_cache
from projects import cache as keys
from projects.models import Project, Prototype
from projects.selectors.pages import landing_pages_with_counts
from security.models import User


def project_qs_for_user(*, user: User) -> QuerySet[Project]:
    return Project.objects.for_owner(user)


def project_list(*, user: User, status: str | None = None) -> QuerySet[Project]:
    qs = project_qs_for_user(user=user)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def project_get(*, user: User, pk: int) -> Project:
    return get_object_or_404(project_qs_for_user(user=user), pk=pk)


@dataclass(frozen=True)
class ProjectPage:
    count: int
    items: list[Project]


def project_list_page(*, user: User, status: str | None, limit: int, offset: int) -> ProjectPage:
    """One page of the owner's list, cached under the owner's namespaces (any project write
    of theirs bumps it)."""

    def compute() -> ProjectPage:
        qs = project_list(user=user, status=status)
        return ProjectPage(count=qs.count(), items=list(qs[offset : offset + limit]))

    return app_cache.get_or_set(
        app_cache.PROJECT_LIST,
        ("list", user.pk, status or "", limit, offset),
        compute,
        namespaces=keys.list_namespaces(user_id=user.pk),
    )


def project_detail(*, user: User, pk: int) -> Project:
    """The project with its current prototype and its pages with signup counts: three
    queries however many prototypes, pages and signups it has."""
    qs = project_qs_for_user(user=user).prefetch_related(
        Prefetch("prototypes", queryset=Prototype.objects.filter(is_current=True), to_attr="current_prototypes"),
        Prefetch("landing_pages", queryset=landing_pages_with_counts(), to_attr="pages_with_counts"),
    )
    return get_object_or_404(qs, pk=pk)


def project_detail_data(*, user: User, pk: int, represent: Callable[[Project], dict[str, Any]]) -> dict[str, Any]:
    """The project's detail as `represent` shapes it (the API's serializer), cached under the
    owner's and the project's namespaces. The representation is cached rather than the model,
    so a hit costs neither queries nor serialisation. A missing or foreign project raises 404
    and is not cached."""
    return app_cache.get_or_set(
        app_cache.PROJECT,
        ("detail", pk, user.pk),
        lambda: represent(project_detail(user=user, pk=pk)),
        namespaces=keys.detail_namespaces(user_id=user.pk, project_id=pk),
    )
