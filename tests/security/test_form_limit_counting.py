"""The forms' limits (django-ratelimit, counting in `security.ratelimit_cache`): each request is
counted once, refused past the rate, and on Redis a counted request costs one round trip."""

import re
import threading

import pytest
from django.test import Client

from tests.factories import ProjectFactory, generate_and_publish

pytestmark = pytest.mark.django_db


def _signups(client: Client, n: int) -> list[int]:
    return [client.post("/p/limited/signup", {"email": f"f{i}@example.com"}).status_code for i in range(n)]


@pytest.fixture
def page(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup": "3/m"}
    generate_and_publish(ProjectFactory(), slug="limited")


def test_the_form_takes_its_rate_from_an_address_then_refuses_it(page):
    first, other = Client(REMOTE_ADDR="198.51.100.41"), Client(REMOTE_ADDR="198.51.100.42")
    assert 429 not in _signups(first, 3)
    refused = first.post("/p/limited/signup", {"email": "late@example.com"})
    assert refused.status_code == 429 and refused["Retry-After"]
    assert 429 not in _signups(other, 3)  # per address


@pytest.mark.redis
def test_a_counted_request_makes_one_round_trip_for_its_count(page, monkeypatch):
    import redis

    client = Client(REMOTE_ADDR="198.51.100.43")
    _signups(client, 1)  # the window's key made
    counted: list[str] = []
    here = threading.get_ident()
    send_pipeline = redis.client.Pipeline.execute
    send_one = redis.Redis.execute_command

    def ours(key) -> bool:  # django-ratelimit's keys: `<prefix>:<version>:rl:<hex digest>`
        return re.search(r":rl:[0-9a-f]{32,}$", key.decode() if isinstance(key, bytes) else str(key)) is not None

    def pipeline(self, *args, **options):
        if threading.get_ident() == here and any(len(c[0]) > 1 and ours(c[0][1]) for c in self.command_stack):
            counted.append("+".join(str(c[0][0]) for c in self.command_stack))
        return send_pipeline(self, *args, **options)

    def one(self, *args, **options):
        if threading.get_ident() == here and len(args) > 1 and ours(args[1]):
            counted.append(str(args[0]))
        return send_one(self, *args, **options)

    monkeypatch.setattr(redis.client.Pipeline, "execute", pipeline)
    monkeypatch.setattr(redis.Redis, "execute_command", one)
    statuses = _signups(client, 3)
    assert 429 not in statuses[:2] and statuses[2] == 429, statuses  # the 2nd and 3rd counted, the 4th refused
    assert counted == ["INCRBY+EXPIRE"] * 3, counted  # redis-py sends INCR as INCRBY
