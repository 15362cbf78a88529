"""The public forms (signup, the fake door's "Buy"), with their guards:

- a form token, signed and bound to the visitor's first-party cookie: it stands in for Django's
  CSRF token on these anonymous forms (the signed double-submit cookie pattern,
  https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html).
  A cross-site POST arrives without the SameSite=Lax cookie, or with a token bound to someone
  else, and is refused; and the landing page needs no CSRF secret per first visit;
- a honeypot field that people never see, and the render time the token carries (a person takes
  a few seconds to fill the form): bots are dropped quietly.
"""

import functools
import hashlib
import hmac
import time
from enum import Enum

from django import forms
from django.conf import settings
from django.utils.crypto import salted_hmac

from projects.visitor_text import signup_email

_SALT = "projects.signup-form"
MIN_FILL_SECONDS = 2.0
MAX_FORM_AGE_SECONDS = 24 * 3600
_BINDING_LENGTH = 16
_MAC_LENGTH = 32


@functools.lru_cache(maxsize=4)
def _key(secret: str) -> bytes:
    # Derived once per secret key (a per-call salted_hmac would re-derive it on every page view).
    return salted_hmac(_SALT, "form-token", secret).digest()


def _mac(message: str) -> str:
    return hmac.new(_key(settings.SECRET_KEY), message.encode(), hashlib.sha256).hexdigest()[:_MAC_LENGTH]


def _binding(visitor_hash: str) -> str:
    return visitor_hash[:_BINDING_LENGTH]


def form_token(*, visitor_hash: str, issued_at: float | None = None) -> str:
    """`<issued>.<visitor binding>.<mac>`: when the form was rendered, and for whom."""
    issued = int(issued_at if issued_at is not None else time.time())
    message = f"{issued}.{_binding(visitor_hash)}"
    return f"{message}.{_mac(message)}"


def token_id(token: str) -> str:
    """What names a checked token (its MAC): a signup stores it, so the token serves one."""
    return token.rpartition(".")[2]


class TokenCheck(Enum):
    OK = "ok"
    BOT = "bot"  # no token, a forged one, too fast or too old: dropped quietly
    OTHER_VISITOR = "other_visitor"  # genuine, but not this browser's: refused (CSRF)


def check_token(
    token: str, *, visitor_hash: str, now: float | None = None, min_age: float = MIN_FILL_SECONDS
) -> TokenCheck:
    if len(token) > 128 or not token.isascii():  # compare_digest takes ASCII text only
        return TokenCheck.BOT
    issued, _, rest = token.partition(".")
    binding, _, mac = rest.partition(".")
    if not issued.isdigit() or not hmac.compare_digest(mac, _mac(f"{issued}.{binding}")):
        return TokenCheck.BOT
    age = (now if now is not None else time.time()) - int(issued)
    if not min_age <= age <= MAX_FORM_AGE_SECONDS:
        return TokenCheck.BOT
    if not hmac.compare_digest(binding, _binding(visitor_hash)):
        return TokenCheck.OTHER_VISITOR
    return TokenCheck.OK


class SignupForm(forms.Form):
    # Validated by `signup_email` (after its normalisation, which an EmailField would run after).
    email = forms.CharField(max_length=1000, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    name = forms.CharField(max_length=120, required=False)
    qualifying_answer = forms.CharField(max_length=500, required=False)
    consent = forms.BooleanField(required=False)
    # Bots fill every field; people never see this one (hidden by CSS, skipped by tab order).
    website = forms.CharField(required=False)
    form_token = forms.CharField(required=False)
    utm_source = forms.CharField(max_length=200, required=False)
    utm_medium = forms.CharField(max_length=200, required=False)
    utm_campaign = forms.CharField(max_length=200, required=False)
    utm_content = forms.CharField(max_length=200, required=False)
    utm_term = forms.CharField(max_length=200, required=False)
    ref = forms.CharField(max_length=500, required=False)

    def clean_email(self) -> str:
        return signup_email(self.cleaned_data["email"])

    def is_bot(self) -> bool:
        """The honeypot, decided on the raw data before validation, so bots learn nothing from
        errors (the token is checked by the view, which knows the visitor)."""
        return bool((self.data.get("website") or "").strip())
