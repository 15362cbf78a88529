"""Writes of landing pages: create from the current prototype, edit, publish, unpublish, archive.

Publishing a page makes its project `live` and writes the project's test card."""

import copy
import secrets
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from monitoring.operations import timed_service
from mvpvalidator.exceptions import ConflictError
from projects.cache import invalidate_on_commit
from projects.models.experiments import ExperimentStatus
from projects.models.pages import CtaKind, LandingPage, PageStatus
from projects.models.projects import Project, ProjectStatus
from projects.selectors.prototypes import prototype_current
from projects.services.content import (
    clean_page_fields,
)
from projects.services.experiments import end_experiments, experiment_move
from projects.services.locks import lock_project
from projects.services.reports import test_card_write
from projects.services.transitions import require_open
from security.sanitize import sanitize_text

PAGE_CONTENT_FIELDS = (
    "headline",
    "subheadline",
    "value_proposition",
    "features",
    "pricing_tiers",
    "cta_text",
    "cta_kind",
    "preorder_price",
    "qualifying_question",
    "double_opt_in",
    "slug",
)
# The consent wording and the look: editable as the copy is, through the editor (the admin's
# form and the API's serializer list PAGE_CONTENT_FIELDS).
PAGE_LOOK_FIELDS = ("consent_text", "accent_color", "font_pairing")


def _unique_slug(base: str) -> str:
    stem = slugify(base)[:60].strip("-") or "page"
    for _ in range(10):
        candidate = f"{stem}-{secrets.token_hex(3)}"
        if not LandingPage.objects.filter(slug__iexact=candidate).exists():  # archived ones too
            return candidate
    raise ConflictError("Could not find a free slug; choose one.", code="slug_unavailable")


def _check_slug_free(slug: str, *, owner_id: int, page: LandingPage | None = None) -> None:
    """A slug is taken by another page that is not archived (the unique constraint's rule), and
    an archived page keeps it reserved to its owner: the ads, emails and QR codes that still
    point at it must not land on another founder's page. The owner may use it again."""
    taken = LandingPage.objects.filter(slug__iexact=slug).filter(
        ~Q(status=PageStatus.ARCHIVED) | ~Q(project__owner_id=owner_id)
    )
    if page is not None:
        taken = taken.exclude(pk=page.pk)
    if taken.exists():
        # The same words either way: whose archived page holds it is not the founder's to learn.
        raise ValidationError({"slug": ["This address is already taken."]})


def _save_page(page: LandingPage) -> None:
    page.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            page.save()
    except IntegrityError as exc:  # a concurrent writer took the slug between check and save
        raise ValidationError({"slug": ["This address is already taken."]}) from exc


def check_cta(page: LandingPage) -> None:
    """A pre-order page (or a variant of one) names its price."""
    if page.cta_kind == CtaKind.PREORDER and page.preorder_price is None:
        raise ValidationError({"preorder_price": ["A pre-order page needs a price."]})


@transaction.atomic
def landing_page_create(
    *,
    project: Project,
    slug: str = "",
    cta_kind: str = CtaKind.EMAIL,
    preorder_price: Decimal | None = None,
    qualifying_question: str = "",
    double_opt_in: bool = True,
) -> LandingPage:
    """A draft page filled with the project's current prototype."""
    project = lock_project(project)
    require_open(project, "create a landing page")
    prototype = prototype_current(project=project)
    if prototype is None:
        raise ConflictError("Generate a prototype first: a page shows the current prototype.", code="no_prototype")
    if slug:
        slug = slugify(slug)[:80]
        if not slug:
            raise ValidationError({"slug": ["Enter a valid address (letters, numbers, hyphens)."]})
    # The prototype's copy is cleaned as any page content is: a prototype is stored cleaned,
    # but a page must not depend on every path that ever wrote one (`|safe` renders this HTML).
    content = clean_page_fields(
        {
            "headline": prototype.headline,
            "subheadline": prototype.subheadline,
            "value_proposition": prototype.value_proposition,
            "features": prototype.features,
            "pricing_tiers": prototype.pricing_tiers,
            "cta_text": prototype.call_to_action,
        }
    )
    page = LandingPage(
        project=project,
        prototype=prototype,
        slug=slug or _unique_slug(project.name),
        **content,
        cta_kind=cta_kind,
        # A fake door defaults to the project's own price point.
        preorder_price=(preorder_price if preorder_price is not None else project.price_point)
        if cta_kind == CtaKind.PREORDER
        else None,
        qualifying_question=sanitize_text(qualifying_question, max_length=200),
        double_opt_in=double_opt_in,
    )
    _check_slug_free(page.slug, owner_id=project.owner_id)
    _save_page(page)
    invalidate_on_commit(owner_id=project.owner_id, project_id=project.pk, slugs=(page.slug,))
    return page


def landing_page_clean_update(*, page: LandingPage, data: dict[str, Any]) -> dict[str, Any]:
    """The fields an update of the page would store, each cleaned as every write path cleans it
    (the API and the admin alike), or ValidationError / ConflictError; writes nothing."""
    require_open(page.project, "edit the page")
    if page.status == PageStatus.ARCHIVED:
        raise ConflictError("An archived page cannot be edited.", code="invalid_page_state")
    unknown = set(data) - {*PAGE_CONTENT_FIELDS, *PAGE_LOOK_FIELDS}
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in sorted(unknown)})
    cleaned = clean_page_fields(data)
    if "slug" in cleaned:
        if not cleaned["slug"]:
            raise ValidationError({"slug": ["Enter a valid address (letters, numbers, hyphens)."]})
        _check_slug_free(cleaned["slug"], owner_id=page.project.owner_id, page=page)
    return cleaned


def landing_page_preview(*, page: LandingPage, data: dict[str, Any]) -> LandingPage:
    """An unsaved copy of the page with `data` applied, checked by every rule an update would
    apply (the field cleaning, the model's fields, the call to action's price), for the editor's
    preview; ValidationError / ConflictError as `landing_page_update` would raise. Writes nothing."""
    cleaned = landing_page_clean_update(page=page, data=data)
    shown = copy.copy(page)
    for name, value in cleaned.items():
        setattr(shown, name, value)
    if shown.cta_kind == CtaKind.EMAIL:
        shown.preorder_price = None
    check_cta(shown)
    shown.full_clean(validate_unique=False, validate_constraints=False)
    return shown


@transaction.atomic
def landing_page_update(*, page: LandingPage, data: dict[str, Any]) -> LandingPage:
    page = LandingPage.objects.select_for_update().select_related("project").get(pk=page.pk)
    old_slug = page.slug
    cleaned = landing_page_clean_update(page=page, data=data)
    for name, value in cleaned.items():
        setattr(page, name, value)
    if page.cta_kind == CtaKind.EMAIL:
        page.preorder_price = None
    check_cta(page)
    page.content_version += 1
    _save_page(page)
    invalidate_on_commit(owner_id=page.project.owner_id, project_id=page.project_id, slugs=(old_slug, page.slug))
    return page


@timed_service
@transaction.atomic
def landing_page_publish(*, page: LandingPage) -> LandingPage:
    page = LandingPage.objects.select_for_update().get(pk=page.pk)
    project = lock_project(page.project)
    require_open(project, "publish the page")
    if page.status == PageStatus.ARCHIVED:
        raise ConflictError("An archived page cannot be published again.", code="invalid_page_state")
    if page.status == PageStatus.PUBLISHED:
        return page
    _check_slug_free(page.slug, owner_id=project.owner_id, page=page)
    page.status = PageStatus.PUBLISHED
    page.published_at = timezone.now()
    _save_page(page)
    if project.status != ProjectStatus.LIVE:
        project.status = ProjectStatus.LIVE
        project.save(update_fields=["status", "updated_at"])
    test_card_write(project=project)
    invalidate_on_commit(owner_id=project.owner_id, project_id=project.pk, listing=True, slugs=(page.slug,))
    return page


@transaction.atomic
def landing_page_unpublish(*, page: LandingPage) -> LandingPage:
    """Take a published page off the air: back to a draft, its public address answers 404 (the
    slug stays the page's), and it can be edited and published again. A running experiment of
    the page is paused, not ended: publishing again lets the founder resume it."""
    page = LandingPage.objects.select_for_update().select_related("project").get(pk=page.pk)
    if page.status == PageStatus.ARCHIVED:
        raise ConflictError("An archived page is not published.", code="invalid_page_state")
    if page.status == PageStatus.PUBLISHED:
        page.status = PageStatus.DRAFT
        page.save(update_fields=["status", "updated_at"])
        for experiment in page.experiments.filter(status=ExperimentStatus.RUNNING):
            experiment_move(experiment=experiment, to=ExperimentStatus.PAUSED)
        invalidate_on_commit(
            owner_id=page.project.owner_id, project_id=page.project_id, listing=True, slugs=(page.slug,)
        )
    return page


@transaction.atomic
def landing_page_archive(*, page: LandingPage) -> LandingPage:
    page = LandingPage.objects.select_for_update().select_related("project").get(pk=page.pk)
    if page.status != PageStatus.ARCHIVED:
        page.status = PageStatus.ARCHIVED
        page.save(update_fields=["status", "updated_at"])
        end_experiments(experiments=page.experiments.all())
        invalidate_on_commit(owner_id=page.project.owner_id, project_id=page.project_id, slugs=(page.slug,))
    return page
