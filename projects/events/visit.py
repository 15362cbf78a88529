"""Event tracking on the landing page's hot path: who the visitor is, which variant they see,
and the event sent to a Redis buffer (no database row per view, no round trip in the request:
a process's events of the last 50 ms go in one pipelined round trip from its background flusher).

The buffer is one Redis stream per page (`XADD`, capped), and a set naming the pages that have
one; `manage.py run_worker` moves the entries into `Event` rows through a consumer group (see
`projects.rollups`); a process adds a page to the set about once a minute, in the same pipeline
as the event. When Redis is away (the breaker is open or the call fails), or in the embedded mode
without Redis, the event is written straight to the database instead: nothing is lost, the page
still answers.

Visitors are a random first-party cookie, signed by the platform (no third-party script, no raw
IP stored); events keep only an HMAC of the id, and clicks and beacons count only for a signed
one. Views of the founder (the preview cookie) and of known bots (user-agent list) are recorded
with their traffic kind and left out of every statistic; people are also asked to prove they run
the page's script (a beacon) or interact before they count in an experiment's results, so a
crawler with a browser's user agent that only fetches HTML does not (the no-JS rule).
"""

import functools
import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.db import DatabaseError, DataError, IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import salted_hmac

from mvpvalidator import background
from mvpvalidator.cache import CacheUnavailable, breaker, call, is_shared, redis_client, state_key
from projects.models import Channel, EventKind, Traffic
from security.sanitize import CONTROL_CHARACTERS

logger = logging.getLogger(__name__)

VISITOR_COOKIE = "mvp_vid"
VISITOR_COOKIE_MAX_AGE = 365 * 24 * 3600
PREVIEW_COOKIE = "mvp_preview"
# The channel of the visit in progress, set by each page view: the visit's later events (beacon,
# click, pre-order, signup) are counted in the channel the visitor came from, not as "direct".
CHANNEL_COOKIE = "mvp_ch"
CHANNELS = frozenset(Channel.values)
PREVIEW_SALT = "projects.preview"
PREVIEW_MAX_AGE = 30 * 24 * 3600

# Redis keys (under the deployment's prefix): the pages with a stream, and each page's stream.
ACTIVE_PAGES_KEY = "ev:pages"
STREAM_PREFIX = "ev:s:"
GROUP = "flushers"


def stream_key(page_id: int) -> str:
    return state_key(f"{STREAM_PREFIX}{page_id}")


def active_pages_key() -> str:
    return state_key(ACTIVE_PAGES_KEY)


# --- Who is visiting ---------------------------------------------------------------------------

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


def traffic_of(request: HttpRequest, page_id: int) -> str:
    if PREVIEW_COOKIE in request.COOKIES and page_id in previewed_pages(request):
        return Traffic.FOUNDER
    if is_bot(request.META.get("HTTP_USER_AGENT", "")):
        return Traffic.BOT
    return Traffic.HUMAN


# --- Where they came from ----------------------------------------------------------------------

PAID_MEDIUMS = frozenset(
    {"cpc", "ppc", "cpm", "paid", "paidsearch", "paid_search", "paid-social", "paid_social", "display", "ads", "ad"}
)
SOCIAL_MEDIUMS = frozenset({"social", "social-network", "social_media", "sm"})
SEARCH_HOSTS = ("google.", "bing.", "duckduckgo.", "yahoo.", "baidu.", "yandex.", "ecosia.", "brave.", "startpage.")
SOCIAL_HOSTS = (
    "facebook.", "instagram.", "t.co", "twitter.", "x.com", "linkedin.", "reddit.", "youtube.", "tiktok.",
    "news.ycombinator.", "pinterest.", "threads.",
)  # fmt: skip
EMAIL_HOSTS = ("mail.", "outlook.", "substack.")


def referrer_host(referrer: str) -> str:
    try:
        host = urlsplit(referrer).hostname or ""
    except ValueError:
        return ""
    return CONTROL_CHARACTERS.sub("", host)[:255]


def channel_of(*, utm_source: str, utm_medium: str, referrer_host: str, own_host: str = "") -> str:
    """The acquisition channel, from the UTM tags first (they are what the founder controls)
    and the referrer otherwise; the rules of GA4's default channel grouping, simplified
    (https://support.google.com/analytics/answer/9756891)."""
    medium, source = utm_medium.lower(), utm_source.lower()
    if medium in PAID_MEDIUMS or medium.startswith(("paid", "cp")):
        return Channel.PAID
    if medium == "email" or source in {"email", "newsletter"}:
        return Channel.EMAIL
    if medium in SOCIAL_MEDIUMS:
        return Channel.SOCIAL
    if medium in {"organic", "search"}:
        return Channel.SEARCH
    if medium or source:
        return Channel.REFERRAL
    host = referrer_host.lower()
    if not host or (own_host and host == own_host.lower()):
        return Channel.DIRECT
    if any(marker in host for marker in SEARCH_HOSTS):
        return Channel.SEARCH
    if any(host == marker.rstrip(".") or marker in host for marker in SOCIAL_HOSTS):
        return Channel.SOCIAL
    if any(host.startswith(marker) for marker in EMAIL_HOSTS):
        return Channel.EMAIL
    return Channel.REFERRAL


# --- Which variant -----------------------------------------------------------------------------


def bucket(visitor: str, seed: str) -> float:
    """A visitor's position in [0, 1) for an experiment: the first 8 bytes of SHA-256 of
    (seed, visitor) as a fraction of 2^64. Uniform, independent between experiments (each has
    its own seed) and the same on every request, so no assignment is stored."""
    digest = hashlib.sha256(f"{seed}:{visitor}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(visitor: str, *, seed: str, coverage: float, weights: list[int]) -> int | None:
    """The index of the visitor's variant, or None when they fall outside the covered share.

    The covered share [0, coverage) is cut into ranges proportional to the weights (as
    GrowthBook's bucket ranges, https://docs.growthbook.io/lib/build-your-own#getbucketranges)."""
    position = bucket(visitor, seed)
    if position >= coverage:
        return None
    total = sum(weights)
    edge = 0.0
    for index, weight in enumerate(weights):
        edge += coverage * weight / total
        if position < edge:
            return index
    return len(weights) - 1  # the last edge may round below `coverage`


# --- The event ---------------------------------------------------------------------------------

UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")


def new_event_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class TrackedEvent:
    # Made where the event happens and kept as the row's unique key, so an event is stored once
    # however it gets there: a batch delivered twice, or a buffer write whose answer was lost in
    # a Redis failure (the view then writes it to the database too) — the second copy is dropped.
    id: str
    page_id: int
    kind: str
    visitor_hash: str
    traffic: str = Traffic.HUMAN
    channel: str = Channel.DIRECT
    experiment_id: int | None = None
    variant: str = ""
    utm: tuple[str, str, str, str, str] = ("", "", "", "", "")
    referrer_host: str = ""
    at: float = 0.0

    def fields(self) -> dict[str, str]:
        """The stream entry: short names, strings only."""
        return {
            "i": self.id,
            "p": str(self.page_id),
            "k": self.kind,
            "v": self.visitor_hash,
            "t": self.traffic,
            "c": self.channel,
            "e": str(self.experiment_id or ""),
            "x": self.variant,
            "u": "\x1f".join(self.utm),
            "r": self.referrer_host,
            "a": f"{self.at:.6f}",
        }

    @classmethod
    def from_fields(cls, raw: dict[Any, Any]) -> "TrackedEvent":
        def get(name: str) -> str:
            value = raw.get(name, raw.get(name.encode(), b""))
            return value.decode() if isinstance(value, bytes) else str(value)

        utm = (get("u").split("\x1f") + [""] * 5)[:5]
        return cls(
            id=get("i"),
            page_id=int(get("p")),
            kind=get("k"),
            visitor_hash=get("v"),
            traffic=get("t"),
            channel=get("c"),
            experiment_id=int(get("e")) if get("e") else None,
            variant=get("x"),
            utm=(utm[0], utm[1], utm[2], utm[3], utm[4]),
            referrer_host=get("r"),
            at=float(get("a")),
        )

    def check(self) -> None:
        """ValueError unless every field is one the `Event` table accepts (buffered entries are
        data from the network's side of Redis: a bad one is dropped, not a failed batch)."""
        if any(
            CONTROL_CHARACTERS.search(text)
            for text in (*self.utm, self.referrer_host, self.variant, self.visitor_hash, self.id)
        ):
            raise ValueError(f"control characters in {self!r}")
        known = self.kind in EventKind.values and self.traffic in Traffic.values and self.channel in CHANNELS
        if not known:
            raise ValueError(f"unknown kind, traffic or channel in {self!r}")
        if (
            not 16 <= len(self.id) <= 64
            or not self.visitor_hash
            or len(self.visitor_hash) > 64
            or len(self.variant) > 32
            or self.page_id <= 0
        ):
            raise ValueError(f"bad visitor, variant or page in {self!r}")

    def model_fields(self) -> dict[str, Any]:
        occurred = datetime.fromtimestamp(self.at, tz=UTC)
        return {
            "page_id": self.page_id,
            "kind": self.kind,
            "visitor_hash": self.visitor_hash,
            "traffic": self.traffic,
            "channel": self.channel,
            "experiment_id": self.experiment_id,
            "variant": self.variant,
            **dict(zip(UTM_FIELDS, self.utm, strict=True)),
            "referrer_host": self.referrer_host,
            "occurred_at": occurred,
            "day": occurred.date(),
        }


def make_event(
    request: HttpRequest,
    *,
    page_id: int,
    kind: str,
    visitor_hash: str,
    experiment_id: int | None,
    variant: str,
    utm: dict[str, str] | None = None,
    referrer: str | None = None,
    channel: str | None = None,
    event_id: str | None = None,
) -> TrackedEvent:
    """The event of this request. UTM tags and the referrer come from the query string and the
    Referer header of a page view, or from the form fields that carried them to a signup; the
    channel from them unless given (the visit's, for the events that follow a page view). An
    `event_id` derived from what may only count once (a form token) makes every copy of the
    event after the first a no-op, as the row's unique key."""
    utm = utm if utm is not None else {name: request.GET.get(name, "") for name in UTM_FIELDS}
    # Control characters out (PostgreSQL refuses NUL in text): these come from anyone's URL.
    tags = tuple(CONTROL_CHARACTERS.sub("", str(utm.get(name, "")))[:200] for name in UTM_FIELDS)
    host = referrer_host(referrer if referrer is not None else request.META.get("HTTP_REFERER", ""))
    return TrackedEvent(
        id=event_id or new_event_id(),
        page_id=page_id,
        kind=kind,
        visitor_hash=visitor_hash,
        traffic=traffic_of(request, page_id),
        channel=channel
        or channel_of(
            utm_source=tags[0], utm_medium=tags[1], referrer_host=host, own_host=request.get_host() if host else ""
        ),
        experiment_id=experiment_id,
        variant=variant,
        utm=(tags[0], tags[1], tags[2], tags[3], tags[4]),
        referrer_host=host,
        at=time.time(),
    )


def record(event: TrackedEvent) -> str:
    """Count the event. With Redis: into this process's outbox, which the background flusher sends
    to the buffer every OUTBOX_FLUSH_SECONDS in one pipelined round trip for all the events it
    holds (or writes them to the database if Redis is away). Without Redis, or while the breaker
    is open: a database row at once. Returns "buffer", "database" or "lost" (the database refused
    it too: logged; the page still answers)."""
    if is_shared() and breaker.state != "open":
        _outbox.add(event)
        return "buffer"
    return "database" if write_direct([event]) else "lost"


# When this process last added each page to the set of pages with a stream. Re-announced once a
# minute, so a stream is found again within a minute even if Redis lost the set (a restart
# without its append-only file): until then its events wait, they are not lost.
ANNOUNCE_EVERY_SECONDS = 60.0
_announced: dict[int, float] = {}
# How often the outbox is sent. Events wait this long in process memory at most (a process
# killed with SIGKILL loses them; a normal exit sends them).
OUTBOX_FLUSH_SECONDS = 0.05
OUTBOX_MAX_EVENTS = 100_000  # beyond this (Redis and the database both away) the oldest are dropped


def _buffer_many(events: list[TrackedEvent]) -> None:
    pipe = redis_client().pipeline(transaction=False)
    maxlen = settings.EVENT_BUFFER_MAXLEN
    now = time.monotonic()
    announce = {
        e.page_id for e in events if now - _announced.get(e.page_id, -ANNOUNCE_EVERY_SECONDS) >= ANNOUNCE_EVERY_SECONDS
    }
    if announce:
        pipe.sadd(active_pages_key(), *announce)
    for event in events:
        pipe.xadd(stream_key(event.page_id), event.fields(), maxlen=maxlen, approximate=True)  # type: ignore[arg-type]
    pipe.execute()
    for page_id in announce:
        _announced[page_id] = now


class _Outbox:
    """This process's events not sent to Redis yet (the background flusher sends them)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[TrackedEvent] = []

    def add(self, event: TrackedEvent) -> None:
        with self.lock:
            self.events.append(event)
            if len(self.events) > OUTBOX_MAX_EVENTS:
                del self.events[: len(self.events) - OUTBOX_MAX_EVENTS]
        background.ensure_started()

    def flush(self) -> None:
        with self.lock:
            events, self.events = self.events, []
        if not events:
            return
        try:
            call(_buffer_many, events)
        except CacheUnavailable:
            # Redis is away: the database keeps them (a pipeline that half ran before failing
            # leaves copies in Redis too; their ids make the second copy a no-op).
            write_direct(events)
            if background.on_flusher_thread():
                from django.db import connection

                connection.close()  # the flusher thread's own connection

    def forked(self) -> None:
        # The parent sends what it held; the child starts empty.
        self.lock = threading.Lock()
        self.events = []


_outbox = _Outbox()


def flush_outbox() -> None:
    """Send this process's pending events now (the worker's commands, and tests, read the buffer
    right after the requests that made them)."""
    _outbox.flush()


def forget_announced() -> None:
    """Announce every page again on its next event (tests that empty Redis between them)."""
    _announced.clear()
    _outbox.flush()


background.register(
    "projects.event_outbox",
    flush=_outbox.flush,
    every=OUTBOX_FLUSH_SECONDS,
    reset=forget_announced,
    forked=_outbox.forked,
)


def insert_events(rows: list[Any]) -> int:
    """Insert `Event` rows (a row already stored, by its key, is skipped). A row the database
    refuses (its page deleted meanwhile, a value it will not take) must not lose the others: the
    batch is then stored row by row and only the refused rows are dropped, with a warning.
    Returns the rows kept; a database that is away raises DatabaseError."""
    from projects.models import Event

    try:
        with transaction.atomic():
            Event.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        return len(rows)
    except (IntegrityError, DataError):
        stored = 0
        for row in rows:
            try:
                with transaction.atomic():
                    Event.objects.bulk_create([row], ignore_conflicts=True)
                stored += 1
            except (IntegrityError, DataError):
                logger.warning("event dropped: the database refused it (%s)", row.key)
        return stored


def write_direct(events: list[TrackedEvent]) -> bool:
    from projects.models import Event

    try:
        return insert_events([Event(key=e.id, **e.model_fields()) for e in events]) > 0
    except DatabaseError:
        logger.exception("event lost: neither Redis nor the database took it (%d events)", len(events))
        return False
