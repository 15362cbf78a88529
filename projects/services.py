"""Writes of the projects domain: one transaction per service, validation before saving.

Status moves with the flow: generating a prototype makes a draft project `prototype_ready`,
publishing a page makes it `live`. A move the current state does not allow raises
`ConflictError` (409) and writes nothing.
"""

import contextlib
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q, QuerySet
from django.utils import timezone
from django.utils.text import slugify

from monitoring.operations import timed_service
from mvpvalidator import cache as app_cache
from mvpvalidator.exceptions import ApplicationError, ConflictError
from projects import emails, spend_csv
from projects.cache import experiment_ns, invalidate_on_commit, page_ns, project_ns
from projects.forms import token_bind
from projects.generation import GenerationResult, IdeaInput, PrototypeDraft, generate_prototype
from projects.models import (
    MAX_VARIANTS,
    MIN_VARIANTS,
    VARIANT_KEY_MAX_LENGTH,
    Campaign,
    CampaignSpend,
    CampaignStatus,
    CtaKind,
    Experiment,
    ExperimentStatus,
    LandingPage,
    PageStatus,
    Project,
    ProjectStatus,
    Prototype,
    ReportSnapshot,
    Signup,
    TestCard,
    Variant,
)
from projects.selectors import prototype_current
from projects.visitor_text import signup_email, visitor_text
from security.hashing import hash_identifier
from security.models import User
from security.sanitize import sanitize_html, sanitize_text

logger = logging.getLogger(__name__)

# States in which a project's content may still change.
_OPEN_STATES = frozenset({ProjectStatus.DRAFT, ProjectStatus.PROTOTYPE_READY, ProjectStatus.LIVE})

PROJECT_FIELDS = ("name", "idea_description", "target_audience", "price_point", "currency", "business_model")
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


def _require_open(project: Project, action: str) -> None:
    if project.status not in _OPEN_STATES:
        raise ConflictError(
            f"Cannot {action}: the project is {project.get_status_display().lower()}.",
            code="invalid_project_state",
        )


def _lock(project: Project) -> Project:
    """Re-read the project under a row lock so concurrent status moves serialise."""
    return Project.objects.select_for_update().get(pk=project.pk)


def _clean_list(values: Any, *, max_items: int, max_length: int) -> list[str]:
    if not isinstance(values, list):
        raise ValidationError("Must be a list of strings.")
    cleaned = [sanitize_text(str(v), max_length=max_length, field="list") for v in values[:max_items]]
    return [v for v in cleaned if v]


def _clean_tiers(tiers: Any) -> list[dict[str, Any]]:
    if not isinstance(tiers, list):
        raise ValidationError("Must be a list of pricing tiers.")
    cleaned = []
    for tier in tiers[:4]:
        if not isinstance(tier, dict):
            raise ValidationError("Each pricing tier must be an object.")
        try:
            price = Decimal(str(tier.get("price", "0"))).quantize(Decimal("0.01"))
        except ArithmeticError as exc:
            raise ValidationError("A pricing tier's price must be a number.") from exc
        cleaned.append(
            {
                "name": sanitize_text(str(tier.get("name", "")), max_length=40, field="pricing_tiers"),
                "price": str(price),
                "period": sanitize_text(str(tier.get("period", "")), max_length=20),
                "features": _clean_list(tier.get("features", []), max_items=8, max_length=140),
            }
        )
    return cleaned


# --- Projects --------------------------------------------------------------------------------


def _clean_project_fields(data: dict[str, Any]) -> dict[str, Any]:
    cleaned = dict(data)
    for name in ("name", "idea_description", "target_audience"):
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
) -> Project:
    fields = _clean_project_fields(
        {
            "name": name,
            "idea_description": idea_description,
            "target_audience": target_audience,
            "price_point": price_point,
            "currency": currency,
            "business_model": business_model,
        }
    )
    project = Project(owner=owner, **fields)
    project.full_clean()
    project.save()
    invalidate_on_commit(owner_id=owner.pk, project_id=project.pk, listing=True)
    return project


@transaction.atomic
def project_update(*, project: Project, data: dict[str, Any]) -> Project:
    project = _lock(project)
    _require_open(project, "edit the project")
    unknown = set(data) - set(PROJECT_FIELDS)
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in sorted(unknown)})
    for name, value in _clean_project_fields(data).items():
        setattr(project, name, value)
    project.full_clean()
    project.save()
    invalidate_on_commit(owner_id=project.owner_id, project_id=project.pk, listing=True)
    return project


@transaction.atomic
def project_archive(*, project: Project) -> Project:
    """Archive the project and take its pages off the public web."""
    project = _lock(project)
    if project.status == ProjectStatus.ARCHIVED:
        return project
    project.status = ProjectStatus.ARCHIVED
    project.save(update_fields=["status", "updated_at"])
    pages = project.landing_pages.exclude(status=PageStatus.ARCHIVED)
    slugs = tuple(pages.values_list("slug", flat=True))
    _end_experiments(Experiment.objects.filter(page__project=project))
    pages.update(status=PageStatus.ARCHIVED, updated_at=timezone.now())
    invalidate_on_commit(owner_id=project.owner_id, project_id=project.pk, listing=True, slugs=slugs)
    return project


@transaction.atomic
def project_delete(*, project: Project) -> None:
    slugs = tuple(project.landing_pages.values_list("slug", flat=True))
    invalidate_on_commit(owner_id=project.owner_id, project_id=project.pk, listing=True, slugs=slugs)
    project.delete()


# --- Prototypes ------------------------------------------------------------------------------


def _idea(project: Project) -> IdeaInput:
    return IdeaInput(
        name=project.name,
        idea_description=project.idea_description,
        target_audience=project.target_audience,
        price_point=project.price_point,
        currency=project.currency,
        business_model=project.business_model,
    )


def _prototype_fields(draft: PrototypeDraft) -> dict[str, Any]:
    return {
        "headline": sanitize_text(draft.headline, max_length=120),
        "subheadline": sanitize_text(draft.subheadline, max_length=240),
        "value_proposition": sanitize_html(draft.value_proposition, max_length=2000),
        "features": _clean_list(list(draft.features), max_items=8, max_length=140),
        "pricing_tiers": _clean_tiers(list(draft.pricing_tiers)),
        "call_to_action": sanitize_text(draft.call_to_action, max_length=60),
    }


@timed_service
def prototype_generate(*, project: Project) -> Prototype:
    """Generate a new current prototype. The provider call (which may take seconds) runs
    outside the transaction; the write re-checks the project's state under a lock."""
    _require_open(project, "generate a prototype")
    result: GenerationResult = generate_prototype(_idea(project))
    with transaction.atomic():
        project = _lock(project)
        _require_open(project, "generate a prototype")
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


# --- Landing pages ---------------------------------------------------------------------------


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


def _clean_page_fields(data: dict[str, Any]) -> dict[str, Any]:
    cleaned = dict(data)
    for name, length in (("headline", 120), ("subheadline", 240), ("cta_text", 60), ("qualifying_question", 200)):
        if name in cleaned:
            cleaned[name] = sanitize_text(cleaned[name], max_length=length, field=name)
    if "value_proposition" in cleaned:
        cleaned["value_proposition"] = sanitize_html(
            cleaned["value_proposition"], max_length=2000, field="value_proposition"
        )
    if "features" in cleaned:
        cleaned["features"] = _clean_list(cleaned["features"], max_items=8, max_length=140)
    if "pricing_tiers" in cleaned:
        cleaned["pricing_tiers"] = _clean_tiers(cleaned["pricing_tiers"])
    if "slug" in cleaned:
        cleaned["slug"] = slugify(cleaned["slug"])[:80]
    return cleaned


def _check_cta(page: LandingPage) -> None:
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
    project = _lock(project)
    _require_open(project, "create a landing page")
    prototype = prototype_current(project=project)
    if prototype is None:
        raise ConflictError("Generate a prototype first: a page shows the current prototype.", code="no_prototype")
    if slug:
        slug = slugify(slug)[:80]
        if not slug:
            raise ValidationError({"slug": ["Enter a valid address (letters, numbers, hyphens)."]})
    # The prototype's copy is cleaned as any page content is: a prototype is stored cleaned,
    # but a page must not depend on every path that ever wrote one (`|safe` renders this HTML).
    content = _clean_page_fields(
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
    _require_open(page.project, "edit the page")
    if page.status == PageStatus.ARCHIVED:
        raise ConflictError("An archived page cannot be edited.", code="invalid_page_state")
    unknown = set(data) - set(PAGE_CONTENT_FIELDS)
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in sorted(unknown)})
    cleaned = _clean_page_fields(data)
    if "slug" in cleaned:
        if not cleaned["slug"]:
            raise ValidationError({"slug": ["Enter a valid address (letters, numbers, hyphens)."]})
        _check_slug_free(cleaned["slug"], owner_id=page.project.owner_id, page=page)
    return cleaned


@transaction.atomic
def landing_page_update(*, page: LandingPage, data: dict[str, Any]) -> LandingPage:
    page = LandingPage.objects.select_for_update().select_related("project").get(pk=page.pk)
    old_slug = page.slug
    cleaned = landing_page_clean_update(page=page, data=data)
    for name, value in cleaned.items():
        setattr(page, name, value)
    if page.cta_kind == CtaKind.EMAIL:
        page.preorder_price = None
    _check_cta(page)
    page.content_version += 1
    _save_page(page)
    invalidate_on_commit(owner_id=page.project.owner_id, project_id=page.project_id, slugs=(old_slug, page.slug))
    return page


@timed_service
@transaction.atomic
def landing_page_publish(*, page: LandingPage) -> LandingPage:
    page = LandingPage.objects.select_for_update().get(pk=page.pk)
    project = _lock(page.project)
    _require_open(project, "publish the page")
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
def landing_page_archive(*, page: LandingPage) -> LandingPage:
    page = LandingPage.objects.select_for_update().select_related("project").get(pk=page.pk)
    if page.status != PageStatus.ARCHIVED:
        page.status = PageStatus.ARCHIVED
        page.save(update_fields=["status", "updated_at"])
        _end_experiments(page.experiments.all())
        invalidate_on_commit(owner_id=page.project.owner_id, project_id=page.project_id, slugs=(page.slug,))
    return page


# --- Signups ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignupResult:
    signup: Signup
    created: bool


UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")


@timed_service
def signup_create(
    *,
    page: LandingPage,
    email: str,
    name: str = "",
    qualifying_answer: str = "",
    utm: dict[str, str] | None = None,
    referrer: str = "",
    consent: bool = False,
    visitor_id: str = "",
    form_token_id: str = "",
    send_confirmation: bool = True,
) -> SignupResult:
    """Store a signup at once (durable before the visitor sees the thank-you page).

    A second signup with the same address on the same page returns the first one
    (`created=False`) and writes nothing. On a double opt-in page the row says a confirmation
    email is due, and the event worker sends it (`signup_confirmations_send`): the same INSERT
    is the email's durable outbox entry (`send_confirmation=False` is for addresses imported
    from elsewhere, such as demo data).

    `form_token_id` names the form token the signup came with: a token serves one signup. Its
    first use binds it to the address sent, whether that address was on the list or not
    (`forms.token_bind`, before the INSERT and with no query of its own). Sent again with that
    address (a double click), it is that signup again; with another address, `FormTokenUsed` and
    nothing is written, the same answer whatever the first address was. The row's unique token
    column is the durable backstop: a token stores one signup row at most, even with Redis away.
    """
    if page.status != PageStatus.PUBLISHED:
        raise ConflictError("This page is not accepting signups.", code="page_not_published")
    now = timezone.now()
    utm = utm or {}
    try:
        email = signup_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": exc.messages}) from exc
    signup = Signup(
        landing_page=page,
        project_id=page.project_id,
        email=email,
        name=visitor_text(name, max_length=120, field="signup_name"),
        qualifying_answer=visitor_text(qualifying_answer, max_length=500, field="qualifying_answer"),
        referrer=visitor_text(referrer, max_length=500),
        consent=consent,
        consent_at=now if consent else None,
        visitor_hash=hash_identifier(visitor_id),
        form_token_id=form_token_id,
        confirmation_due_at=now if page.double_opt_in and send_confirmation else None,
        **{name: visitor_text(utm.get(name, ""), max_length=200) for name in UTM_FIELDS},
    )
    # The page and its project are at hand: validating the two keys would ask the database
    # again for rows just read (two round trips of a signup's three).
    signup.full_clean(exclude=["landing_page", "project"], validate_unique=False, validate_constraints=False)
    if form_token_id and not token_bind(token_id=form_token_id, page_id=page.pk, email=email):
        raise FormTokenUsed()
    # One INSERT is atomic by itself: outside a transaction it needs no BEGIN and COMMIT round
    # trips (the on_commit hooks then run at once, after it). Inside a caller's transaction a
    # savepoint keeps a duplicate address from breaking it.
    in_transaction = transaction.get_connection().in_atomic_block
    try:
        with transaction.atomic() if in_transaction else contextlib.nullcontext():
            signup.save()
            invalidate_on_commit(owner_id=page.project.owner_id, project_id=page.project_id)
    except IntegrityError:
        # Which unique key refused it, in one read: the address on this page, or the token.
        keys = Q(landing_page=page, email=signup.email)
        if signup.form_token_id:
            keys |= Q(form_token_id=signup.form_token_id)
        rows = list(Signup.objects.filter(keys)[:2])
        existing = next((r for r in rows if (r.landing_page_id, r.email) == (page.pk, signup.email)), None)
        # The token is judged first, so that a used one tells nothing of who is on the list.
        if signup.form_token_id and any(r.form_token_id == signup.form_token_id and r != existing for r in rows):
            raise FormTokenUsed() from None
        if existing is None:
            raise
        return SignupResult(signup=existing, created=False)
    return SignupResult(signup=signup, created=True)


class FormTokenUsed(ApplicationError):
    """The signup form was sent before, with another address: the visitor sends it again."""

    status_code = 409
    default_code = "form_token_used"

    def __init__(self) -> None:
        super().__init__("This form was sent already. Check your details and send it again.")


@dataclass(frozen=True)
class ConfirmationBatch:
    claimed: int
    sent: int
    failed: int  # 0 or 1: a refusal ends the batch
    given_up: int  # of the failed: no retry left


def signup_confirmations_claim(*, limit: int = emails.BATCH, now: datetime | None = None) -> list[Signup]:
    """The confirmation emails due now, oldest first, leased to this caller for LEASE_SECONDS.
    SKIP LOCKED lets several workers claim side by side, each a batch of its own."""
    now = now or timezone.now()
    due = Signup.objects.filter(confirmation_due_at__lte=now)
    # The worker asks every second: when nothing is due (nearly always) one read answers, with
    # no transaction (on SQLite, no write lock taken from the web processes).
    if not due.exists():
        return []
    with transaction.atomic():
        ids = list(
            due.order_by("confirmation_due_at").select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return []
        Signup.objects.filter(pk__in=ids).update(confirmation_due_at=now + timedelta(seconds=emails.LEASE_SECONDS))
    return list(Signup.objects.filter(pk__in=ids).select_related("landing_page").order_by("pk"))


@transaction.atomic
def signup_confirmations_record(*, delivery: emails.Delivery, now: datetime | None = None) -> int:
    """What a delivery did, in one transaction: sent ones are done, the refused one waits for
    its retry (or is given up on), the untried rest is due again at once. Returns how many were
    given up on (0 or 1)."""
    now = now or timezone.now()
    if delivery.sent:
        Signup.objects.filter(pk__in=delivery.sent).update(
            confirmation_due_at=None, confirmation_sent_at=now, confirmation_attempts=F("confirmation_attempts") + 1
        )
    given_up = 0
    if delivery.failed is not None:
        attempts = delivery.failed.confirmation_attempts + 1
        delay = emails.retry_delay_seconds(attempts)
        retry_at = now + timedelta(seconds=delay) if delay is not None else None
        Signup.objects.filter(pk=delivery.failed.pk).update(
            confirmation_due_at=retry_at, confirmation_attempts=attempts
        )
        if retry_at is None:
            given_up = 1
            logger.error("confirmation email to signup %s given up after %d attempts", delivery.failed.pk, attempts)
        # The rest was not tried: it waits with the refused one, not behind a lease.
        if delivery.not_tried:
            Signup.objects.filter(pk__in=delivery.not_tried).update(confirmation_due_at=retry_at or now)
    return given_up


@timed_service
def signup_confirmations_send(*, limit: int = emails.BATCH) -> ConfirmationBatch:
    """Send one batch of due confirmation emails (the event worker calls this in its loop).
    No transaction is open while the relay is talked to: the claim is committed first."""
    claimed = signup_confirmations_claim(limit=limit)
    if not claimed:
        return ConfirmationBatch(claimed=0, sent=0, failed=0, given_up=0)
    delivery = emails.deliver(claimed)
    given_up = signup_confirmations_record(delivery=delivery)
    return ConfirmationBatch(
        claimed=len(claimed), sent=len(delivery.sent), failed=int(delivery.failed is not None), given_up=given_up
    )


@transaction.atomic
def signup_confirm(*, signup: Signup) -> Signup:
    signup = Signup.objects.select_for_update().select_related("project").get(pk=signup.pk)
    if signup.confirmed_at is None:
        signup.confirmed_at = timezone.now()
    signup.unsubscribed_at = None
    signup.save(update_fields=["confirmed_at", "unsubscribed_at"])
    invalidate_on_commit(owner_id=signup.project.owner_id, project_id=signup.project_id)
    return signup


@transaction.atomic
def signup_unsubscribe(*, signup: Signup) -> Signup:
    signup = Signup.objects.select_for_update().select_related("project").get(pk=signup.pk)
    if signup.unsubscribed_at is None:
        signup.unsubscribed_at = timezone.now()
        signup.save(update_fields=["unsubscribed_at"])
        invalidate_on_commit(owner_id=signup.project.owner_id, project_id=signup.project_id)
    return signup


# --- Experiments -----------------------------------------------------------------------------

EXPERIMENT_MOVES: dict[str, frozenset[str]] = {
    ExperimentStatus.DRAFT: frozenset({ExperimentStatus.RUNNING}),
    ExperimentStatus.RUNNING: frozenset({ExperimentStatus.PAUSED, ExperimentStatus.COMPLETED}),
    ExperimentStatus.PAUSED: frozenset({ExperimentStatus.RUNNING, ExperimentStatus.COMPLETED}),
    ExperimentStatus.COMPLETED: frozenset(),
}
VARIANT_CONTENT_FIELDS = ("headline", "subheadline", "cta_text", "preorder_price")
# What decides a visitor's variant: frozen once the experiment has started, or assignment would
# move visitors between variants mid-test (and the results would mix them).
ASSIGNMENT_FIELDS = ("variants", "coverage")


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


def _end_experiments(experiments: QuerySet[Experiment]) -> None:
    """Complete the running and paused experiments of pages going offline: nobody can see them
    any more, and an archived page cannot be published again to resume them."""
    now = timezone.now()
    ending = experiments.filter(status__in=(ExperimentStatus.RUNNING, ExperimentStatus.PAUSED))
    ids = list(ending.values_list("pk", flat=True))
    ending.update(status=ExperimentStatus.COMPLETED, completed_at=now, updated_at=now)
    if ids:
        transaction.on_commit(lambda: app_cache.bump(*(experiment_ns(i) for i in ids)))


def _experiment_changed(experiment: Experiment) -> None:
    """After the commit: the experiment's results, and the public page it runs on (its cached
    copy carries the running experiment)."""
    slug = experiment.page.slug
    names = [experiment_ns(experiment.pk), page_ns(slug), project_ns(experiment.page.project_id)]
    transaction.on_commit(lambda: app_cache.bump(*names))


@transaction.atomic
def experiment_create(*, page: LandingPage, name: str, variants: Any, **fields: Any) -> Experiment:
    """A draft experiment on one of the project's pages, with its variants."""
    page = LandingPage.objects.select_for_update().select_related("project").get(pk=page.pk)
    _require_open(page.project, "create an experiment")
    if page.status == PageStatus.ARCHIVED:
        raise ConflictError("An archived page cannot run experiments.", code="invalid_page_state")
    unknown = set(fields) - {"hypothesis", "coverage", "minimum_detectable_effect"}
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    experiment = Experiment(page=page, seed=secrets.token_hex(8), **_clean_experiment_fields({"name": name, **fields}))
    experiment.full_clean(exclude=["page"], validate_constraints=False)
    cleaned = _clean_variants(variants)
    experiment.save()
    for variant in cleaned:
        variant.experiment = experiment
    Variant.objects.bulk_create(cleaned)
    _experiment_changed(experiment)
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
    experiment.save()
    if "variants" in data:
        cleaned = _clean_variants(data["variants"])
        experiment.variants.all().delete()
        for variant in cleaned:
            variant.experiment = experiment
        Variant.objects.bulk_create(cleaned)
    _experiment_changed(experiment)
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
    """Start, pause, resume or complete: only the moves of EXPERIMENT_MOVES."""
    experiment = Experiment.objects.select_for_update().select_related("page").get(pk=experiment.pk)
    if to not in EXPERIMENT_MOVES.get(experiment.status, frozenset()):
        raise ConflictError(
            f"A {experiment.get_status_display().lower()} experiment cannot be {to}.",
            code="invalid_experiment_state",
            extra={"status": experiment.status, "allowed": sorted(EXPERIMENT_MOVES[experiment.status])},
        )
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


# --- Campaigns and spend ---------------------------------------------------------------------

CAMPAIGN_MOVES: dict[str, frozenset[str]] = {
    CampaignStatus.DRAFT: frozenset({CampaignStatus.ACTIVE}),
    CampaignStatus.ACTIVE: frozenset({CampaignStatus.PAUSED, CampaignStatus.COMPLETED}),
    CampaignStatus.PAUSED: frozenset({CampaignStatus.ACTIVE, CampaignStatus.COMPLETED}),
    CampaignStatus.COMPLETED: frozenset(),
}
CAMPAIGN_FIELDS = ("name", "platform", "budget", "starts_on", "ends_on", "utm_campaign")


def _campaign_changed(campaign: Campaign) -> None:
    names = [project_ns(campaign.project_id)]
    transaction.on_commit(lambda: app_cache.bump(*names))


def _save_campaign(campaign: Campaign) -> None:
    campaign.full_clean(exclude=["project"], validate_unique=False, validate_constraints=False)
    if campaign.ends_on and campaign.starts_on and campaign.ends_on < campaign.starts_on:
        raise ValidationError({"ends_on": ["The end comes before the start."]})
    clash = Campaign.objects.filter(project_id=campaign.project_id, utm_campaign=campaign.utm_campaign)
    if clash.exclude(pk=campaign.pk).exists():
        raise ValidationError({"utm_campaign": ["Another campaign of this project uses this utm_campaign value."]})
    try:
        with transaction.atomic():
            campaign.save()
    except IntegrityError as exc:  # a concurrent create with the same tag
        raise ValidationError(
            {"utm_campaign": ["Another campaign of this project uses this utm_campaign value."]}
        ) from exc


@transaction.atomic
def campaign_create(
    *, project: Project, name: str, platform: str, budget: Decimal, utm_campaign: str, **fields: Any
) -> Campaign:
    project = _lock(project)
    _require_open(project, "add a campaign")
    unknown = set(fields) - {"starts_on", "ends_on"}
    if unknown:
        raise ValidationError({name_: ["Unknown field."] for name_ in sorted(unknown)})
    campaign = Campaign(
        project=project,
        name=sanitize_text(name, max_length=120),
        platform=platform,
        budget=budget,
        utm_campaign=slugify(utm_campaign)[:100],
        **fields,
    )
    if not campaign.utm_campaign:
        raise ValidationError(
            {"utm_campaign": ["Enter the utm_campaign value the ads carry (letters, numbers, hyphens)."]}
        )
    _save_campaign(campaign)
    _campaign_changed(campaign)
    return campaign


@transaction.atomic
def campaign_update(*, campaign: Campaign, data: dict[str, Any]) -> Campaign:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    unknown = set(data) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in sorted(unknown)})
    if campaign.status == CampaignStatus.COMPLETED:
        raise ConflictError("A completed campaign cannot be edited.", code="invalid_campaign_state")
    for name, value in data.items():
        if name == "name":
            value = sanitize_text(value, max_length=120)
        elif name == "utm_campaign":
            value = slugify(value)[:100]
            if not value:
                raise ValidationError({"utm_campaign": ["Enter a utm_campaign value (letters, numbers, hyphens)."]})
        setattr(campaign, name, value)
    _save_campaign(campaign)
    _campaign_changed(campaign)
    return campaign


@transaction.atomic
def campaign_delete(*, campaign: Campaign) -> None:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != CampaignStatus.DRAFT:
        raise ConflictError("Only a draft campaign can be deleted; complete it instead.", code="invalid_campaign_state")
    _campaign_changed(campaign)
    campaign.delete()


@transaction.atomic
def campaign_move(*, campaign: Campaign, to: str) -> Campaign:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if to not in CAMPAIGN_MOVES.get(campaign.status, frozenset()):
        raise ConflictError(
            f"A {campaign.get_status_display().lower()} campaign cannot become {to}.",
            code="invalid_campaign_state",
            extra={"status": campaign.status, "allowed": sorted(CAMPAIGN_MOVES[campaign.status])},
        )
    campaign.status = to
    if to == CampaignStatus.ACTIVE and campaign.starts_on is None:
        campaign.starts_on = timezone.now().date()
    campaign.save(update_fields=["status", "starts_on", "updated_at"])
    _campaign_changed(campaign)
    return campaign


@dataclass(frozen=True)
class SpendImport:
    created: int
    updated: int


@transaction.atomic
def spend_import(*, campaign: Campaign, rows: list[spend_csv.SpendRow]) -> SpendImport:
    """Store a day's figures per row, overwriting the day if it is there: importing the same rows
    twice leaves the same rows. All or nothing (one transaction)."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status == CampaignStatus.COMPLETED:
        raise ConflictError("A completed campaign takes no more spend.", code="invalid_campaign_state")
    existing = {s.date: s for s in CampaignSpend.objects.filter(campaign=campaign, date__in=[r.date for r in rows])}
    created, updated = [], []
    for row in rows:
        spend = existing.get(row.date)
        if spend is None:
            created.append(
                CampaignSpend(
                    campaign=campaign, date=row.date, spend=row.spend, impressions=row.impressions, clicks=row.clicks
                )
            )
        else:
            spend.spend, spend.impressions, spend.clicks = row.spend, row.impressions, row.clicks
            updated.append(spend)
    CampaignSpend.objects.bulk_create(created)
    CampaignSpend.objects.bulk_update(updated, ["spend", "impressions", "clicks", "updated_at"])
    _campaign_changed(campaign)
    return SpendImport(created=len(created), updated=len(updated))


def spend_import_csv(*, campaign: Campaign, data: bytes | str) -> SpendImport:
    """A spend file: every bad line named (ValidationError with `lines`), nothing imported then."""
    rows, errors = spend_csv.parse(data, starts_on=campaign.starts_on, ends_on=campaign.ends_on)
    if errors:
        raise SpendFileError(errors)
    return spend_import(campaign=campaign, rows=rows)


class SpendFileError(ApplicationError):
    """A spend file with bad lines: none of it is imported."""

    status_code = 400
    default_code = "invalid_spend_file"

    def __init__(self, errors: list[spend_csv.LineError]) -> None:
        super().__init__(
            f"The file has {len(errors)} bad line(s); nothing was imported.",
            extra={"lines": [e.to_dict() for e in errors]},
        )


# --- Demand reports ---------------------------------------------------------------------------

FINAL_VERDICTS = frozenset({"validated", "not validated"})


@transaction.atomic
def report_snapshot_create(*, project: Project, report: dict[str, Any]) -> ReportSnapshot:
    """Keep a report with its inputs. A final verdict completes the project and records it."""
    project = _lock(project)
    snapshot = ReportSnapshot.objects.create(
        project=project,
        verdict=str(report["verdict"])[:20],
        score=report.get("score"),
        data=json.loads(json.dumps(report, cls=DjangoJSONEncoder)),
    )
    if report["verdict"] in FINAL_VERDICTS and project.status in _OPEN_STATES:
        project.status = ProjectStatus.COMPLETED
        project.completed_at = timezone.now()
        project.verdict = report["verdict"]
        project.save(update_fields=["status", "completed_at", "verdict", "updated_at"])
        invalidate_on_commit(owner_id=project.owner_id, project_id=project.pk, listing=True)
    return snapshot


# --- The test card ----------------------------------------------------------------------------


def _card_channel(project: Project) -> str:
    # Blank: the channel most of the cold traffic comes from, until the founder names one.
    return "paid_search" if Campaign.objects.filter(project=project).exists() else ""


def test_card_write(*, project: Project) -> TestCard:
    """The project's test card, written on its first launch (an existing card is kept)."""
    card, _ = TestCard.objects.get_or_create(project=project, defaults={"channel": _card_channel(project)})
    return card


@transaction.atomic
def test_card_update(*, project: Project, data: dict[str, Any]) -> TestCard:
    """Channel, expected cost per click and bars, until traffic arrives (409 after)."""
    from projects import demand

    project = _lock(project)
    card = TestCard.objects.select_for_update().filter(project=project).first() or TestCard(
        project=project, channel=_card_channel(project)
    )
    if card.locked_at is not None:
        raise ConflictError(
            "The test card is locked: traffic has arrived, and the verdict is judged against what it promised.",
            code="test_card_locked",
        )
    unknown = set(data) - {"channel", "expected_cpc", "overrides"}
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in sorted(unknown)})
    for name, value in data.items():
        setattr(card, name, value)
    try:
        demand.build_test_card(
            idea=project.name,
            channel=card.channel or "direct",
            price=float(project.price_point) or 0.01,
            currency=project.currency,
            business_model=project.business_model,
            expected_cpc=float(card.expected_cpc) if card.expected_cpc else None,
            overrides=card.overrides,
        )
    except ValueError as exc:
        field = "overrides" if "override" in str(exc) or card.overrides else "channel"
        raise ValidationError({field: [str(exc)]}) from exc
    card.save()
    invalidate_on_commit(owner_id=project.owner_id, project_id=project.pk)
    return card
