"""The process's outbox of events on their way to Redis: a flush returns once what was waiting
is sent, even when the flusher thread was already sending it (the live analytics and the
worker's commands flush, then read the buffer)."""

import threading

from projects.events import buffer


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
