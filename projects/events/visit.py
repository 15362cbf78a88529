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

The cookies it reads and writes are in `projects.events.cookies` (the visitor's id, the preview
mark, the visit's channel) and `projects.events.touch` (the visit's first touch).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, TypedDict

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from projects.analysis.channels import FirstTouch
from projects.analysis.devices import OTHER as OTHER_DEVICE
from projects.analysis.devices import device_of
from projects.events.buffer import TrackedEvent, make_event, record
from projects.events.cookies import (
    PREVIEW_COOKIE,
    VisitorCookie,
    preview_page_id,
    previewed_pages,
    set_channel_cookie,
    set_preview_cookie,
    set_visitor_cookie,
    visit_channel,
    visitor_cookie,
)
from projects.events.touch import form_touch, kept_touch, request_touch, set_first_touch_cookie
from projects.models import EventKind, Traffic
from security.hashing import hash_identifier

if TYPE_CHECKING:
    from projects.models import LandingPage
    from projects.selectors.pages import LiveVariant, PublicPage

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

    def signup_touch(self, sent: Mapping[str, object]) -> SignupTouch:
        """What a signup keeps of the visit: its first touch (the cookie its first page view set;
        what the form `sent` carried, `forms.public.CARRIED_FIELDS`, only when the visit kept
        none), the channel its events are counted in, the visitor's variant, and whether it is the
        founder's own."""
        touch = kept_touch(self.request) or form_touch(sent)
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
