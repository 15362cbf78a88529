"""Writes of prototypes: generating a new current version of a project's copy.

Generating one makes a draft project `prototype_ready`."""

from typing import Any

from django.db import transaction
from django.db.models import Max

from monitoring.operations import timed_service
from projects.cache import invalidate_on_commit
from projects.generation import GenerationResult, IdeaInput, PrototypeDraft, generate_prototype
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
