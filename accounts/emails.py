"""The account emails: the sign-up confirmation link, the email change link (to the new
address) and its notice (to the old one). Sent through Django's email framework (`EMAIL_URL`)
once the write that owes them has committed.

A relay that refuses or times out costs the founder a click on "send it again", never the
request: the failure is logged and the account stays as it was written.
"""

import logging
import smtplib
from hashlib import sha256

from django.conf import settings
from django.core.mail import EmailMessage
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse

from accounts import tokens
from mvpvalidator.cache import ratelimit
from mvpvalidator.links import email_base_url
from security.models import User

logger = logging.getLogger(__name__)

# Account emails one address may be sent per hour, whoever asks (sign-up, resends, password resets):
# a stranger cannot turn the forms into a way to flood someone's inbox from many addresses.
EMAILS_PER_ADDRESS_PER_HOUR = 5


def link_base_url(request: HttpRequest) -> str:
    """Where the links of an account email point (`mvpvalidator.links.email_base_url`)."""
    return email_base_url(request)


def address_may_receive(email: str) -> bool:
    """Count one account email to `email`; False once the address has had its hourly share."""
    key = "accounts:mail:" + sha256(email.strip().lower().encode()).hexdigest()[:32]
    return ratelimit.fixed_window(key, limit=EMAILS_PER_ADDRESS_PER_HOUR, window_seconds=3600).allowed


def _send(*, to: str, template: str, context: dict[str, object]) -> None:
    if not address_may_receive(to):
        logger.info("not sending the %s email: the address had its share this hour", template)
        return
    subject = render_to_string(f"accounts/email/{template}_subject.txt", context).strip().replace("\n", " ")
    body = render_to_string(f"accounts/email/{template}.txt", context)
    try:
        EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to]).send()
    except (smtplib.SMTPException, OSError):
        logger.warning("could not send the %s email", template, exc_info=True)


def send_signup_confirmation(*, user: User, base_url: str) -> None:
    token = tokens.make_token(purpose=tokens.SIGNUP_CONFIRM, user=user)
    link = base_url + reverse("account-confirm", kwargs={"token": token})
    hours = tokens.max_age_seconds() // 3600
    _send(to=user.email, template="signup_confirm", context={"user": user, "link": link, "hours": hours})


def send_email_change_link(*, user: User, new_email: str, base_url: str) -> None:
    token = tokens.make_token(purpose=tokens.EMAIL_CHANGE, user=user, claims={"new": new_email})
    link = base_url + reverse("account-email-confirm", kwargs={"token": token})
    hours = tokens.max_age_seconds() // 3600
    context = {"user": user, "link": link, "hours": hours, "new_email": new_email}
    _send(to=new_email, template="email_change_confirm", context=context)


def send_email_change_notice(*, user: User, old_email: str, new_email: str, base_url: str) -> None:
    context = {"user": user, "new_email": new_email, "settings_link": base_url + reverse("account-settings")}
    _send(to=old_email, template="email_change_notice", context=context)
