"""Signed tokens of signups, none of them stored: the links in signup emails (confirm and
unsubscribe), and the confirm button of a held signup (`make_hold_token`).

A link's signature binds the signup id and the action, so a confirm link cannot unsubscribe and
an edited id is refused.
"""

import hmac
from dataclasses import dataclass

from django.core import signing

from projects.models.signups import Signup

_SALT = "projects.signup"
CONFIRM = "confirm"
UNSUBSCRIBE = "unsubscribe"
# A confirmation link is good for 30 days; an unsubscribe link must work for as long as we
# keep sending mail, so it does not expire.
MAX_AGE = {CONFIRM: 30 * 24 * 3600, UNSUBSCRIBE: None}


def make_token(*, signup: Signup, action: str) -> str:
    return signing.dumps({"s": signup.pk, "a": action}, salt=_SALT, compress=True)


def signup_from_token(*, token: str, action: str, slug: str) -> Signup | None:
    """The signup a link names, or None when the link is forged, expired or for another page."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=MAX_AGE[action])
    except signing.BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(data, dict) or data.get("a") != action:
        return None
    return (
        Signup.objects.select_related("landing_page__project")
        .filter(pk=data.get("s"), landing_page__slug__iexact=slug)
        .first()
    )


# --- The confirm step of a held signup --------------------------------------------------------

_HOLD_SALT = "projects.signup-hold"
# As long as the form it came from would have been accepted.
HOLD_MAX_AGE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Hold:
    held_id: int  # the `HeldSignup` row: confirmed once (its token is single-use)
    form_token_id: str  # the form token the submission came with, when it was valid; else ""
    data: dict[str, str]  # the form as it was sent


def _hold_binding(visitor_hash: str) -> str:
    return visitor_hash[:16]


def make_hold_token(*, held_id: int, page_id: int, visitor_hash: str, form_token_id: str, data: dict[str, str]) -> str:
    """The confirm button's token: signed, it carries the submission itself (nothing of it is
    stored until the visitor confirms), the held row that makes it single-use, its page, and the
    browser it was shown to (another one is refused, as a form token minted for another browser is)."""
    payload = {"h": held_id, "p": page_id, "v": _hold_binding(visitor_hash), "t": form_token_id, "d": data}
    return signing.dumps(payload, salt=_HOLD_SALT, compress=True)


def hold_from_token(*, token: str, page_id: int, visitor_hash: str) -> Hold | None:
    """The held submission a confirm button names, or None when its token is forged, expired, of
    another page or was shown to another browser."""
    try:
        payload = signing.loads(token, salt=_HOLD_SALT, max_age=HOLD_MAX_AGE_SECONDS)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("h"), int) or not isinstance(payload.get("d"), dict):
        return None
    if payload.get("p") != page_id or not hmac.compare_digest(str(payload.get("v", "")), _hold_binding(visitor_hash)):
        return None
    data = {str(k): str(v) for k, v in payload["d"].items()}
    return Hold(held_id=payload["h"], form_token_id=str(payload.get("t", "")), data=data)
