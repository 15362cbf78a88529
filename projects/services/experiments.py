"""Writes of experiments: create, edit in draft, delete in draft, and the moves of
`EXPERIMENT_TRANSITIONS` (start, pause, resume, complete)."""

import logging
import secrets
from collections.abc import Collection
from decimal import Decimal
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import slugify

from monitoring.operations import timed_service
from mvpvalidator import cache as app_cache
from mvpvalidator.exceptions import ConflictError
from projects.cache import experiment_data_ns, experiment_ns, page_ns, project_ns, results_inputs_changed
from projects.models.experiments import (
    EXPERIMENT_TRANSITIONS,
    MAX_VARIANTS,
    MIN_VARIANTS,
    VARIANT_KEY_MAX_LENGTH,
    Experiment,
    ExperimentStatus,
    Variant,
)
from projects.models.pages import VARIANT_FIELDS, LandingPage, PageStatus, PageVariant
from projects.models.projects import PRICE_MAX
from projects.selectors.experiments import experiment_results_inputs
from projects.services.content import clean_page_fields
from projects.services.transitions import require_open, transition_check
from security.sanitize import sanitize_text

logger = logging.getLogger(__name__)

VARIANT_CONTENT_FIELDS = ("headline", "subheadline", "cta_text", "preorder_price")
# What decides a visitor's variant: frozen once the experiment has started, or assignment would
# move visitors between variants mid-test (and the results would mix them).
ASSIGNMENT_FIELDS = ("variants", "coverage")
# The largest weight of an arm (`Variant.weight`).
WEIGHT_MAX = 1000


def _overrides(value: Any) -> dict[str, Any]:
    """A page variant's overrides as an arm keeps them: only the fields a variant may change, cleaned
    again whoever passes them (the public page renders the value proposition as HTML)."""
    if not isinstance(value, dict):
        return {}
    kept = {name: value[name] for name in VARIANT_FIELDS if name in value}
    cleaned = clean_page_fields({name: v for name, v in kept.items() if name != "preorder_price"})
    if "preorder_price" in kept:
        try:
            price = None if kept["preorder_price"] is None else Decimal(str(kept["preorder_price"]))
        except ArithmeticError as exc:
            raise ValidationError({"preorder_price": ["Enter a number."]}) from exc
        if price is not None and not (price.is_finite() and Decimal(0) <= price <= PRICE_MAX):
            raise ValidationError({"preorder_price": ["Enter a price between 0 and the page's maximum."]})
        cleaned["preorder_price"] = None if price is None else str(price)
    return cleaned


def _clean_variants(variants: Any) -> list[Variant]:
    if not isinstance(variants, list) or not MIN_VARIANTS <= len(variants) <= MAX_VARIANTS:
        raise ValidationError({"variants": [f"Give between {MIN_VARIANTS} and {MAX_VARIANTS} variants."]})
    cleaned: list[Variant] = []
    errors: dict[str, list[str]] = {}
    for position, raw in enumerate(variants):
        if not isinstance(raw, dict):
            raise ValidationError({"variants": [f"Variant {position + 1} must be an object."]})
        variant = Variant(
            key=slugify(str(raw.get("key", "")))[:VARIANT_KEY_MAX_LENGTH],
            name=sanitize_text(str(raw.get("name", "")), max_length=120),
            is_control=bool(raw.get("is_control", False)),
            weight=raw.get("weight", 1),
            headline=sanitize_text(str(raw.get("headline", "") or ""), max_length=120),
            subheadline=sanitize_text(str(raw.get("subheadline", "") or ""), max_length=240),
            cta_text=sanitize_text(str(raw.get("cta_text", "") or ""), max_length=60),
            preorder_price=raw.get("preorder_price"),
            overrides=_overrides(raw.get("overrides")),
            position=position,
        )
        try:
            variant.full_clean(exclude=["experiment"], validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors[f"variants[{position}].{name}"] = messages
        cleaned.append(variant)
    if errors:
        raise ValidationError(errors)
    keys = [v.key for v in cleaned]
    if len(set(keys)) != len(keys):
        raise ValidationError({"variants": ["Each variant needs its own key."]})
    controls = [v for v in cleaned if v.is_control]
    if not controls:
        cleaned[0].is_control = True  # the first variant is the control unless one is named
    elif len(controls) > 1:
        raise ValidationError({"variants": ["Exactly one variant is the control."]})
    return cleaned


def _clean_experiment_fields(data: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    if "name" in data:
        cleaned["name"] = sanitize_text(str(data["name"] or ""), max_length=120)
        if not cleaned["name"]:
            raise ValidationError({"name": ["This field is required."]})
    if "hypothesis" in data:
        cleaned["hypothesis"] = sanitize_text(str(data["hypothesis"] or ""), max_length=500)
    for name in ("coverage", "minimum_detectable_effect"):
        if name in data:
            cleaned[name] = data[name]
    return cleaned


def end_experiments(*, experiments: QuerySet[Experiment]) -> None:
    """Complete the running and paused experiments of pages going offline: nobody can see them
    any more, and an archived page cannot be published again to resume them."""
    now = timezone.now()
    ending = experiments.filter(status__in=(ExperimentStatus.RUNNING, ExperimentStatus.PAUSED))
    ids = list(ending.values_list("pk", flat=True))
    ending.update(status=ExperimentStatus.COMPLETED, completed_at=now, updated_at=now)
    if ids:
        transaction.on_commit(lambda: app_cache.bump(*(experiment_ns(i) for i in ids)))


def experiment_results_rolled_up(*, experiment_ids: Collection[int]) -> list[int]:
    """After a rollup of events of these experiments has committed (the worker): invalidate the
    results of those whose inputs it changed (`experiment_results_inputs`), and only those.
    Returns the experiments whose results were invalidated."""
    if not experiment_ids:
        return []
    try:
        inputs = experiment_results_inputs(experiment_ids=experiment_ids)
    except DatabaseError:
        # Without the inputs nobody can tell what changed: every one is invalidated, as before.
        logger.warning("experiment results: inputs unreadable after a rollup; invalidating all", exc_info=True)
        app_cache.bump(*(experiment_data_ns(i) for i in experiment_ids))
        return sorted(experiment_ids)
    return results_inputs_changed(inputs)


def _experiment_changed(experiment: Experiment) -> None:
    """After the commit: the experiment's results, and the public page it runs on (its cached
    copy carries the running experiment)."""
    slug = experiment.page.slug
    names = [experiment_ns(experiment.pk), page_ns(slug), project_ns(experiment.page.project_id)]
    transaction.on_commit(lambda: app_cache.bump(*names))


def _experiment_save(experiment: Experiment, *, variants: list[Variant] | None, replace: bool = False) -> None:
    """Save a validated experiment with its cleaned variants (None: keep the ones it has;
    `replace`: delete those first), then invalidate its cached copies after the commit."""
    experiment.save()
    if variants is not None:
        if replace:
            experiment.variants.all().delete()
        for variant in variants:
            variant.experiment = experiment
        Variant.objects.bulk_create(variants)
    _experiment_changed(experiment)


@transaction.atomic
def experiment_create(*, page: LandingPage, name: str, variants: Any, **fields: Any) -> Experiment:
    """A draft experiment on one of the project's pages, with its variants."""
    page = LandingPage.objects.select_for_update().select_related("project").get(pk=page.pk)
    require_open(page.project, "create an experiment")
    if page.status == PageStatus.ARCHIVED:
        raise ConflictError("An archived page cannot run experiments.", code="invalid_page_state")
    unknown = set(fields) - {"hypothesis", "coverage", "minimum_detectable_effect"}
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    experiment = Experiment(page=page, seed=secrets.token_hex(8), **_clean_experiment_fields({"name": name, **fields}))
    experiment.full_clean(exclude=["page"], validate_constraints=False)
    _experiment_save(experiment, variants=_clean_variants(variants))
    return experiment


@transaction.atomic
def experiment_update(*, experiment: Experiment, data: dict[str, Any]) -> Experiment:
    """Name and hypothesis change at any time; variants, weights and coverage only in a draft."""
    experiment = Experiment.objects.select_for_update().select_related("page").get(pk=experiment.pk)
    unknown = set(data) - {"name", "hypothesis", "coverage", "minimum_detectable_effect", "variants"}
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in sorted(unknown)})
    if experiment.status != ExperimentStatus.DRAFT and set(data) & set(ASSIGNMENT_FIELDS):
        raise ConflictError(
            "Variants, weights and coverage are frozen once an experiment has started, so each visitor keeps "
            "seeing the same variant. Complete this experiment and start a new one to change them.",
            code="experiment_started",
        )
    for name, value in _clean_experiment_fields(data).items():
        setattr(experiment, name, value)
    experiment.full_clean(exclude=["page"], validate_constraints=False)
    variants = _clean_variants(data["variants"]) if "variants" in data else None
    _experiment_save(experiment, variants=variants, replace=True)
    return experiment


@transaction.atomic
def experiment_delete(*, experiment: Experiment) -> None:
    experiment = Experiment.objects.select_for_update().select_related("page").get(pk=experiment.pk)
    if experiment.status != ExperimentStatus.DRAFT:
        raise ConflictError(
            "Only a draft experiment can be deleted; complete it instead.", code="invalid_experiment_state"
        )
    _experiment_changed(experiment)
    experiment.delete()


@timed_service
@transaction.atomic
def experiment_move(*, experiment: Experiment, to: str) -> Experiment:
    """Start, pause, resume or complete: only the moves of EXPERIMENT_TRANSITIONS."""
    experiment = Experiment.objects.select_for_update().select_related("page").get(pk=experiment.pk)
    transition_check(experiment, transitions=EXPERIMENT_TRANSITIONS, to=to)
    now = timezone.now()
    if to == ExperimentStatus.RUNNING:
        if experiment.page.status != PageStatus.PUBLISHED:
            raise ConflictError("Publish the page before starting an experiment on it.", code="page_not_published")
        if Experiment.objects.filter(page_id=experiment.page_id, status=ExperimentStatus.RUNNING).exists():
            raise ConflictError("Another experiment is running on this page.", code="experiment_already_running")
        experiment.started_at = experiment.started_at or now
        experiment.paused_at = None
    elif to == ExperimentStatus.PAUSED:
        experiment.paused_at = now
    else:
        experiment.completed_at = now
    experiment.status = to
    try:
        with transaction.atomic():
            experiment.save()
    except IntegrityError as exc:  # a concurrent start on the same page
        raise ConflictError("Another experiment is running on this page.", code="experiment_already_running") from exc
    _experiment_changed(experiment)
    return experiment


# The page itself is the control arm of an experiment built from its variants.
CONTROL_KEY = "a"
CONTROL_NAME = "The page"


@transaction.atomic
def experiment_create_from_page(
    *,
    page: LandingPage,
    name: str,
    hypothesis: str = "",
    arms: dict[str, int],
    coverage: Decimal,
    minimum_detectable_effect: Decimal,
    start: bool = False,
) -> Experiment:
    """A draft experiment on `page` from its page variants: `arms` maps each arm's key to its
    weight, the page itself ("a", the control) and the keys of the `PageVariant`s taking part.
    Each variant's arm keeps a snapshot of its overrides and its name. With `start`, the new
    experiment is started in the same transaction: a refusal to start (another experiment running
    on the page, a draft page) leaves nothing written.

    Errors are keyed by what they are about: "arms" (which arms), "weight_<key>" (an arm's
    weight), "name", "coverage", "minimum_detectable_effect", "start"."""
    errors: dict[str, list[str]] = {}
    if CONTROL_KEY not in arms:
        errors["arms"] = ["The page itself (A) is always the control arm."]
    chosen = [key for key in arms if key != CONTROL_KEY]
    variants = {v.key: v for v in PageVariant.objects.filter(page=page, key__in=chosen)}
    unknown = [key for key in chosen if key not in variants]
    if unknown:
        errors["arms"] = [f"No variant {', '.join(k.upper() for k in unknown)} on this page."]
    elif len(arms) < MIN_VARIANTS:
        errors["arms"] = ["Choose at least one variant to test against the page."]
    elif len(arms) > MAX_VARIANTS:
        errors["arms"] = [f"An experiment has at most {MAX_VARIANTS} arms (the page and {MAX_VARIANTS - 1} variants)."]
    for key, weight in arms.items():
        if not isinstance(weight, int) or isinstance(weight, bool) or not 1 <= weight <= WEIGHT_MAX:
            errors[f"weight_{key}"] = [f"Give a whole number from 1 to {WEIGHT_MAX}."]
    if errors:
        raise ValidationError(errors)
    specs: list[dict[str, Any]] = [
        {"key": CONTROL_KEY, "name": CONTROL_NAME, "is_control": True, "weight": arms[CONTROL_KEY]}
    ]
    for key in sorted(chosen):
        # A snapshot: the arm shows what was tested, whatever later edits the variant gets.
        specs.append(
            {"key": key, "name": variants[key].name, "weight": arms[key], "overrides": dict(variants[key].overrides)}
        )
    try:
        experiment = experiment_create(
            page=page,
            name=name,
            variants=specs,
            hypothesis=hypothesis,
            coverage=coverage,
            minimum_detectable_effect=minimum_detectable_effect,
        )
    except ConflictError as exc:
        raise ValidationError({NON_FIELD_ERRORS: [exc.message]}) from exc
    if start:
        try:
            experiment = experiment_move(experiment=experiment, to=ExperimentStatus.RUNNING)
        except ConflictError as exc:
            raise ValidationError({"start": [exc.message]}) from exc
    return experiment
