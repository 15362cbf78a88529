"""Who is visiting a public page, and the `Visit`: one object per request of /p/<slug>/ that reads
the visitor's cookies once, knows the traffic kind, the channel and the variant, records the
request's events (`projects.events.buffer`) and writes its cookies onto the response once.

Visitors are a random first-party cookie, signed by the platform (no third-party script, no raw
IP stored); events keep only an HMAC of the id, and clicks and beacons count only for a signed
one. Views of the founder (the preview cookie, or the page's owner or staff signed in) and of
known bots (user-agent list) are recorded with their traffic kind and left out of every
statistic; people are also asked to prove they run the page's script (a beacon) or interact
before they count in an experiment's results, so a crawler with a browser's user agent that only
fetches HTML does not (the no-JS rule).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import salted_hmac

from mvpvalidator.control_characters import CONTROL_CHARACTERS
from projects.analysis.channels import (
    CHANNELS,
    CLICK_ID_MAX_LENGTH,
    CLICK_PLATFORMS,
    UTM_FIELDS,
    FirstTouch,
    click_id_of,
)
from projects.analysis.devices import OTHER as OTHER_DEVICE
from projects.analysis.devices import device_of
from projects.events.buffer import TrackedEvent, make_event, record
from projects.models import EventKind, Traffic
from security.hashing import hash_identifier

if TYPE_CHECKING:
    from projects.models import LandingPage
    from projects.selectors.pages import LiveVariant, PublicPage

VISITOR_COOKIE = "mvp_vid"
VISITOR_COOKIE_MAX_AGE = 365 * 24 * 3600
PREVIEW_COOKIE = "mvp_preview"
# The channel of the visit in progress, set by its first page view that says where it came from:
# the visit's later events (views, beacon, click, pre-order, signup) are counted in the channel the
# visitor came from, not as "direct".
CHANNEL_COOKIE = "mvp_ch"
# The visit's first touch (its UTM tags, referrer and click id), set with the channel cookie by the
# page view that began the visit: every signup keeps it, whichever form it came through.
FIRST_TOUCH_COOKIE = "mvp_ft"
_FIRST_TOUCH_SALT = "projects.first-touch"
# A visit's first touch is its own: a copy of the cookie kept for weeks is not this visit's.
FIRST_TOUCH_MAX_AGE_SECONDS = 7 * 24 * 3600
PREVIEW_SALT = "projects.preview"
PREVIEW_MAX_AGE = 30 * 24 * 3600

# Self-declared crawlers, previewers and HTTP libraries. Substrings of the lower-cased user agent;
# the list follows the common crawler lists (e.g. https://github.com/monperrus/crawler-user-agents).
BOT_MARKERS = (
    "bot", "crawl", "spider", "slurp", "preview", "facebookexternalhit", "embedly", "quora link",
    "pinterest", "vkshare", "w3c_validator", "whatsapp", "headlesschrome", "phantomjs", "lighthouse",
    "pingdom", "uptime", "monitor", "curl/", "wget/", "python-requests", "python-urllib", "httpx",
    "aiohttp", "go-http-client", "java/", "okhttp", "libwww", "node-fetch", "axios/", "scrapy",
)  # fmt: skip
_BOT_RE = re.compile("|".join(re.escape(m) for m in BOT_MARKERS))


def is_bot(user_agent: str) -> bool:
    """A known bot by its user agent; an empty user agent is one too (browsers always send it)."""
    return not user_agent or _BOT_RE.search(user_agent.lower()) is not None


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


# --- The first touch ---------------------------------------------------------------------------

# The lengths of the columns that keep them (`Signup`, `Event`).
UTM_MAX_LENGTH = 200
REFERRER_MAX_LENGTH = 500


def _clean(value: object, max_length: int) -> str:
    # From anyone's address or cookie: control characters out (PostgreSQL refuses NUL in text).
    return CONTROL_CHARACTERS.sub("", value if isinstance(value, str) else "")[:max_length]


def _touch(utm: Iterable[object], referrer: object, click_platform: object, click_id: object) -> FirstTouch:
    tags = [_clean(v, UTM_MAX_LENGTH) for v in utm][: len(UTM_FIELDS)]
    tags += [""] * (len(UTM_FIELDS) - len(tags))
    platform = click_platform if isinstance(click_platform, str) and click_platform in CLICK_PLATFORMS else ""
    return FirstTouch(
        utm=(tags[0], tags[1], tags[2], tags[3], tags[4]),
        referrer=_clean(referrer, REFERRER_MAX_LENGTH),
        click_platform=platform,
        click_id=_clean(click_id, CLICK_ID_MAX_LENGTH) if platform else "",
    )


def request_touch(request: HttpRequest) -> FirstTouch:
    """What a page view's address (UTM tags, click id) and Referer header say of where it came from."""
    platform, click_id = click_id_of(request.GET)
    return _touch(
        (request.GET.get(name, "") for name in UTM_FIELDS), request.META.get("HTTP_REFERER", ""), platform, click_id
    )


def form_touch(fields: Mapping[str, object]) -> FirstTouch:
    """The first touch a signup form's hidden fields carry (`ref` and the UTM tags): only for a
    visit that kept none (`kept_touch`), since a page can send them blank."""
    return _touch((fields.get(name, "") for name in UTM_FIELDS), fields.get("ref", ""), "", "")


def kept_touch(request: HttpRequest) -> FirstTouch | None:
    """The visit's first touch, from its cookie (None: none kept, or not one this platform signed)."""
    raw = request.COOKIES.get(FIRST_TOUCH_COOKIE)
    if not raw:
        return None
    try:
        value = signing.loads(raw, salt=_FIRST_TOUCH_SALT, max_age=FIRST_TOUCH_MAX_AGE_SECONDS)
    except signing.BadSignature:
        return None
    if not isinstance(value, list) or len(value) != 4 or not isinstance(value[0], list):
        return None
    return _touch(value[0], value[1], value[2], value[3])


# Browsers drop a cookie over 4,096 bytes, and a proxy's default header buffer (nginx: 4 KB) turns
# a larger Set-Cookie into a 502. Tags and a referrer cut to their columns fit in ASCII (~2 KB),
# but not in CJK or emoji, which JSON escapes six bytes a character: those are cut further.
FIRST_TOUCH_MAX_BYTES = 3000


def _first_touch_value(touch: FirstTouch) -> str | None:
    """The signed cookie value, its text cut until it fits FIRST_TOUCH_MAX_BYTES (None: it never
    does, and the visit keeps no first touch rather than one the browser would drop)."""
    limit = REFERRER_MAX_LENGTH
    while limit >= 25:
        value = signing.dumps(
            [[t[:limit] for t in touch.utm], touch.referrer[:limit], touch.click_platform, touch.click_id[:limit]],
            salt=_FIRST_TOUCH_SALT,
            compress=True,
        )
        if len(value) <= FIRST_TOUCH_MAX_BYTES:
            return value
        limit //= 2
    return None


def set_first_touch_cookie(response: HttpResponse, touch: FirstTouch, *, path: str) -> None:
    """A session cookie (one visit) beside the channel cookie, scoped to the page's addresses.
    Signed, so what a signup keeps is what the page view saw (at most FIRST_TOUCH_MAX_BYTES)."""
    value = _first_touch_value(touch)
    if value is None:
        return
    response.set_cookie(
        FIRST_TOUCH_COOKIE, value, path=path, secure=settings.SESSION_COOKIE_SECURE, httponly=True, samesite="Lax"
    )


class SignupTouch(TypedDict):
    """The first-touch arguments of `services.signups.signup_create`, from the visit."""

    utm: dict[str, str]
    referrer: str
    click_platform: str
    click_id: str
    channel: str
    variant: str
    traffic: str


def signed_in_founder(request: HttpRequest, owner_id: int) -> bool:
    """The page's owner or a staff member, signed in: their own looks are the founder's traffic.

    Only a request that carries a session cookie looks its session (and user) up: an anonymous
    visitor's page view costs no query, and the landing page stays the cheap path it is."""
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    user = getattr(request, "user", None)  # AuthenticationMiddleware's lazy user
    return bool(user is not None and user.is_authenticated and (user.pk == owner_id or user.is_staff))


def traffic_of(request: HttpRequest, page: LandingPage) -> str:
    """The founder (a browser that opened the page's preview link, or the owner or staff signed
    in), a known bot, or a person."""
    if PREVIEW_COOKIE in request.COOKIES and page.pk in previewed_pages(request):
        return Traffic.FOUNDER
    if signed_in_founder(request, page.project.owner_id):
        return Traffic.FOUNDER
    if is_bot(request.META.get("HTTP_USER_AGENT", "")):
        return Traffic.BOT
    return Traffic.HUMAN


# --- The visit -----------------------------------------------------------------------------------


class Visit:
    """One request's visit of a public page, built from the request and the page
    (`selectors.public_page`): the visitor (their cookie, read once here, or a new id), the
    traffic kind, the channel and the variant, each worked out once and only when asked for.
    It records the request's events, and `respond` writes the cookies the visit changed onto the
    response (nothing else writes them)."""

    def __init__(self, request: HttpRequest, public: PublicPage, cookie: VisitorCookie | None = None) -> None:
        # `cookie`: the visitor cookie when the view read it first (to answer before the page
        # is looked up); otherwise it is read here.
        cookie = cookie or visitor_cookie(request)
        self.request = request
        self.public = public
        self.visitor_id = cookie.id  # the first-party cookie's id
        self.visitor_hash = hash_identifier(cookie.id)  # what events and signups keep
        self.new = cookie.fresh  # no cookie this platform signed came with the request: `respond` sets it
        self.issued = cookie.issued  # the id is one this platform issued (its signature verified)
        # The channel the visit came by (its cookie), and the one a page view of this request
        # gives it: `respond` keeps the second for the visit's later events.
        self.kept_channel = visit_channel(request)
        self.channel = self.kept_channel
        self._previewed: set[int] | None = None
        self._new_touch: FirstTouch | None = None  # a page view began the visit's first touch

    @functools.cached_property
    def assignment(self) -> tuple[int | None, LiveVariant | None]:
        """(experiment id, variant) of the visitor; (None, None) outside any experiment."""
        return self.public.assignment(self.visitor_id)

    @property
    def variant(self) -> LiveVariant | None:
        return self.assignment[1]

    @functools.cached_property
    def traffic(self) -> str:
        """A person, a known bot, or the page's founder (its preview link, or signed in)."""
        return traffic_of(self.request, self.public.page)

    @functools.cached_property
    def device(self) -> str:
        """The device class of the user agent (a known bot's is "other")."""
        if self.traffic == Traffic.BOT:
            return OTHER_DEVICE
        return device_of(self.request.META.get("HTTP_USER_AGENT", ""))

    def record_view(self) -> TrackedEvent:
        """The page view, with the UTM tags, click id and referrer of this request. The first view
        of a visit that says where it came from (`FirstTouch.says_anything`) is the visit's first
        touch: its channel (paid when it ties the visitor to one of the project's campaigns)
        counts every later event of the visit, later views too (a reload, or the way back from
        the pre-order page, must not make a paid visitor direct). No cookie is needed for a
        direct visit that had none (its later events are direct too)."""
        touch = request_touch(self.request)
        channel = self.kept_channel
        if channel is None:
            own_host = self.request.get_host() if touch.referrer else ""
            channel = touch.channel(own_host=own_host, campaigns=self.public.campaigns)
            if touch.says_anything(own_host=own_host):
                self._new_touch = touch
        event = self._record(
            EventKind.VIEW,
            utm=touch.utm_fields(),
            referrer=touch.referrer,
            channel=channel,
            click_platform=touch.click_platform,
        )
        self.channel = event.channel
        return event

    def signup_touch(self, form: Mapping[str, object]) -> SignupTouch:
        """What a signup keeps of the visit: its first touch (the cookie its first page view set;
        the form's fields only when the visit kept none), the channel its events are counted in,
        the visitor's variant, and whether it is the founder's own."""
        touch = kept_touch(self.request) or form_touch(form)
        channel = self.kept_channel
        if channel is None:
            own_host = self.request.get_host() if touch.referrer else ""
            channel = touch.channel(own_host=own_host, campaigns=self.public.campaigns)
        variant = self.variant
        return SignupTouch(
            utm=touch.utm_fields(),
            referrer=touch.referrer,
            click_platform=touch.click_platform,
            click_id=touch.click_id,
            channel=channel,
            variant=variant.key if variant else "",
            traffic=self.traffic,
        )

    def record(
        self,
        kind: str,
        *,
        utm: dict[str, str] | None = None,
        referrer: str = "",
        event_id: str | None = None,
        touch: SignupTouch | None = None,
    ) -> TrackedEvent:
        """An event that follows a page view (beacon, click, pre-order, signup): counted in the
        channel the visit came by; UTM tags and a referrer only when a form carried them, or the
        first touch a signup keeps (`signup_touch`: the event and the row then say the same)."""
        if touch is not None:
            return self._record(
                kind,
                utm=touch["utm"],
                referrer=touch["referrer"],
                channel=touch["channel"],
                click_platform=touch["click_platform"],
                event_id=event_id,
            )
        return self._record(
            kind, utm=utm if utm is not None else {}, referrer=referrer, channel=self.kept_channel, event_id=event_id
        )

    def _record(
        self,
        kind: str,
        *,
        utm: dict[str, str] | None,
        referrer: str | None,
        channel: str | None,
        event_id: str | None = None,
        click_platform: str = "",
    ) -> TrackedEvent:
        experiment_id, variant = self.assignment
        event = make_event(
            self.request,
            page_id=self.public.page.pk,
            kind=kind,
            visitor_hash=self.visitor_hash,
            traffic=self.traffic,
            experiment_id=experiment_id,
            variant=variant.key if variant else "",
            utm=utm,
            referrer=referrer,
            channel=channel,
            event_id=event_id,
            click_platform=click_platform,
            device=self.device,
        )
        record(event)
        return event

    def start_preview(self, token: str) -> bool:
        """The founder's preview link: False unless `token` is this page's. Then `respond` marks
        this browser as the page's owner: its views are counted apart from then on."""
        if preview_page_id(token) != self.public.page.pk:
            return False
        self._previewed = {*previewed_pages(self.request), self.public.page.pk}
        return True

    def respond(self, response: HttpResponse) -> HttpResponse:
        """`response` with the cookies this visit changed: the preview cookie alone after a preview
        link; otherwise the visit's channel and first touch when a page view began them, and the
        visitor's id when it is new."""
        if self._previewed is not None:
            set_preview_cookie(response, self._previewed)
            return response
        if self._new_touch is not None and self.channel is not None:
            # The visit's first touch: kept for its later events and its signup (first wins).
            set_channel_cookie(response, self.channel, path=self.public.path)
            set_first_touch_cookie(response, self._new_touch, path=self.public.path)
        if self.new:
            set_visitor_cookie(response, self.visitor_id)
        return response
