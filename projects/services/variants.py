"""Writes of page variants: copies of a landing page that differ where the founder edits them.

A variant stores only what differs from its page (`PageVariant.overrides`, keys from
`VARIANT_FIELDS`), so an edit of the page still shows in every variant that left the field
alone. Its values are cleaned and checked by the page's own rules (`clean_page_fields`, the
model's field validation, the call to action's price rule): a variant can hold nothing the page
itself could not."""

import copy
from decimal import Decimal, InvalidOperation
from string import ascii_lowercase
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from mvpvalidator.exceptions import ConflictError
from projects.cache import invalidate_on_commit
from projects.models.experiments import MAX_VARIANTS
from projects.models.pages import VARIANT_FIELDS, CtaKind, LandingPage, PageStatus, PageVariant
from projects.services.content import clean_page_fields
from projects.services.pages import check_cta
from projects.services.transitions import require_open

# The page itself is the first arm ("a") of any experiment: variants take the next letters, and
# as many as an experiment can hold beside the page.
VARIANT_KEYS = tuple(ascii_lowercase[1:MAX_VARIANTS])
NAME_MAX_LENGTH = 120


def _lock_open_page(page: LandingPage, action: str) -> LandingPage:
    page = LandingPage.objects.select_for_update().select_related("project").get(pk=page.pk)
    require_open(page.project, action)
    if page.status == PageStatus.ARCHIVED:
        raise ConflictError("An archived page cannot be changed.", code="invalid_page_state")
    return page


def _price(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({"preorder_price": ["Enter a number."]}) from exc


def variant_overrides(*, page: LandingPage, values: dict[str, Any]) -> dict[str, Any]:
    """The overrides a variant showing `values` stores: each value cleaned as the page's is, kept
    only where it differs from the page. ValidationError (keyed by field) when the variant would
    be a page the page's own rules refuse. Writes nothing."""
    unknown = set(values) - set(VARIANT_FIELDS)
    if unknown:
        raise ValidationError({name: ["This field cannot be changed in a variant."] for name in sorted(unknown)})
    text = {name: value for name, value in values.items() if name != "preorder_price"}
    cleaned = clean_page_fields(text)
    if "preorder_price" in values:
        # A price is only the page's to offer on a pre-order page.
        cleaned["preorder_price"] = _price(values["preorder_price"]) if page.cta_kind == CtaKind.PREORDER else None
    shown = copy.copy(page)
    for name, value in cleaned.items():
        setattr(shown, name, value)
    shown.full_clean(
        exclude=[f.name for f in LandingPage._meta.fields if f.name not in VARIANT_FIELDS],
        validate_unique=False,
        validate_constraints=False,
    )
    check_cta(shown)
    overrides: dict[str, Any] = {}
    for name, value in cleaned.items():
        if value != getattr(page, name):
            # JSON keeps the price as its exact decimal text.
            overrides[name] = str(value) if isinstance(value, Decimal) else value
    return overrides


@transaction.atomic
def variant_create(*, page: LandingPage, name: str = "") -> PageVariant:
    """A variant identical to the page (no overrides) under the first free key."""
    page = _lock_open_page(page, "add a variant")
    taken = set(page.variants.values_list("key", flat=True))
    free = [key for key in VARIANT_KEYS if key not in taken]
    if not free:
        raise ConflictError(
            f"A page can have at most {len(VARIANT_KEYS)} variants: delete one first.", code="too_many_variants"
        )
    key = free[0]
    variant = PageVariant(page=page, key=key, name=name.strip()[:NAME_MAX_LENGTH] or f"Variant {key.upper()}")
    variant.full_clean(exclude=["overrides"], validate_constraints=False)  # built here, {} allowed
    variant.save()
    invalidate_on_commit(owner_id=page.project.owner_id, project_id=page.project_id)
    return variant


@transaction.atomic
def variant_update(*, variant: PageVariant, name: str, values: dict[str, Any]) -> PageVariant:
    """Rename the variant and set what it shows: `values` are the variant's full copy of the
    fields it may change (the form shows the page's as defaults); only the changed ones are
    stored, and a field set back to the page's value follows the page again."""
    page = _lock_open_page(variant.page, "edit a variant")
    variant = PageVariant.objects.select_for_update().get(pk=variant.pk, page=page)
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["Give the variant a name."]})
    variant.name = name
    variant.overrides = variant_overrides(page=page, values=values)
    variant.full_clean(exclude=["overrides"], validate_constraints=False)  # built here, {} allowed
    variant.save()
    invalidate_on_commit(owner_id=page.project.owner_id, project_id=page.project_id)
    return variant


@transaction.atomic
def variant_delete(*, variant: PageVariant) -> None:
    page = _lock_open_page(variant.page, "delete a variant")
    PageVariant.objects.filter(pk=variant.pk, page=page).delete()
    invalidate_on_commit(owner_id=page.project.owner_id, project_id=page.project_id)
