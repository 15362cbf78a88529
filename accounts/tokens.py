"""Signed, expiring, single-use links of the account emails.

A token is the user's id and the link's claims (the new address of an email change), signed
with the secret key under a salt of its own purpose and stamped with the time it was made. It
also carries a fingerprint of the account state it was made for (the address, whether it is
confirmed, the address asked for, the password hash and the token version): once the link has
been used, or the account has moved on (a new password, a sign-out everywhere), the state
differs and the link is dead, without a table of used links.
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from mvpvalidator.exceptions import ApplicationError
from security.models import User

SIGNUP_CONFIRM = "signup-confirm"
EMAIL_CHANGE = "email-change"


class LinkInvalid(ApplicationError):
    """A link that is tampered with, expired, already used or no longer matches the account."""

    def __init__(self, message: str = "This link is invalid or has expired.") -> None:
        super().__init__(message, code="link_invalid")


@dataclass(frozen=True)
class ReadLink:
    user: User
    claims: dict[str, Any]


def _state(purpose: str, user: User, claims: dict[str, Any]) -> str:
    # The password hash and the token version: whoever secures the account (a new password,
    # a sign-out everywhere) also kills the links sent before, as Django's reset links die.
    secured = f"{user.password}:{user.token_version}"
    if purpose == SIGNUP_CONFIRM:
        return f"{user.pk}:{user.email}:{int(user.email_confirmed)}:{secured}"
    if purpose == EMAIL_CHANGE:
        return f"{user.pk}:{user.email}:{claims.get('new', '')}:{secured}"
    raise ValueError(f"unknown link purpose {purpose!r}")


def _fingerprint(purpose: str, user: User, claims: dict[str, Any]) -> str:
    return salted_hmac(f"accounts.tokens.{purpose}", _state(purpose, user, claims), algorithm="sha256").hexdigest()[:32]


def max_age_seconds() -> int:
    """How long a link lives: as long as Django's password reset link (`PASSWORD_RESET_TIMEOUT`)."""
    return int(settings.PASSWORD_RESET_TIMEOUT)


def make_token(*, purpose: str, user: User, claims: dict[str, Any] | None = None) -> str:
    claims = dict(claims or {})
    payload = {"u": user.pk, "c": claims, "f": _fingerprint(purpose, user, claims)}
    return signing.dumps(payload, salt=f"accounts.tokens.{purpose}", compress=True)


def read_token(*, purpose: str, token: str) -> ReadLink:
    """The account and claims of a valid link; LinkInvalid otherwise (whatever the reason: a
    tampered, expired and used link look the same from outside)."""
    try:
        payload = signing.loads(token, salt=f"accounts.tokens.{purpose}", max_age=max_age_seconds())
    except signing.BadSignature as exc:  # SignatureExpired is one
        raise LinkInvalid() from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("c"), dict) or not isinstance(payload.get("u"), int):
        raise LinkInvalid()
    user = User.objects.filter(pk=payload["u"], is_active=True).first()
    if user is None:
        raise LinkInvalid()
    claims: dict[str, Any] = payload["c"]
    if not constant_time_compare(str(payload.get("f", "")), _fingerprint(purpose, user, claims)):
        raise LinkInvalid()
    return ReadLink(user=user, claims=claims)
