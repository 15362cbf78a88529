"""The process's outbox of events on their way to Redis: a flush returns once what was waiting
is sent, even when the flusher thread was already sending it (the live analytics and the
worker's commands flush, then read the buffer)."""

import threading

import pytest

from mvpvalidator.cache import redis_client
from projects.events import buffer
from tests.redis_wire import round_trips


def test_a_flush_waits_for_a_send_already_under_way(monkeypatch):
    outbox = buffer._Outbox()
    sending, release, sent = threading.Event(), threading.Event(), []

    def slow_send(events):
        sending.set()
        assert release.wait(5)
        sent.extend(events)

    monkeypatch.setattr(buffer, "events_call", lambda fn, *args: fn(*args))
    monkeypatch.setattr(buffer, "_buffer_many", slow_send)
    monkeypatch.setattr(buffer.background, "ensure_started", lambda: None)
    outbox.add("a click")  # what the outbox holds is opaque to it
    flusher = threading.Thread(target=outbox.flush)  # the flusher's tick takes it and sends
    flusher.start()
    assert sending.wait(5)
    reader_done = threading.Event()
    reader = threading.Thread(target=lambda: (outbox.flush(), reader_done.set()))
    reader.start()
    assert not reader_done.wait(0.3)  # nothing left to take, but the click is not in Redis yet
    release.set()
    flusher.join(5)
    reader.join(5)
    assert reader_done.is_set() and sent == ["a click"]


def _event(**fields) -> buffer.TrackedEvent:
    return buffer.TrackedEvent(id=fields.pop("id", "e1"), page_id=7, kind="view", visitor_hash="v" * 32, **fields)


def test_a_stream_entry_leaves_out_its_blank_fields_and_reads_back_the_same():
    plain = _event(at=1.5)
    assert set(plain.fields()) == {"i", "p", "k", "v", "t", "c", "a"}
    full = _event(
        at=2.25,
        experiment_id=3,
        variant="b",
        utm=("google", "cpc", "", "", ""),
        referrer_host="www.google.com",
        click_platform="google",
        device="mobile",
        channel="paid",
    )
    for event in (plain, full):
        assert buffer.TrackedEvent.from_fields(event.fields()) == event
        wire = {k.encode(): v.encode() for k, v in event.fields().items()}  # as Redis answers
        assert buffer.TrackedEvent.from_fields(wire) == event
    # An entry buffered before blank fields were left out reads the same.
    older = {**plain.fields(), "e": "", "x": "", "u": "\x1f\x1f\x1f\x1f", "r": "", "g": "", "d": ""}
    assert buffer.TrackedEvent.from_fields(older) == plain


@pytest.mark.redis
def test_the_outbox_goes_to_redis_in_one_round_trip(monkeypatch):
    from mvpvalidator import background

    events = [_event(id=f"e{n}", at=float(n)) for n in range(3)]
    buffer.forget_announced()
    with background.quiet():
        trips = round_trips(monkeypatch)
        buffer._buffer_many(events)
    assert [str(t) for t in trips] == ["XADD+XADD+XADD+SADD"], trips
    stored = redis_client().xrange(buffer.stream_key(7))
    assert [buffer.TrackedEvent.from_fields(fields) for _, fields in stored][-3:] == events


@pytest.mark.redis
def test_a_large_outbox_goes_in_round_trips_of_a_bounded_size(monkeypatch):
    """A batch held through an outage goes in several round trips, each within the socket's
    timeout (one send of the whole batch could take longer)."""
    from mvpvalidator import background

    monkeypatch.setattr(buffer, "ROUND_TRIP_EVENTS", 2)
    events = [_event(id=f"b{n}", at=float(n)) for n in range(4)]
    buffer.forget_announced()
    with background.quiet():
        trips = round_trips(monkeypatch)
        buffer._buffer_many(events)
    assert [str(t) for t in trips] == ["XADD+XADD", "XADD+XADD", "SADD"], trips
    stored = redis_client().xrange(buffer.stream_key(7))
    assert [buffer.TrackedEvent.from_fields(fields) for _, fields in stored][-4:] == events
