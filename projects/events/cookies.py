"""The cookies of a visit to a public page, besides its first touch (`projects.events.touch`):
the visitor's id, the founder's preview mark and the visit's channel. Read and written only by
the `Visit` (`projects.events.visit`), and listed for the privacy page by
`projects.selectors.pages`.

Visitors are a random first-party cookie, signed by the platform (no third-party script, no raw
IP stored): an id the platform did not issue is known without a database or Redis read.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import salted_hmac

from projects.analysis.channels import CHANNELS

VISITOR_COOKIE = "mvp_vid"
VISITOR_COOKIE_MAX_AGE = 365 * 24 * 3600
PREVIEW_COOKIE = "mvp_preview"
# The channel of the visit in progress, set by its first page view that says where it came from:
# the visit's later events (views, beacon, click, pre-order, signup) are counted in the channel the
# visitor came from, not as "direct".
CHANNEL_COOKIE = "mvp_ch"
PREVIEW_SALT = "projects.preview"
PREVIEW_MAX_AGE = 30 * 24 * 3600


# --- The visitor cookie --------------------------------------------------------------------------

# The cookie is `<id>.<mac>`: the id, and an HMAC of it under the deployment's secret, so an id
# the platform did not issue is known without a database or Redis read. Only issued ids have
# their clicks and beacons counted: a made-up cookie could otherwise forge any visitor's events.
_VISITOR_SALT = "projects.visitor"
_VISITOR_MAC_LENGTH = 32


@functools.lru_cache(maxsize=4)
def _visitor_key(secret: str) -> bytes:
    # Derived once per secret key, not on every page view.
    return salted_hmac(_VISITOR_SALT, "visitor-id", secret).digest()


def _visitor_mac(visitor: str) -> str:
    return hmac.new(_visitor_key(settings.SECRET_KEY), visitor.encode(), hashlib.sha256).hexdigest()[
        :_VISITOR_MAC_LENGTH
    ]


def _plausible_id(value: str) -> bool:
    return 16 <= len(value) <= 64 and value.isascii() and value.replace("-", "").replace("_", "").isalnum()


@dataclass(frozen=True)
class VisitorCookie:
    id: str
    issued: bool  # signed by this platform: its events are counted
    fresh: bool  # the response sets the cookie (none came, or not one this platform signed)


def visitor_cookie(request: HttpRequest) -> VisitorCookie:
    """The visitor's id from the first-party cookie, or a new one.

    An unsigned id of the old format (cookies set before ids were signed) keeps the visitor's id,
    so their variant stays the same, and is signed on the response; until then it counts as not
    issued. A signed id whose MAC does not verify is a forgery: the visitor gets a new id."""
    current = request.COOKIES.get(VISITOR_COOKIE, "")
    value, dot, mac = current.partition(".")
    if dot:
        if _plausible_id(value) and mac.isascii() and hmac.compare_digest(mac, _visitor_mac(value)):
            return VisitorCookie(id=value, issued=True, fresh=False)
    elif _plausible_id(value):
        return VisitorCookie(id=value, issued=False, fresh=True)
    return VisitorCookie(id=secrets.token_urlsafe(16), issued=False, fresh=True)


def set_visitor_cookie(response: HttpResponse, visitor: str) -> None:
    response.set_cookie(
        VISITOR_COOKIE,
        signed_visitor_id(visitor),
        max_age=VISITOR_COOKIE_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def signed_visitor_id(visitor: str) -> str:
    """The visitor cookie's value for an id: `<id>.<mac>`."""
    return f"{visitor}.{_visitor_mac(visitor)}"


# --- The preview cookie and the channel cookie ---------------------------------------------------


def preview_token(page_id: int) -> str:
    """For the founder's preview link: opening it marks this browser as the page's owner."""
    return signing.dumps(page_id, salt=PREVIEW_SALT)


def preview_page_id(token: str) -> int | None:
    try:
        value = signing.loads(token, salt=PREVIEW_SALT, max_age=PREVIEW_MAX_AGE)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


def previewed_pages(request: HttpRequest) -> set[int]:
    raw = request.COOKIES.get(PREVIEW_COOKIE)
    if not raw:
        return set()
    try:
        value = signing.loads(raw, salt=PREVIEW_SALT, max_age=PREVIEW_MAX_AGE)
    except signing.BadSignature:
        return set()
    return {int(v) for v in value if isinstance(v, int)} if isinstance(value, list) else set()


def set_preview_cookie(response: HttpResponse, pages: Iterable[int]) -> None:
    response.set_cookie(
        PREVIEW_COOKIE,
        signing.dumps(sorted(set(pages))[-50:], salt=PREVIEW_SALT),
        max_age=PREVIEW_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def visit_channel(request: HttpRequest) -> str | None:
    """The channel of the page view that started this visit (None: no page view seen)."""
    value = request.COOKIES.get(CHANNEL_COOKIE, "")
    return value if value in CHANNELS else None


def set_channel_cookie(response: HttpResponse, channel: str, *, path: str) -> None:
    """A session cookie (one visit), scoped to the page's addresses."""
    response.set_cookie(
        CHANNEL_COOKIE, channel, path=path, secure=settings.SESSION_COOKIE_SECURE, httponly=True, samesite="Lax"
    )
