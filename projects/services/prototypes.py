"""Writes of prototypes: generating a new current version of a project's copy, choosing which
version is current, and editing a version.

Generating one makes a draft project `prototype_ready`."""

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from monitoring.operations import timed_service
from projects.cache import invalidate_on_commit
from projects.generation import GenerationResult, IdeaInput, PrototypeDraft, generate_prototype, validate_draft
from projects.generation.drafts import TEXT_LIMITS
from projects.models.projects import Project, ProjectStatus
from projects.models.prototypes import Prototype
from projects.services.content import clean_list, clean_tiers
from projects.services.locks import lock_project
from projects.services.transitions import require_open
from security.sanitize import sanitize_html, sanitize_text


def _idea(project: Project) -> IdeaInput:
    # Each regeneration is another angle on the same facts: the seed moves with the number of
    # versions made so far, and is the same for the same project and version (so tests pin it).
    seed = project.pk + project.prototypes.count()
    return IdeaInput(
        name=project.name,
        idea_description=project.idea_description,
        target_audience=project.target_audience,
        price_point=project.price_point,
        currency=project.currency,
        business_model=project.business_model,
        delivery=project.delivery,
        billing=project.billing,
        seed=seed,
    )


def _prototype_fields(draft: PrototypeDraft) -> dict[str, Any]:
    return {
        "headline": sanitize_text(draft.headline, max_length=120),
        "subheadline": sanitize_text(draft.subheadline, max_length=240),
        "value_proposition": sanitize_html(draft.value_proposition, max_length=2000),
        "features": clean_list(list(draft.features), max_items=8, max_length=140),
        "pricing_tiers": clean_tiers(list(draft.pricing_tiers)),
        "call_to_action": sanitize_text(draft.call_to_action, max_length=60),
    }


@timed_service
def prototype_generate(*, project: Project) -> Prototype:
    """Generate a new current prototype. The provider call (which may take seconds) runs
    outside the transaction; the write re-checks the project's state under a lock."""
    require_open(project, "generate a prototype")
    result: GenerationResult = generate_prototype(_idea(project))
    with transaction.atomic():
        project = lock_project(project)
        require_open(project, "generate a prototype")
        latest = project.prototypes.aggregate(latest=Max("version"))["latest"] or 0
        project.prototypes.filter(is_current=True).update(is_current=False)
        prototype = Prototype(
            project=project,
            version=latest + 1,
            is_current=True,
            generator=result.generator[:80],
            fallback_reason=result.fallback_reason[:200],
            generation_ms=max(0, int(result.elapsed_ms)),
            **_prototype_fields(result.draft),
        )
        prototype.full_clean()
        prototype.save()
        if project.status == ProjectStatus.DRAFT:
            project.status = ProjectStatus.PROTOTYPE_READY
            project.save(update_fields=["status", "updated_at"])
        else:
            project.save(update_fields=["updated_at"])
        invalidate_on_commit(owner_id=project.owner_id, project_id=project.pk, listing=True)
    return prototype


# --- Choosing and editing a version ---------------------------------------------------------

# What the founder reads beside the field a draft rule is about (validate_draft names the
# offending field first: "features: ...", "pricing_tiers[1].price: ...").
_DRAFT_FIELD = re.compile(
    r"^(?P<field>[a-z_]+)(?:\[(?P<index>\d+)\](?:\.(?P<part>[a-z_]+))?(?:\[\d+\])?)?: (?P<rule>.*)$"
)


_COUNT = re.compile(r"^expected (\d+)\.\.(\d+) (items|characters), got (\d+)$")


def _in_words(rule: str) -> str:
    """A draft rule as a founder reads it ("expected 3..8 items, got 2" → "Give 3 to 8 (there are 2).")."""
    count = _COUNT.match(rule)
    if count is None:
        return rule[:1].upper() + rule[1:] + ("" if rule.endswith(".") else ".")
    low, high, unit, got = count.groups()
    if unit == "items":
        return f"Give {low} to {high} (there are {got})."
    if got == "0":
        return "This cannot be empty (markup is removed)."
    return (
        f"Use at most {high} characters (there are {got})."
        if int(got) > int(high)
        else f"Use at least {low} characters."
    )


def _draft_error(exc: ValueError) -> ValidationError:
    """The draft validator's refusal as a ValidationError keyed by the prototype's field."""
    match = _DRAFT_FIELD.match(str(exc))
    if match is None or match["field"] == "draft":
        return ValidationError(str(exc))
    rule = _in_words(match["rule"])
    if match["field"] == "pricing_tiers" and match["index"] is not None:
        where = f"Pricing tier {int(match['index']) + 1}"
        if match["part"]:
            where += f", {match['part']}"
        rule = f"{where}: {rule[:1].lower()}{rule[1:]}"
    elif match["field"] == "features" and match["index"] is not None:
        rule = f"Feature {int(match['index']) + 1}: {rule[:1].lower()}{rule[1:]}"
    return ValidationError({match["field"]: [rule]})


def _validated(data: dict[str, Any]) -> PrototypeDraft:
    try:
        return validate_draft(data)
    except ValueError as exc:
        raise _draft_error(exc) from exc


@timed_service
def prototype_select(*, project: Project, version: int) -> Prototype:
    """Make `version` the project's current prototype (the one new pages start from). Pages
    made earlier keep their own copy: a page is a copy of its prototype, not a view of it."""
    with transaction.atomic():
        project = lock_project(project)
        require_open(project, "choose a prototype")
        prototype = project.prototypes.get(version=version)  # DoesNotExist: the caller's 404
        if not prototype.is_current:
            # Clear the old current first: the one-current-per-project constraint is checked per row.
            project.prototypes.filter(is_current=True).update(is_current=False)
            project.prototypes.filter(pk=prototype.pk).update(is_current=True)
            prototype.is_current = True
            project.save(update_fields=["updated_at"])
            invalidate_on_commit(owner_id=project.owner_id, project_id=project.pk, listing=True)
    return prototype


@timed_service
def prototype_update(*, prototype: Prototype, data: dict[str, Any]) -> Prototype:
    """Replace the copy of one version with the founder's edit. The same rules as a generator's
    draft apply (`validate_draft`), and the same cleaning as every copy stored; a refusal is a
    ValidationError keyed by field, and nothing is written."""
    draft = _validated(
        {key: data.get(key, getattr(prototype, key)) for key in (*TEXT_LIMITS, "features", "pricing_tiers")}
    )
    fields = _prototype_fields(draft)
    # Cleaning may empty a field the rules require (a headline that was only markup): check again.
    _validated(fields)
    with transaction.atomic():
        project = lock_project(prototype.project)
        require_open(project, "edit a prototype")
        prototype = Prototype.objects.select_for_update().get(pk=prototype.pk)
        for name, value in fields.items():
            setattr(prototype, name, value)
        prototype.edited_at = timezone.now()
        prototype.full_clean()
        prototype.save(update_fields=[*fields, "edited_at"])
        project.save(update_fields=["updated_at"])
        invalidate_on_commit(owner_id=project.owner_id, project_id=project.pk, listing=True)
    return prototype
