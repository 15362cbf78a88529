"""Emails to visitors (signup confirmations) and to founders (the daily signup digest, sent by
projects.services.digests), through Django's email framework (console by default).

Confirmation emails are not sent by the signup request: the signup row records that one is
owed (`Signup.confirmation_due_at`) and the event worker sends what is due in batches over one
connection (`projects.services.signups.signup_confirmations_send`). A visitor's signup never waits for a mail
relay, and a relay that refuses or times out costs a retry later, not the email.
"""

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse

from mvpvalidator.links import development_base_url
from projects.models.signups import Signup
from projects.signup_tokens import CONFIRM, UNSUBSCRIBE, make_token

if TYPE_CHECKING:
    from projects.selectors.digests import DigestLine
    from security.models import User

logger = logging.getLogger(__name__)

# After a failed send the next try waits this long (by attempts so far); after the last one the
# email is given up on (logged as an error) and the signup stays, unconfirmed.
RETRY_DELAYS_SECONDS = (60, 5 * 60, 30 * 60, 2 * 3600, 12 * 3600)
MAX_ATTEMPTS = len(RETRY_DELAYS_SECONDS) + 1
# A claimed batch is the claiming worker's for this long; a worker that dies mid-batch leaves
# it to be claimed again after (a possible duplicate email, never a lost one). Longer than a
# batch can take: BATCH sends at EMAIL_TIMEOUT (10 s) each, at worst.
BATCH = 10
LEASE_SECONDS = 2 * 60


def retry_delay_seconds(attempts: int) -> int | None:
    """Seconds until the next try after `attempts` failed ones, or None: give up."""
    if attempts < 1 or attempts >= MAX_ATTEMPTS:
        return None
    return RETRY_DELAYS_SECONDS[attempts - 1]


# The names a development server is reached by on its own machine.


def link_base_url(request: HttpRequest) -> str:
    """Where the links of a signup's email should point, captured while the signup's request is
    at hand (the worker sends the email later, without one): a development server's own address,
    or "", meaning PUBLIC_BASE_URL (`mvpvalidator.links`)."""
    return development_base_url(request)


def _base_url(signup: Signup) -> str:
    # A row from development keeps its server's address until PUBLIC_BASE_URL is set.
    if signup.confirmation_base_url and not settings.PUBLIC_BASE_URL_SET:
        return signup.confirmation_base_url.rstrip("/")
    return settings.PUBLIC_BASE_URL


def confirmation_message(signup: Signup) -> EmailMessage:
    """Double opt-in: a link to a page whose button confirms (a POST, so mail scanners that
    follow links confirm nothing), and an unsubscribe link that works the same way."""
    page = signup.landing_page
    base = _base_url(signup)
    # Nothing the visitor typed (name, answer) goes in: anyone can type any address into the
    # form, so text of theirs would be text the platform mails to a stranger. The address is
    # unconfirmed until the link is followed; the project's name is the founder's own.
    context = {
        "page": page,
        "confirm_url": base
        + reverse("public:confirm", kwargs={"slug": page.slug, "token": make_token(signup=signup, action=CONFIRM)}),
        "unsubscribe_url": base
        + reverse(
            "public:unsubscribe", kwargs={"slug": page.slug, "token": make_token(signup=signup, action=UNSUBSCRIBE)}
        ),
    }
    subject = f"Confirm your signup: {page.project.name}"[:150]
    body = render_to_string("projects/emails/confirm_signup.txt", context)
    return EmailMessage(subject, body, None, [signup.email])


@dataclass(frozen=True)
class Delivery:
    sent: list[int]  # signup ids whose email left
    failed: Signup | None  # the one the relay refused (the batch stops there)
    not_tried: list[int]  # after a refusal: the rest of the batch, left for the next try


def deliver(signups: Sequence[Signup]) -> Delivery:
    """Send each signup's confirmation over one connection to the relay. The first failure
    ends the batch: a relay refusing one email is likely to refuse the next."""
    sent: list[int] = []
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
        for index, signup in enumerate(signups):
            try:
                message = confirmation_message(signup)
                connection.send_messages([message])
            except OSError:  # smtplib's errors, refused connections and timeouts alike
                logger.warning("confirmation email to signup %s failed", signup.pk, exc_info=True)
                return Delivery(sent=sent, failed=signup, not_tried=[s.pk for s in signups[index + 1 :]])
            except Exception:
                # Not the relay's doing (a template or data bug): counted as a failed attempt
                # like any other, so this email is given up on in time instead of stopping the
                # worker at every batch.
                logger.exception("confirmation email to signup %s could not be built", signup.pk)
                return Delivery(sent=sent, failed=signup, not_tried=[s.pk for s in signups[index + 1 :]])
            sent.append(signup.pk)
    except OSError:  # the connection itself: nothing was sent
        logger.warning("mail relay unavailable; %d confirmation emails wait", len(signups), exc_info=True)
        return Delivery(sent=[], failed=signups[0], not_tried=[s.pk for s in signups[1:]])
    finally:
        with contextlib.suppress(OSError):  # a relay gone mid-batch: what was sent still counts
            connection.close()
    return Delivery(sent=sent, failed=None, not_tried=[])


# --- The founders' daily signup digest ----------------------------------------------------------


def signup_digest_message(*, owner: "User", day: str, lines: Sequence["DigestLine"]) -> EmailMultiAlternatives:
    """The digest of `day` ("2026-12-05") for one founder: their projects' new signups, plain
    text with an HTML alternative, links to each project's report."""
    context = {
        "owner": owner,
        "day": day,
        "lines": lines,
        "total": sum(line.signups for line in lines),
        "base_url": settings.PUBLIC_BASE_URL,
    }
    total = context["total"]
    subject = f"{total} new signup{'s' if total != 1 else ''} on {day}"
    message = EmailMultiAlternatives(
        subject, render_to_string("projects/emails/signup_digest.txt", context), None, [owner.email]
    )
    message.attach_alternative(render_to_string("projects/emails/signup_digest.html", context), "text/html")
    return message
