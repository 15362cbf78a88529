"""Writes of projects: create, edit, archive (which takes its pages off the web) and delete."""

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from projects.cache import invalidate_on_commit
from projects.models.experiments import Experiment
from projects.models.pages import LandingPage, PageStatus
from projects.models.projects import PROJECT_TRANSITIONS, Billing, Delivery, Project, ProjectStatus
from projects.services.experiments import end_experiments
from projects.services.locks import lock_project
from projects.services.page_images import pages_forget_on_commit
from projects.services.transitions import require_open, transition_check
from security.models import User
from security.sanitize import sanitize_text

PROJECT_FIELDS = (
    "name",
    "idea_description",
    "target_audience",
    "price_point",
    "currency",
    "business_model",
    "delivery",
    "billing",
    # Who the public privacy notice names as the controller (blank: the owner).
    "contact_name",
    "contact_email",
    "contact_address",
)


def _clean_project_fields(data: dict[str, Any]) -> dict[str, Any]:
    cleaned = dict(data)
    for name in ("name", "idea_description", "target_audience", "contact_name", "contact_address"):
        if name in cleaned:
            cleaned[name] = sanitize_text(cleaned[name], field=name)
    return cleaned


@transaction.atomic
def project_create(
    *,
    owner: User,
    name: str,
    idea_description: str,
    business_model: str,
    price_point: Decimal,
    target_audience: str = "",
    currency: str = "USD",
    delivery: str = Delivery.UNSPECIFIED,
    billing: str = Billing.UNSPECIFIED,
    contact_name: str = "",
    contact_email: str = "",
    contact_address: str = "",
) -> Project:
    fields = _clean_project_fields(
        {
            "name": name,
            "idea_description": idea_description,
            "target_audience": target_audience,
            "price_point": price_point,
            "currency": currency,
            "business_model": business_model,
            "delivery": delivery,
            "billing": billing,
            "contact_name": contact_name,
            "contact_email": contact_email,
            "contact_address": contact_address,
        }
    )
    project = Project(owner=owner, **fields)
    project.full_clean(validate_constraints=False)  # see project_update
    project.save()
    invalidate_on_commit(owner_id=owner.pk, project_id=project.pk, listing=True)
    return project


@transaction.atomic
def project_update(*, project: Project, data: dict[str, Any]) -> Project:
    project = lock_project(project)
    require_open(project, "edit the project")
    unknown = set(data) - set(PROJECT_FIELDS)
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in sorted(unknown)})
    for name, value in _clean_project_fields(data).items():
        setattr(project, name, value)
    # The fields' own validators say what the table's check constraints say (choices, price
    # range, idea length), and the status is not editable here. Django validates each check
    # constraint with a query of its own (in a savepoint here: three round trips each), which
    # was most of an edit's time; the table still refuses what slips past. The owner is the
    # locked row's and never changes here: checking that the account exists is one query more.
    project.full_clean(exclude=["owner"], validate_constraints=False)
    project.save()
    # The public pages show the project's name, and the privacy notice its contact: every page
    # of the project is rendered again (archived ones are not public; their slugs cost nothing).
    slugs = tuple(project.landing_pages.values_list("slug", flat=True))
    invalidate_on_commit(owner_id=project.owner_id, project_id=project.pk, listing=True, slugs=slugs)
    return project


@transaction.atomic
def project_archive(*, project: Project) -> Project:
    """Archive the project and take its pages off the public web."""
    project = lock_project(project)
    if project.status == ProjectStatus.ARCHIVED:
        return project
    transition_check(project, transitions=PROJECT_TRANSITIONS, to=ProjectStatus.ARCHIVED, action="archive the project")
    project.status = ProjectStatus.ARCHIVED
    project.save(update_fields=["status", "updated_at"])
    pages = project.landing_pages.exclude(status=PageStatus.ARCHIVED)
    slugs = tuple(pages.values_list("slug", flat=True))
    end_experiments(experiments=Experiment.objects.filter(page__project=project))
    pages.update(status=PageStatus.ARCHIVED, updated_at=timezone.now())
    invalidate_on_commit(owner_id=project.owner_id, project_id=project.pk, listing=True, slugs=slugs)
    return project


@transaction.atomic
def project_delete(*, project: Project) -> None:
    """Delete the project with its pages and signups (by cascade); once committed, its public
    pages leave the cache and its pages' pictures leave the storage."""
    pages_forget_on_commit(pages=project.landing_pages.all())
    invalidate_on_commit(owner_id=project.owner_id, project_id=project.pk, listing=True)
    project.delete()


def owner_data_forget(*, user: User) -> None:
    """What the database cascade cannot do when a founder's account is deleted: their public
    pages leave the cache and their pages' pictures leave the storage, once the deletion commits.
    The account deletion calls it inside its transaction, before deleting the user."""
    pages_forget_on_commit(pages=LandingPage.objects.filter(project__owner=user))
