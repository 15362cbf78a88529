"""The event on the landing page's hot path, and the Redis buffer it is sent to (no database row
per view, no round trip in the request: a process's events of the last 50 ms go in one
round trip from its background flusher).

The buffer is one Redis stream per page (`XADD`, capped), and a set naming the pages that have
one; `manage.py run_worker` moves the entries into `Event` rows through a consumer group (see
`projects.events.ingest`); a process adds a page to the set about once a minute, in the same
round trip as the event, and a worker removes a page that has gone quiet. When Redis is away (the
breaker is open or the call fails), or in the embedded mode without Redis, the event is written
straight to the database instead: nothing is lost, the page still answers.
"""

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError, DataError, IntegrityError, OperationalError, transaction
from django.http import HttpRequest

from mvpvalidator import background
from mvpvalidator.cache import CacheUnavailable, round_trip, state_key
from mvpvalidator.cache.backend import events_call, events_guard, events_redis_client, events_shared
from mvpvalidator.control_characters import CONTROL_CHARACTERS
from projects.analysis.channels import CHANNELS, CLICK_PLATFORMS, UTM_FIELDS, channel_of, referrer_host
from projects.analysis.devices import DEVICES
from projects.events import shards
from projects.models import Channel, EventKind, Traffic

logger = logging.getLogger(__name__)

# Redis keys (under the deployment's prefix, in the state key space: no cache operation reaches
# them), on the server of EVENTS_REDIS_URL: the pages with a stream, and each page's stream.
ACTIVE_PAGES_KEY = "ev:pages"
STREAM_PREFIX = "ev:s:"
GROUP = "flushers"


def stream_key(page_id: int) -> str:
    return state_key(f"{STREAM_PREFIX}{page_id}")


def active_pages_key() -> str:
    return state_key(ACTIVE_PAGES_KEY)


# --- The event ---------------------------------------------------------------------------------


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
    click_platform: str = ""
    device: str = ""  # the visit's device class (`projects.analysis.devices`)

    def fields(self) -> dict[str, str]:
        """The stream entry: short names, strings only; a blank optional field is left out (most
        events have no experiment, tags, referrer or click id), and `from_fields` reads it blank."""
        entry = {
            "i": self.id,
            "p": str(self.page_id),
            "k": self.kind,
            "v": self.visitor_hash,
            "t": self.traffic,
            "c": self.channel,
            "a": f"{self.at:.6f}",
        }
        optional = {
            "e": str(self.experiment_id or ""),
            "x": self.variant,
            "u": "\x1f".join(self.utm) if any(self.utm) else "",
            "r": self.referrer_host,
            "g": self.click_platform,
            "d": self.device,
        }
        entry.update((name, value) for name, value in optional.items() if value)
        return entry

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
            click_platform=get("g"),  # absent from entries buffered before it existed: none
            device=get("d"),  # likewise: blank
        )

    def check(self) -> None:
        """ValueError unless every field is one the `Event` table accepts (buffered entries are
        data from the network's side of Redis: a bad one is dropped, not a failed batch)."""
        if any(
            CONTROL_CHARACTERS.search(text)
            for text in (*self.utm, self.referrer_host, self.variant, self.visitor_hash, self.id)
        ):
            raise ValueError(f"control characters in {self!r}")
        known = (
            self.kind in EventKind.values
            and self.traffic in Traffic.values
            and self.channel in CHANNELS
            and (not self.click_platform or self.click_platform in CLICK_PLATFORMS)
            and (not self.device or self.device in DEVICES)
        )
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
            "click_platform": self.click_platform,
            "device": self.device,
            "occurred_at": occurred,
            "day": occurred.date(),
        }


def make_event(
    request: HttpRequest,
    *,
    page_id: int,
    kind: str,
    visitor_hash: str,
    traffic: str,
    experiment_id: int | None,
    variant: str,
    utm: dict[str, str] | None = None,
    referrer: str | None = None,
    channel: str | None = None,
    event_id: str | None = None,
    click_platform: str = "",
    device: str = "",
) -> TrackedEvent:
    """The event of this request (its traffic kind is the visit's: `projects.events.visit`).
    UTM tags and the referrer come from the query string and the Referer header of a page view,
    or from the form fields that carried them to a signup; the channel from them unless given
    (the visit's, for the events that follow a page view). An `event_id` derived from what may
    only count once (a form token) makes every copy of the event after the first a no-op, as the
    row's unique key."""
    utm = utm if utm is not None else {name: request.GET.get(name, "") for name in UTM_FIELDS}
    # Control characters out (PostgreSQL refuses NUL in text): these come from anyone's URL.
    tags = tuple(CONTROL_CHARACTERS.sub("", str(utm.get(name, "")))[:200] for name in UTM_FIELDS)
    host = referrer_host(referrer if referrer is not None else request.META.get("HTTP_REFERER", ""))
    return TrackedEvent(
        id=event_id or new_event_id(),
        page_id=page_id,
        kind=kind,
        visitor_hash=visitor_hash,
        traffic=traffic,
        channel=channel
        or channel_of(
            utm_source=tags[0], utm_medium=tags[1], referrer_host=host, own_host=request.get_host() if host else ""
        ),
        experiment_id=experiment_id,
        variant=variant,
        utm=(tags[0], tags[1], tags[2], tags[3], tags[4]),
        referrer_host=host,
        at=time.time(),
        click_platform=click_platform,
        device=device,
    )


# --- The buffer --------------------------------------------------------------------------------


def record(event: TrackedEvent) -> str:
    """Count the event. With Redis: into this process's outbox, which the background flusher sends
    to the buffer every OUTBOX_FLUSH_SECONDS in one round trip for all the events it
    holds (or writes them to the database if Redis is away). Without Redis, or while the breaker
    is open: a database row at once. Returns "buffer", "database" or "lost" (the database refused
    it too: logged; the page still answers)."""
    if events_shared() and events_guard().state != "open":
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


# XADDs in one round trip at most: a batch held through an outage of Redis and the database
# (up to OUTBOX_MAX_EVENTS) goes in several, each well within the socket's timeout.
ROUND_TRIP_EVENTS = 1_000


def _buffer_many(events: list[TrackedEvent]) -> None:
    """The outbox's events into their pages' streams (XADD, capped at about EVENT_BUFFER_MAXLEN
    entries), in one round trip a ROUND_TRIP_EVENTS (`round_trip`: the flusher sends one every
    tick)."""
    maxlen = settings.EVENT_BUFFER_MAXLEN
    now = time.monotonic()
    announce = {
        e.page_id for e in events if now - _announced.get(e.page_id, -ANNOUNCE_EVERY_SECONDS) >= ANNOUNCE_EVERY_SECONDS
    }
    keys = {page_id: stream_key(page_id) for page_id in {e.page_id for e in events}}
    commands: list[tuple[Any, ...]] = []
    for event in events:
        entry = [part for field in event.fields().items() for part in field]
        commands.append(("XADD", keys[event.page_id], "MAXLEN", "~", maxlen, "*", *entry))
    if announce:
        # After the entries: a worker that forgets a quiet page (`ingest.forget_quiet_pages`)
        # between the two finds the new entry and keeps it, or forgets it just before the set
        # has it again.
        commands.append(("SADD", active_pages_key(), *announce))
    client = events_redis_client()
    for start in range(0, len(commands), ROUND_TRIP_EVENTS):
        round_trip(*commands[start : start + ROUND_TRIP_EVENTS], client=client)
    for page_id in announce:
        _announced[page_id] = now


class _Outbox:
    """This process's events not sent to Redis yet (the background flusher sends them)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # One send at a time: a flush returns once what was waiting when it began is in Redis,
        # even when the flusher thread had taken those events and was still sending them (a
        # reader that flushed, then read the buffer, would otherwise miss them).
        self.sending = threading.RLock()
        self.events: list[TrackedEvent] = []

    def add(self, event: TrackedEvent) -> None:
        with self.lock:
            self.events.append(event)
            if len(self.events) > OUTBOX_MAX_EVENTS:
                del self.events[: len(self.events) - OUTBOX_MAX_EVENTS]
        background.ensure_started()

    def flush(self) -> None:
        with self.sending:
            with self.lock:
                events, self.events = self.events, []
            if not events:
                return
            try:
                events_call(_buffer_many, events)
            except CacheUnavailable:
                # Redis is away: the database keeps them (a round trip that half ran before failing
                # leaves copies in Redis too; their ids make the second copy a no-op).
                write_direct(events)
                if background.on_flusher_thread():
                    from django.db import connection

                    connection.close()  # the flusher thread's own connection

    def forked(self) -> None:
        # The parent sends what it held; the child starts empty.
        self.lock = threading.Lock()
        self.sending = threading.RLock()
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


# --- The database fallback ---------------------------------------------------------------------


def insert_events(rows: list[Any]) -> int:
    """Insert `Event` rows (a row already stored, by its key, is skipped), numbered in their
    shards' sequences in the same transaction (`shards.number`: the rollup's order). A row the
    database refuses (its page deleted meanwhile, a value it will not take) must not lose the
    others: the batch is then stored row by row and only the refused rows are dropped, with a
    warning. Returns the rows kept; a database that is away raises DatabaseError."""
    from projects.models import Event

    try:
        with transaction.atomic():
            shards.number(rows)
            Event.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        return len(rows)
    except (IntegrityError, DataError):
        stored = 0
        for row in rows:
            try:
                with transaction.atomic():
                    shards.number([row])
                    Event.objects.bulk_create([row], ignore_conflicts=True)
                stored += 1
            except (IntegrityError, DataError):
                logger.warning("event dropped: the database refused it (%s)", row.key)
        return stored


# SQLite (the embedded default) answers a write that meets another's lock with "database is
# locked" (or "database table is locked" for a shared in-memory database) instead of waiting: a
# few short waits let the other transaction finish rather than lose the events.
LOCKED_RETRIES = (0.05, 0.1, 0.2, 0.4)


def _locked(exc: DatabaseError) -> bool:
    return isinstance(exc, OperationalError) and "locked" in str(exc)


def write_direct(events: list[TrackedEvent]) -> bool:
    from projects.models import Event

    rows = [Event(key=e.id, **e.model_fields()) for e in events]
    for pause in (*LOCKED_RETRIES, None):
        try:
            return insert_events(rows) > 0
        except DatabaseError as exc:
            if pause is None or not _locked(exc):
                logger.exception("event lost: neither Redis nor the database took it (%d events)", len(events))
                return False
            time.sleep(pause)
    return False  # not reached: the last pause is None
