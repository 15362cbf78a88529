"""`mvpvalidator.cache.round_trip`: commands in one round trip on a connection the thread keeps,
what happens to that connection when something goes wrong, and that nothing runs twice unless
the server never ran it."""

import re
import socket
import threading

import pytest
import redis
from django.conf import settings
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from mvpvalidator import background
from mvpvalidator.cache import backend, raw_key, redis_client, round_trip
from tests.redis_wire import round_trips

pytestmark = pytest.mark.redis

COMMAND = re.compile(rb"\*\d+\r\n\$\d+\r\n([A-Za-z]+)\r\n")


def _kept_connection():
    """The connection this thread keeps for the cache's server (None: none kept)."""
    entry = backend._kept.connections.get(id(redis_client().connection_pool))
    return entry[1] if entry is not None else None


@pytest.fixture(autouse=True)
def fresh_connection():
    backend._forget_kept()
    yield
    for _, kept in backend._kept.connections.values():
        kept.disconnect()
    backend._forget_kept()


def test_the_replies_come_in_order_in_one_round_trip(monkeypatch):
    key = raw_key("round-trip:order")
    redis_client().delete(key)
    trips = round_trips(monkeypatch)
    assert round_trip(("INCR", key), ("EXPIRE", key, 60, "NX"), ("GET", key)) == [1, 1, b"1"]
    assert [str(t) for t in trips] == ["INCR+EXPIRE+GET"]
    assert round_trip(("INCR", key))[0] == 2  # the same connection, kept


def test_an_error_reply_raises_and_the_next_caller_reads_only_its_own_replies():
    key = raw_key("round-trip:error")
    redis_client().set(key, "not a number")
    with pytest.raises(ResponseError):
        round_trip(("INCR", key), ("SET", key, "x"), ("GET", key))
    assert _kept_connection() is None  # dropped: its unread replies go with it
    assert round_trip(("GET", key)) == [b"x"]  # the commands after the error did run


def test_a_kept_connection_the_server_closed_fails_once_and_nothing_is_sent_twice():
    """A restart of the server closes the kept connection: its next call fails (the breaker's
    caller takes Redis as away for that call) and the one after opens a new connection. Nothing
    is sent again: commands that may have run are not run twice."""
    key = raw_key("round-trip:killed")
    redis_client().delete(key)
    assert round_trip(("INCR", key)) == [1]
    own_id = round_trip(("CLIENT", "ID"))[0]
    redis_client().client_kill_filter(_id=own_id)  # as a restart of the server would
    with pytest.raises(RedisConnectionError):
        round_trip(("INCR", key))
    assert _kept_connection() is None
    assert round_trip(("INCR", key)) == [2]  # the failed call's INCR never ran
    assert round_trip(("CLIENT", "ID"))[0] != own_id


def test_no_command_is_no_round_trip(monkeypatch):
    trips = round_trips(monkeypatch)
    assert round_trip() == []
    assert trips == []


def test_each_thread_keeps_a_connection_of_its_own():
    mine = round_trip(("CLIENT", "ID"))[0]
    theirs: list[int] = []
    thread = threading.Thread(target=lambda: theirs.append(round_trip(("CLIENT", "ID"))[0]))
    thread.start()
    thread.join()
    assert theirs and theirs[0] != mine


def test_another_servers_client_gets_a_connection_of_its_own():
    """The event buffer may have a server of its own (`EVENTS_REDIS_URL`): its round trips go on
    the connection kept for its client, not the cache's."""
    other = redis.Redis.from_url(settings.REDIS_URL)  # another client (pool) of the same server here
    cache_id = round_trip(("CLIENT", "ID"))[0]
    other_id = round_trip(("CLIENT", "ID"), client=other)[0]
    assert other_id != cache_id
    assert round_trip(("CLIENT", "ID"), client=other)[0] == other_id  # kept
    assert round_trip(("CLIENT", "ID"))[0] == cache_id


def test_a_forked_child_opens_its_own_connection():
    round_trip(("PING",))
    assert _kept_connection() is not None
    hook = next(t.forked for t in background.tasks() if t.name == "cache.kept_connection")
    hook()  # what runs in a forked child
    assert _kept_connection() is None


def test_a_timeout_is_not_sent_again():
    """A server that takes the commands and does not answer: the caller gets the timeout, and the
    commands went once (they may have run: an INCR sent again would count twice). The server
    answers what a connection sends as it opens, and nothing after."""
    received: list[bytes] = []
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]

        def answers_the_opening_only() -> None:
            connection, _ = server.accept()
            with connection:
                connection.settimeout(2)
                try:
                    while chunk := connection.recv(65536):
                        received.append(chunk)
                        opening = [n for n in COMMAND.findall(chunk) if n.upper() != b"INCR"]
                        connection.sendall(b"+OK\r\n" * len(opening))
                except TimeoutError:
                    pass

        listener = threading.Thread(target=answers_the_opening_only, daemon=True)
        listener.start()
        silent = redis.Connection(host="127.0.0.1", port=port, socket_timeout=0.3, protocol=2)
        pool = redis_client().connection_pool
        backend._kept.connections[id(pool)] = (pool, silent)
        with pytest.raises(RedisTimeoutError):
            round_trip(("INCR", "counted-once"))
        listener.join(timeout=5)
    assert COMMAND.findall(b"".join(received)).count(b"INCR") == 1
    assert _kept_connection() is None
