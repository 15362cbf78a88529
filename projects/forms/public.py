"""The public forms (signup, the fake door's "Buy"), with their guards:

- a form token, signed and bound to the visitor's first-party cookie: it stands in for Django's
  CSRF token on these anonymous forms (the signed double-submit cookie pattern,
  https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html).
  A cross-site POST arrives without the SameSite=Lax cookie, or with a token bound to someone
  else, and is refused; and the landing page needs no CSRF secret per first visit;
- a honeypot field that people never see, the render time the token carries (a person without the
  page's script takes a few seconds to fill the form) and the script's mark (`SCRIPT_FIELD`: the
  browser ran the page's script and the visitor interacted, so speed proves nothing, autofill is
  instant): a submission these leave in doubt is held for a confirm button (`SignupForm.doubt`),
  never dropped behind a false thank-you;
- a token serves one signup: its first use binds it to what it was sent with (`token_bind`).
"""

import functools
import hashlib
import hmac
import threading
import time
from collections import OrderedDict
from enum import Enum
from typing import Any

from django import forms
from django.conf import settings
from django.utils.crypto import salted_hmac

from mvpvalidator import background
from mvpvalidator.cache import CacheUnavailable, call, is_shared, round_trip, state_key
from projects.analysis.channels import UTM_FIELDS
from projects.models.signups import HoldReason
from projects.visitor_text import signup_email
from security.hashing import hash_identifier
from security.limits import FormCount

_SALT = "projects.signup-form"
MIN_FILL_SECONDS = 2.0
# The hidden input the page's script adds to a form the visitor interacts with (see `script_mark`).
SCRIPT_FIELD = "js"
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


def _binding_key(token_id: str) -> str:
    return state_key(f"form-token:{token_id}")


# The embedded mode's bindings (one process, no Redis): token id -> (what it is bound to, expiry).
# Every binding lives as long, so insertion order is expiry order and the oldest go first.
_MAX_LOCAL_BINDINGS = 100_000
_local_bindings: OrderedDict[str, tuple[str, float]] = OrderedDict()
_local_lock = threading.Lock()


def _bind_local(token_id: str, sent: str, now: float) -> str | None:
    with _local_lock:
        while _local_bindings and next(iter(_local_bindings.values()))[1] <= now:
            _local_bindings.popitem(last=False)
        bound = _local_bindings.get(token_id)
        if bound is not None:
            return bound[0]
        _local_bindings[token_id] = (sent, now + MAX_FORM_AGE_SECONDS)
        if len(_local_bindings) > _MAX_LOCAL_BINDINGS:
            _local_bindings.popitem(last=False)  # that token is left to the database's key
        return None


def token_bind(*, token_id: str, page_id: int, email: str, count: FormCount | None = None) -> bool:
    """Bind a form token at its first use to the page and address it was sent with, whether or not
    that address is on the list already; False when it is bound to another page or address.

    The signup's unique token column alone consumes a token only when its INSERT stores a row: sent
    first with an address on the list (the INSERT refused on the address's key), the token stayed
    fresh, so a second send with another address told whether the first was listed. Bound here
    before the INSERT, a token is judged by what it was first sent with, listed or not: the same
    address again (a double click) is that signup again, another one is refused. On Redis it is one
    `SET NX GET` (Redis 7.0: the binding and the answer in one atomic round trip, no database
    query); the key lives as long as a token is accepted. The embedded mode keeps the bindings in
    this process. What is stored is a keyed digest of the page and address, not the address.

    With Redis away the answer is True: the database's unique token column still lets a token store
    one signup row at most, but a token first sent with a listed address is not bound then.

    `count`, the request's form rate-limit count (`security.limits.FormCount`), goes in the same
    round trip: a signup costs one. Past the limit it raises `LimitReached`, and the
    binding made stays: taking it back would let a request with the same token slip in between,
    whose answer then told whether the address was listed. Sent again once the wait is over, the
    form stores its signup with that address; with another it is refused as a used token is, and
    the page it gets back carries a new one.
    """
    sent = hash_identifier(f"{page_id}:{email}", purpose="form-token")[:32]
    if not is_shared():
        bound = _bind_local(token_id, sent, time.time())
    else:
        commands = (*(count.commands() if count is not None else ()), _bind_command(_binding_key(token_id), sent))
        try:
            replies = call(round_trip, *commands)
        except CacheUnavailable:
            if count is not None:
                count.answer(None)
            return True
        bound = replies[-1]
        if isinstance(bound, bytes):
            bound = bound.decode()
        if count is not None:
            count.answer(int(replies[0]))
    return bound is None or hmac.compare_digest(bound, sent)


def _bind_command(key: str, sent: str) -> tuple[Any, ...]:
    # SET NX GET (Redis 7.0): set unless set, and answer what was there (nil when it was not).
    return ("SET", key, sent, "NX", "EX", MAX_FORM_AGE_SECONDS, "GET")


def forget_bindings() -> None:
    """Forget the embedded mode's token bindings (tests start from none)."""
    with _local_lock:
        _local_bindings.clear()


background.register("projects.form_bindings", reset=forget_bindings)


class TokenCheck(Enum):
    OK = "ok"
    BOT = "bot"  # no token, a forged one, too fast or too old: held for a confirm button
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


class _Shared:
    """A field no form instance changes (nothing here sets attributes, choices or widget attrs
    per form): every form shares the declared one, where Django deep-copies each field and its
    widget for each form made, a fifth of a signup's form cost when it had twelve fields."""

    def __deepcopy__(self, memo: dict[int, Any]) -> "_Shared":
        return self


class _CharField(_Shared, forms.CharField):
    pass


class _BooleanField(_Shared, forms.BooleanField):
    pass


# What a signup form carries besides its fields, for the visit's first touch when no cookie kept it.
CARRIED_FIELDS = ("ref", *UTM_FIELDS)


class SignupForm(forms.Form):
    # Validated by `signup_email` (after its normalisation, which an EmailField would run after).
    email = _CharField(max_length=1000, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    name = _CharField(max_length=120, required=False)
    qualifying_answer = _CharField(max_length=500, required=False)
    consent = _BooleanField(required=False)
    # Bots fill every field; people never see this one (hidden by CSS, skipped by tab order).
    website = _CharField(required=False)
    # A token is ~60 characters; anything much longer is not one (and is not echoed back).
    form_token = _CharField(max_length=200, required=False)
    # The page's hidden inputs for the visit's first touch (`CARRIED_FIELDS`) are not fields: read
    # as sent (`events.visit.Visit.signup_touch`), cleaned and cut to their columns there. A value
    # too long is cut, not refused: the visitor could not correct a field they never see.

    def clean_email(self) -> str:
        return signup_email(self.cleaned_data["email"])

    def doubt(self, *, visitor_hash: str, now: float | None = None) -> HoldReason | None:
        """Why this submission may be a bot's (None: a person's, store it). A doubted one is held
        for the visitor's confirmation, not dropped: autofill fills the honeypot now and then, a
        tab left open overnight has an old token, and a person may be quick.

        A browser that ran the page's script and interacted carries `SCRIPT_FIELD`, naming its form
        token: a person, however fast. Without it the render time decides, as it did before."""
        if (self.data.get("website") or "").strip():
            return HoldReason.HONEYPOT
        token = self.data.get("form_token") or ""
        if check_token(token, visitor_hash=visitor_hash, now=now, min_age=0) != TokenCheck.OK:
            return HoldReason.TOKEN
        if hmac.compare_digest(str(self.data.get(SCRIPT_FIELD) or "").encode(), script_mark(token).encode()):
            return None
        if check_token(token, visitor_hash=visitor_hash, now=now, min_age=MIN_FILL_SECONDS) != TokenCheck.OK:
            return HoldReason.FAST
        return None


def script_mark(token: str) -> str:
    """What the page's script puts in `SCRIPT_FIELD` once the visitor interacts with the form
    (static/landing/track.js): the form token's id, so the mark is this form's. It is no secret:
    a bot that reads the script can send it, as one driving a real browser would; what it tells
    apart is a browser that ran the page (a person, whatever their speed) from a plain scripted
    POST, which gets the confirm step."""
    return "js-" + token_id(token)
