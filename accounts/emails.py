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

# Account emails of one kind one address may be sent per hour, whoever asks: a stranger cannot
# turn the forms into a way to flood someone's inbox from many addresses. Each kind counts on its
# own, so the forms anyone may post (a resend, a password reset) cannot use up the share of
# another kind; above all not of the security notice, which tells the owner their address is
# being changed: silencing it would hide a takeover.
CONFIRMATION = "confirmation"
PASSWORD_RESET = "password-reset"  # noqa: S105 - a kind of email, not a secret
EMAIL_CHANGE_LINK = "email-change-link"
SECURITY_NOTICE = "security-notice"
EMAILS_PER_ADDRESS_PER_HOUR = {
    CONFIRMATION: 5,
    PASSWORD_RESET: 5,
    EMAIL_CHANGE_LINK: 5,
    # Only the signed-in owner (their password checked, behind the form's limit) triggers it;
    # no email change link leaves without its notice (`send_email_change`), so this bound is
    # also how many changes an account may ask for in an hour.
    SECURITY_NOTICE: 20,
}


def link_base_url(request: HttpRequest) -> str:
    """Where the links of an account email point (`mvpvalidator.links.email_base_url`)."""
    return email_base_url(request)


def address_may_receive(email: str, *, kind: str) -> bool:
    """Count one account email of `kind` to `email`; False once the address has had its hourly
    share of that kind."""
    key = f"accounts:mail:{kind}:" + sha256(email.strip().lower().encode()).hexdigest()[:32]
    return ratelimit.fixed_window(key, limit=EMAILS_PER_ADDRESS_PER_HOUR[kind], window_seconds=3600).allowed


def _send(*, to: str, kind: str, template: str, context: dict[str, object]) -> bool:
    """Send one account email; False when the address's hourly share of `kind` is used up (a
    relay's failure is logged, and counts as sent: the founder may ask again)."""
    if not address_may_receive(to, kind=kind):
        logger.info("not sending the %s email: the address had its share this hour", template)
        return False
    subject = render_to_string(f"accounts/email/{template}_subject.txt", context).strip().replace("\n", " ")
    body = render_to_string(f"accounts/email/{template}.txt", context)
    try:
        EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to]).send()
    except (smtplib.SMTPException, OSError):
        logger.warning("could not send the %s email", template, exc_info=True)
    return True


def send_signup_confirmation(*, user: User, base_url: str) -> None:
    token = tokens.make_token(purpose=tokens.SIGNUP_CONFIRM, user=user)
    link = base_url + reverse("account-confirm", kwargs={"token": token})
    hours = tokens.max_age_seconds() // 3600
    context = {"user": user, "link": link, "hours": hours}
    _send(to=user.email, kind=CONFIRMATION, template="signup_confirm", context=context)


def send_email_change(*, user: User, old_email: str, new_email: str, base_url: str) -> None:
    """The notice to the current address, then the link to the new one: never the link without
    the notice, so an address cannot change without its owner being told."""
    if not send_email_change_notice(user=user, old_email=old_email, new_email=new_email, base_url=base_url):
        logger.info("not sending the email change link: its notice could not be sent")
        return
    send_email_change_link(user=user, new_email=new_email, base_url=base_url)


def send_email_change_link(*, user: User, new_email: str, base_url: str) -> None:
    token = tokens.make_token(purpose=tokens.EMAIL_CHANGE, user=user, claims={"new": new_email})
    link = base_url + reverse("account-email-confirm", kwargs={"token": token})
    hours = tokens.max_age_seconds() // 3600
    context = {"user": user, "link": link, "hours": hours, "new_email": new_email}
    _send(to=new_email, kind=EMAIL_CHANGE_LINK, template="email_change_confirm", context=context)


def send_email_change_notice(*, user: User, old_email: str, new_email: str, base_url: str) -> bool:
    context = {"user": user, "new_email": new_email, "settings_link": base_url + reverse("account-settings")}
    return _send(to=old_email, kind=SECURITY_NOTICE, template="email_change_notice", context=context)
