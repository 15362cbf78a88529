"""The forms' limits (django-ratelimit, counting in `security.ratelimit_cache`): each request is
counted once, refused past the rate, and on Redis a counted request costs one round trip. The
signup form's count goes with its token's binding (`FormCount`): past the limit nothing is
written, whichever way the form went."""

import re
import time

import pytest
from django.test import Client

from projects.models import HeldSignup, Signup
from tests.factories import ProjectFactory, generate_and_publish
from tests.projects.conftest import signup_post_data, visitor_token
from tests.projects.experiments.helpers import BROWSER
from tests.redis_wire import round_trips

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
    client = Client(REMOTE_ADDR="198.51.100.43")
    _signups(client, 1)  # the window's key made
    # django-ratelimit's keys: `<prefix>:<version>:rl:<hex digest>`
    ours = re.compile(rb":rl:[0-9a-f]{32,}\r\n")
    trips = round_trips(monkeypatch)
    statuses = _signups(client, 3)
    assert 429 not in statuses[:2] and statuses[2] == 429, statuses  # the 2nd and 3rd counted, the 4th refused
    counted = [str(trip) for trip in trips if ours.search(trip.wire)]
    assert counted == ["INCR+EXPIRE"] * 3, counted


def _person(address: str) -> Client:
    return Client(REMOTE_ADDR=address, HTTP_USER_AGENT=BROWSER)


def _signed_up(client: Client, *emails: str) -> None:
    for email in emails:
        response = client.post("/p/limited/signup", signup_post_data(client, email=email))
        assert response.status_code == 302, response.status_code


def test_a_form_past_the_limit_writes_nothing_and_is_stored_when_sent_again_once_allowed(page, settings):
    client = _person("198.51.100.44")
    _signed_up(client, "a@example.com", "b@example.com", "c@example.com")
    late = signup_post_data(client, email="late@example.com")
    refused = client.post("/p/limited/signup", late)
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert not Signup.objects.filter(email="late@example.com").exists()
    # A higher rate is a new counter (django-ratelimit's key names the rate): as after the wait.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup": "10/m"}
    assert client.post("/p/limited/signup", late).status_code == 302  # the same form, sent again
    assert Signup.objects.filter(email="late@example.com").count() == 1
    # Its token served that signup: with another address it is refused as any used token is.
    other = client.post("/p/limited/signup", {**late, "email": "other@example.com"})
    assert other.status_code == 400 and "This form was sent already" in other.content.decode()
    assert not Signup.objects.filter(email="other@example.com").exists()


@pytest.mark.redis
def test_a_token_refused_past_the_limit_tells_nothing_of_who_is_on_the_list(page, monkeypatch):
    """The binding made by a refused request's round trip stays. Were it taken back, a request
    with the same token from an address under the limit, slipped in between, would bind and store
    or not by whether the address was listed, and the token's next answer would tell which."""
    from projects.events import cookies
    from security import limits

    def probe(target: str, *, listed: bool, n: int) -> int:
        if listed:
            _signed_up(_person(f"203.0.113.{n}"), target)
        spent = _person(f"198.51.100.{n}")  # the attacker, past the limit from this address
        _signed_up(spent, *(f"spent{n}-{i}@example.com" for i in range(3)))
        fresh = _person(f"192.0.2.{n}")  # and under it from that one, with the same cookie
        fresh.cookies[cookies.VISITOR_COOKIE] = spent.cookies[cookies.VISITOR_COOKIE].value
        data = signup_post_data(spent, email=target)
        answer, between = limits.FormCount.answer, []

        def answer_late(self, count):
            if count is not None and count > self.limit and not between:
                between.append(fresh.post("/p/limited/signup", data).status_code)
            return answer(self, count)

        monkeypatch.setattr(limits.FormCount, "answer", answer_late)
        assert spent.post("/p/limited/signup", data).status_code == 429
        monkeypatch.setattr(limits.FormCount, "answer", answer)
        assert between == [302]
        return fresh.post("/p/limited/signup", {**data, "email": f"probe{n}@example.com"}).status_code

    assert probe("listed@example.com", listed=True, n=10) == probe("unlisted@example.com", listed=False, n=20) == 400


def test_a_doubted_form_past_the_limit_leaves_no_held_row(page):
    client = _person("198.51.100.45")

    def too_fast(email: str) -> int:  # a token rendered this very second: held for a confirm button
        data = signup_post_data(client, email=email, form_token=visitor_token(client, issued_at=time.time()))
        return client.post("/p/limited/signup", data).status_code

    assert too_fast("quick@example.com") == 202 and HeldSignup.objects.count() == 1
    _signed_up(client, "a@example.com", "b@example.com")
    assert too_fast("quicker@example.com") == 429
    assert HeldSignup.objects.count() == 1


def test_the_form_and_its_confirm_step_share_one_limit(page):
    """The form's count goes with its round trip, the confirm step's through django-ratelimit:
    one counter all the same."""
    client = _person("198.51.100.46")
    data = signup_post_data(client, email="held@example.com", form_token=visitor_token(client, issued_at=time.time()))
    held = client.post("/p/limited/signup", data)  # 1
    assert held.status_code == 202
    hold = re.search(r'name="hold" value="([^"]+)"', held.content.decode())
    assert hold is not None
    assert client.post("/p/limited/signup/confirm", {"hold": hold.group(1)}).status_code == 302  # 2
    _signed_up(client, "third@example.com")  # 3
    assert client.post("/p/limited/signup", signup_post_data(client, email="fourth@example.com")).status_code == 429
    assert sorted(Signup.objects.values_list("email", flat=True)) == ["held@example.com", "third@example.com"]


def test_a_form_sent_to_no_page_is_counted_too(page):
    client = _person("198.51.100.47")
    assert [client.post("/p/nowhere/signup", {"email": "x@example.com"}).status_code for _ in range(3)] == [404] * 3
    assert client.post("/p/limited/signup", signup_post_data(client, email="x@example.com")).status_code == 429


def test_a_form_past_the_limit_is_refused_before_a_page_is_rendered_for_its_errors(page):
    client = _person("198.51.100.48")
    _signed_up(client, "a@example.com", "b@example.com", "c@example.com")
    refused = client.post("/p/limited/signup", signup_post_data(client, email="not an address"))
    assert refused.status_code == 429
    assert "projects/landing.html" not in [t.name for t in refused.templates]  # no page rendered for nothing


@pytest.mark.parametrize("kind", ["valid", "doubted", "invalid", "other browser", "no cookie"])
def test_past_the_limit_no_form_writes_a_row(page, kind):
    """Whatever the form holds, a request past the limit is answered 429 before any write (but
    the refusal's own security event)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = _person("198.51.100.49")
    _signed_up(client, "a@example.com", "b@example.com", "c@example.com")
    data = {
        "valid": lambda: signup_post_data(client, email="v@example.com"),
        "doubted": lambda: signup_post_data(
            client, email="d@example.com", form_token=visitor_token(client, issued_at=time.time())
        ),
        "invalid": lambda: signup_post_data(client, email="not an address"),
        "other browser": lambda: signup_post_data(client, email="o@example.com", form_token=visitor_token(Client())),
        "no cookie": lambda: signup_post_data(Client(), email="n@example.com"),
    }[kind]()
    if kind == "no cookie":
        client.cookies.clear()
    with CaptureQueriesContext(connection) as queries:
        assert client.post("/p/limited/signup", data).status_code == 429
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        and "security_securityevent" not in q["sql"]
    ]
    assert writes == []
