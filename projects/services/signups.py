"""Writes of signups: the signup itself, the confirmation email's outbox (claim, record, send),
confirming and unsubscribing, and the signups held for their visitor's confirmation."""

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from monitoring.operations import timed_service
from mvpvalidator.exceptions import ApplicationError, ConflictError
from projects import emails
from projects.analysis.channels import UTM_FIELDS
from projects.cache import invalidate_on_commit
from projects.forms.public import token_bind
from projects.models.events import Traffic
from projects.models.pages import LandingPage, PageStatus
from projects.models.signups import HeldSignup, Signup
from projects.visitor_text import signup_email, visitor_text
from security.hashing import hash_identifier
from security.limits import FormCount

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignupResult:
    signup: Signup
    created: bool


@timed_service
def signup_create(
    *,
    page: LandingPage,
    email: str,
    name: str = "",
    qualifying_answer: str = "",
    utm: dict[str, str] | None = None,
    referrer: str = "",
    click_platform: str = "",
    click_id: str = "",
    channel: str = "",
    variant: str = "",
    traffic: str = Traffic.HUMAN,
    consent: bool = False,
    visitor_id: str = "",
    form_token_id: str = "",
    send_confirmation: bool = True,
    link_base_url: str = "",
    rate_count: FormCount | None = None,
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

    `link_base_url` (`emails.link_base_url`, development only) is where the email's links point
    instead of PUBLIC_BASE_URL.

    `rate_count` is the form's rate-limit count when its view left it to be sent
    (`security.limits.FormCount`): it goes with the token's binding, in one round trip, before
    anything is written, and past the limit `LimitReached` is raised with nothing written.

    `utm`, `referrer`, `click_platform`, `click_id`, `channel` and `variant` are the visit's first
    touch (`events.visit.Visit.signup_touch`), whichever form the signup came through.
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
        click_platform=click_platform,
        click_id=visitor_text(click_id, max_length=255),
        channel=channel,
        variant=variant,
        traffic=traffic,
        consent=consent,
        consent_at=now if consent else None,
        visitor_hash=hash_identifier(visitor_id),
        form_token_id=form_token_id,
        confirmation_due_at=now if page.double_opt_in and send_confirmation else None,
        confirmation_base_url=link_base_url[:200],
        **{name: visitor_text(utm.get(name, ""), max_length=200) for name in UTM_FIELDS},
    )
    # The page and its project are at hand: validating the two keys would ask the database
    # again for rows just read (two round trips of a signup's three).
    signup.full_clean(exclude=["landing_page", "project"], validate_unique=False, validate_constraints=False)
    if form_token_id and not token_bind(token_id=form_token_id, page_id=page.pk, email=email, count=rate_count):
        raise FormTokenUsed()
    if rate_count is not None:
        rate_count.settle()  # not sent with a binding (no token): on its own, before the INSERT
    # One INSERT is atomic by itself: outside a transaction it needs no BEGIN and COMMIT round
    # trips (the on_commit hooks then run at once, after it). Inside a caller's transaction a
    # savepoint keeps a duplicate address from breaking it.
    in_transaction = transaction.get_connection().in_atomic_block
    try:
        with transaction.atomic() if in_transaction else contextlib.nullcontext():
            signup.save()
            invalidate_on_commit(owner_id=page.project.owner_id, project_id=page.project_id, soon=True)
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
    return list(Signup.objects.filter(pk__in=ids).select_related("landing_page__project").order_by("pk"))


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


@timed_service
def held_signup_create(*, page: LandingPage, reason: str) -> HeldSignup:
    """Count a signup form held for its visitor's confirmation (see `HeldSignup`): one INSERT,
    and nothing of the submission kept."""
    if page.status != PageStatus.PUBLISHED:
        raise ConflictError("This page is not accepting signups.", code="page_not_published")
    return HeldSignup.objects.create(landing_page=page, project_id=page.project_id, reason=reason)


@timed_service
def held_signup_confirm(*, page: LandingPage, held_id: int, **signup: Any) -> SignupResult | None:
    """The visitor pressed the confirm button of a held signup: store it (`signup` holds
    `signup_create`'s arguments) and mark the hold passed, in one transaction. None when this
    hold was confirmed before: its token is single-use (a second press stores nothing)."""
    with transaction.atomic():
        passed = HeldSignup.objects.filter(pk=held_id, landing_page=page, passed_at__isnull=True).update(
            passed_at=timezone.now()
        )
        if not passed:
            return None
        # Refused (a used form token, a page no longer published), it raises and the hold stays open.
        return signup_create(page=page, **signup)
