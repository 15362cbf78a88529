"""Signed links in signup emails: confirm and unsubscribe, without storing a token.

The signature binds the signup id and the action, so a confirm link cannot unsubscribe and
an edited id is refused.
"""

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
