"""What a signup asks of Redis, and the signup form's rate limit through HTTP.

A stored signup makes one round trip to Redis, before the INSERT: the form's rate-limit counter
(INCR and EXPIRE NX) with the form token's binding (SET NX GET) in one pipeline. The bump of the
founder's figures' cache generation (SET NX and INCR), due once the INSERT commits, rides with the
process's next round trip, or is sent by the background flusher within a tick. The limit still
refuses past its rate, answers the 429 the other limits answer, and lets signups through when
Redis is away (`RATELIMIT_FAIL_OPEN`) or refuses them when told to fail closed.
"""

import itertools
import threading
import time

import pytest
from django.test import Client

from mvpvalidator import background
from mvpvalidator import cache as app_cache
from projects.cache import project_ns
from projects.models import HeldSignup, Signup
from tests.projects.conftest import signup_post_data, visitor_token

pytestmark = pytest.mark.django_db

# The limits below count per day: a fixed window that rolled over mid-test would forget the count.

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131 Safari/537.36"


# Tokens rendered at distinct seconds from one fixed start, so no two are alike however slowly
# the test runs (a token serves one signup).
_RENDERED_AT = time.time() - 100
_rendered = itertools.count()


def _form(visitor: Client, email: str, **fields: str) -> dict:
    token = visitor_token(visitor, issued_at=_RENDERED_AT - next(_rendered))
    return signup_post_data(visitor, email=email, form_token=token, **fields)


def _visitor(ip: str = "203.0.113.40") -> Client:
    visitor = Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR=ip)
    assert visitor.get("/p/chaser/").status_code == 200
    return visitor


@pytest.fixture
def round_trips(monkeypatch):
    """Every round trip this thread makes to Redis, as the commands it carried: a command sent
    alone is one, a pipeline is one however many commands it holds (the background flusher's
    own, on its thread, are not the request's)."""
    import redis

    trips: list[tuple[str, ...]] = []
    here = threading.get_ident()
    send_one, send_pipeline = redis.Redis.execute_command, redis.client.Pipeline.execute

    def one(self, *args, **options):
        if threading.get_ident() == here:
            trips.append((str(args[0]).upper(),))
        return send_one(self, *args, **options)

    def pipeline(self, *args, **options):
        if threading.get_ident() == here:
            trips.append(tuple(str(command[0][0]).upper() for command in self.command_stack))
        return send_pipeline(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", one)
    monkeypatch.setattr(redis.client.Pipeline, "execute", pipeline)
    return trips


def _generation(project_id: int) -> int:
    """The project's cache generation as Redis holds it (read raw: reading it through the cache
    layer would first send this process's deferred bumps)."""
    key = app_cache.raw_key(app_cache.GENERATION_PREFIX + project_ns(project_id))
    return int(app_cache.redis_client().get(key) or 0)


@pytest.mark.redis
def test_a_stored_signup_makes_one_round_trip_and_its_bump_rides_with_the_next(live_page, round_trips):
    visitor = _visitor()
    # The page's cached data and generations are read by the page view above (and re-read at
    # most once a second): what follows is the signup's own.
    before = _generation(live_page.project_id)
    with background.paused():  # the flusher would send the bump a tick later otherwise
        del round_trips[:]
        assert visitor.post("/p/chaser/signup", _form(visitor, "trips@example.com")).status_code == 302
        assert Signup.objects.filter(email="trips@example.com").exists()
        # The limit's count and the token's binding; the figures' bump waits for the next trip.
        assert round_trips == [("INCRBY", "EXPIRE", "SET")], round_trips
        assert _generation(live_page.project_id) == before
        del round_trips[:]
        assert visitor.post("/p/chaser/signup", _form(visitor, "next@example.com")).status_code == 302
        # The next form's count carries it (SET NX from the clock, INCR), before its own binding.
        assert round_trips == [("INCRBY", "EXPIRE", "SET", "INCRBY", "SET")], round_trips
    assert _generation(live_page.project_id) > before


@pytest.mark.redis
def test_a_signups_bump_is_sent_within_a_tick_when_no_form_comes_next(live_page):
    visitor = _visitor()
    before = _generation(live_page.project_id)
    assert visitor.post("/p/chaser/signup", _form(visitor, "alone@example.com")).status_code == 302
    deadline = time.monotonic() + 2  # the flusher's tick is 50 ms
    while _generation(live_page.project_id) == before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _generation(live_page.project_id) > before


@pytest.mark.redis
def test_a_held_or_invalid_form_is_counted_in_one_round_trip_and_binds_no_token(live_page, round_trips):
    visitor = _visitor()
    del round_trips[:]
    # The honeypot filled: held for a confirm step, counted against the limit, no token bound.
    held = visitor.post("/p/chaser/signup", _form(visitor, "held@example.com", website="x"))
    assert held.status_code == 202 and HeldSignup.objects.count() == 1
    assert round_trips == [("INCRBY", "EXPIRE")], round_trips
    # Not an address: shown again with the error, counted first, nothing bound (the security
    # layer counts the 400 among the client's errors after, in a round trip of its own).
    del round_trips[:]
    invalid = visitor.post("/p/chaser/signup", _form(visitor, "not-an-address"))
    assert invalid.status_code == 400
    assert round_trips[0] == ("INCRBY", "EXPIRE") and not any("SET" in trip for trip in round_trips), round_trips
    assert not Signup.objects.exists()


def _signups(visitor: Client, count: int, prefix: str) -> list[int]:
    return [
        visitor.post("/p/chaser/signup", _form(visitor, f"{prefix}{n}@example.com")).status_code for n in range(count)
    ]


def test_the_form_limit_refuses_past_its_rate_with_the_429_and_stores_nothing(live_page, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup": "2/d"}
    visitor = _visitor()
    assert _signups(visitor, 3, "limit") == [302, 302, 429]
    refused = visitor.post("/p/chaser/signup", _form(visitor, "later@example.com"))
    assert refused.status_code == 429 and b"Too many requests" in refused.content
    assert int(refused["Retry-After"]) >= 1 and refused["RateLimit-Limit"] == "2"
    assert refused["RateLimit-Remaining"] == "0" and int(refused["RateLimit-Reset"]) >= 1
    assert sorted(Signup.objects.values_list("email", flat=True)) == ["limit0@example.com", "limit1@example.com"]
    # Per client address: another one signs up.
    assert _signups(_visitor("203.0.113.41"), 1, "other") == [302]


def test_every_kind_of_submission_counts_against_the_same_limit(live_page, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup": "3/d"}
    visitor = _visitor()
    assert visitor.post("/p/chaser/signup", _form(visitor, "not-an-address")).status_code == 400
    assert visitor.post("/p/no-such-page/signup", _form(visitor, "nobody@example.com")).status_code == 404
    assert visitor.post("/p/chaser/signup", _form(visitor, "bot@example.com", website="bot")).status_code == 202
    assert _signups(visitor, 1, "fourth") == [429]
    assert visitor.post("/p/no-such-page/signup", _form(visitor, "nobody@example.com")).status_code == 429
    assert not Signup.objects.exists() and HeldSignup.objects.count() == 1


def test_the_confirm_step_shares_the_signup_limit(live_page, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup": "1/d"}
    visitor = _visitor()
    assert _signups(visitor, 1, "first") == [302]
    assert visitor.post("/p/chaser/signup/confirm", {"hold": "anything"}).status_code == 429


@pytest.mark.redis
def test_with_redis_away_the_limit_fails_open_and_the_signup_is_stored(live_page, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup": "1/d"}
    visitor = _visitor()
    for _ in range(3):
        app_cache.breaker.record_failure(OSError("down"))
    try:
        assert _signups(visitor, 3, "away") == [302, 302, 302]
    finally:
        app_cache.breaker.reset()
    assert Signup.objects.count() == 3


@pytest.mark.redis
def test_with_redis_away_and_fail_open_off_the_form_is_refused(live_page, settings):
    settings.RATELIMIT_FAIL_OPEN = False
    visitor = _visitor()
    for _ in range(3):
        app_cache.breaker.record_failure(OSError("down"))
    try:
        refused = visitor.post("/p/chaser/signup", _form(visitor, "closed@example.com"))
    finally:
        app_cache.breaker.reset()
    assert refused.status_code == 429 and refused["Retry-After"] == "1"
    assert not Signup.objects.exists()
