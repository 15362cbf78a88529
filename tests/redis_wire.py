"""The Redis round trips a thread makes, as they go on the wire: every connection's send, whatever
made it (a pipeline, one command, `mvpvalidator.cache.round_trip`), so a test can pin how many
round trips a request costs and what each carries."""

import re
import threading
from dataclasses import dataclass

import pytest

# The head of each command in a send: an array header, then the command's name as a bulk string.
_COMMAND = re.compile(rb"\*\d+\r\n\$\d+\r\n([A-Za-z]+)\r\n")
# What a connection sends as it opens: not a round trip of the caller's.
_OPENING = frozenset({"HELLO", "AUTH", "SELECT", "CLIENT"})


@dataclass(frozen=True)
class Trip:
    commands: tuple[str, ...]
    wire: bytes

    def __str__(self) -> str:
        return "+".join(self.commands)


def round_trips(monkeypatch: pytest.MonkeyPatch) -> list[Trip]:
    """The round trips this thread sends from now on (the flusher's, on its own thread, are not
    the caller's), in order; `monkeypatch.undo()` stops the recording."""
    from redis.connection import AbstractConnection

    trips: list[Trip] = []
    here = threading.get_ident()
    send = AbstractConnection.send_packed_command

    def sent(self, command, check_health=True):
        if threading.get_ident() == here:
            wire = command if isinstance(command, bytes) else b"".join(command)
            names = tuple(name.decode().upper() for name in _COMMAND.findall(wire))
            if names and names[0] not in _OPENING:
                trips.append(Trip(names, wire))
        return send(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", sent)
    return trips
