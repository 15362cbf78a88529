"""The public signup form, with the two quiet bot filters: a honeypot field that people
never see, and a signed render time (a person takes a few seconds to fill the form)."""

import time

from django import forms
from django.core import signing

_SALT = "projects.signup-form"
MIN_FILL_SECONDS = 2.0
MAX_FORM_AGE_SECONDS = 24 * 3600


def form_token(*, issued_at: float | None = None) -> str:
    return signing.dumps(issued_at if issued_at is not None else time.time(), salt=_SALT)


def _rendered_at(token: str) -> float | None:
    try:
        value = signing.loads(token, salt=_SALT, max_age=MAX_FORM_AGE_SECONDS)
    except signing.BadSignature:
        return None
    return float(value) if isinstance(value, int | float) else None


class SignupForm(forms.Form):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
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

    def is_bot(self, *, now: float | None = None) -> bool:
        """Decided on the raw data, before validation, so bots learn nothing from errors."""
        if (self.data.get("website") or "").strip():
            return True
        rendered_at = _rendered_at(self.data.get("form_token") or "")
        if rendered_at is None:
            return True
        return ((now or time.time()) - rendered_at) < MIN_FILL_SECONDS
