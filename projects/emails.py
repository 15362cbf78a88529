"""Emails to visitors, sent through Django's email framework (console by default)."""

import logging

from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from projects.models import Signup
from projects.signup_tokens import CONFIRM, UNSUBSCRIBE, make_token

logger = logging.getLogger(__name__)


def send_signup_confirmation(*, signup: Signup, base_url: str) -> None:
    """Double opt-in: a link to a page whose button confirms (a POST, so mail scanners that
    follow links confirm nothing), and an unsubscribe link that works the same way."""
    page = signup.landing_page
    base = base_url.rstrip("/")
    context = {
        "signup": signup,
        "page": page,
        "confirm_url": base
        + reverse("public:confirm", kwargs={"slug": page.slug, "token": make_token(signup=signup, action=CONFIRM)}),
        "unsubscribe_url": base
        + reverse(
            "public:unsubscribe", kwargs={"slug": page.slug, "token": make_token(signup=signup, action=UNSUBSCRIBE)}
        ),
    }
    subject = f"Confirm your signup: {page.headline}"[:150]
    body = render_to_string("projects/emails/confirm_signup.txt", context)
    try:
        send_mail(subject, body, None, [signup.email])
    except OSError:
        # The signup is stored; a mail server hiccup must not turn the visitor's success
        # into an error. The failure is logged for operators.
        logger.exception("confirmation email to signup %s failed", signup.pk)
