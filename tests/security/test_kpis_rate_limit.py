"""The rate-limit effectiveness KPI from the outside: an address hammers the login form until it
is blocked; the KPI reads the share of its requests refused from its first refusal to the block,
and how long the block took to land."""

import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from security import kpis as security_kpis
from security.models import BlockedIP, BlockRule
from tests.security.kpi_read import kpi

pytestmark = pytest.mark.django_db

HAMMER = "203.0.113.70"


@pytest.fixture(autouse=True)
def _policy(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_form": "1/m"}
    settings.RATE_LIMIT_VIOLATIONS_TO_BLOCK = 3
    settings.MAX_REQUESTS_PER_HOUR = 1000


class _EarlierClock:
    """`time` as seen by the KPI's tally, `seconds` in the past (the first refusal then reads as
    that long before the block)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.monotonic = time.monotonic

    def time(self) -> float:
        return time.time() - self.seconds


def test_hammering_until_blocked_gives_the_refused_share_and_the_time_to_block(monkeypatch):
    monkeypatch.setattr(security_kpis, "time", _EarlierClock(42))
    client = Client(REMOTE_ADDR=HAMMER)
    login = {"username": "someone@example.com", "password": "guess-guess-1"}
    statuses = []
    # The form's limit refuses every post after the first; the pages between go through.
    for _ in range(3):
        statuses.append(client.post("/accounts/login/", login).status_code)
        statuses.append(client.get("/").status_code)
    statuses.append(client.post("/accounts/login/", login).status_code)
    assert statuses == [200, 200, 429, 200, 429, 200, 429]
    assert client.get("/").status_code == 403  # blocked
    assert BlockedIP.objects.get(ip=HAMMER).rule == BlockRule.RATE_LIMIT

    figure = kpi("rate_limit_effectiveness")
    # From the first refusal to the block: 5 requests (3 posts refused, 2 pages served).
    assert figure["value"] == pytest.approx(3 / 5)
    detail = figure["detail"]
    assert detail["blocked_addresses"] == 1 and detail["requests"] == 5 and detail["refused"] == 3
    assert 42 <= detail["seconds_to_block_median"] == detail["seconds_to_block_max"] < 60
    assert figure["pass"] is None  # tracked, no bar
    assert security_kpis.rate_limit_effectiveness_hourly(24)[-1] == pytest.approx(3 / 5)


def test_a_blocked_address_costs_no_tally_even_where_it_is_still_watched():
    client = Client(REMOTE_ADDR=HAMMER)
    login = {"username": "someone@example.com", "password": "guess-guess-1"}
    assert [client.post("/accounts/login/", login).status_code for _ in range(4)] == [200, 429, 429, 429]
    assert HAMMER not in security_kpis.watched  # its tally went into the block's evidence
    # Another process that saw its refusals still watches it: the block answers first all the same.
    security_kpis.watched[HAMMER] = time.monotonic() + 60
    assert client.get("/").status_code == 403
    assert cache.get(security_kpis._tally_keys(HAMMER)[1]) is None


def test_an_address_never_refused_is_not_watched():
    client = Client(REMOTE_ADDR="203.0.113.71")
    assert {client.get("/").status_code for _ in range(5)} == {200}
    assert security_kpis.watched == {}
    assert kpi("rate_limit_effectiveness")["value"] is None


def test_the_median_and_max_over_several_blocks():
    now = timezone.now()
    for n, (seconds, requests, refused) in enumerate([(10, 10, 9), (30, 20, 20), (50, 10, 1)]):
        BlockedIP.objects.create(
            ip=f"198.51.100.{n}", rule=BlockRule.RATE_LIMIT, reason="test", created_at=now,
            expires_at=now + timedelta(hours=1),
            evidence={"abuse": {"first_refused_at": now.timestamp() - seconds, "requests": requests,
                                "refused": refused}},
        )  # fmt: skip
    # A block by another rule, or from before the tally existed, has no say.
    BlockedIP.objects.create(ip="198.51.100.9", rule=BlockRule.SCANNER, reason="test", created_at=now,
                             expires_at=now + timedelta(hours=1))  # fmt: skip
    reading = security_kpis.rate_limit_effectiveness(24)
    assert reading.value == pytest.approx(30 / 40)
    assert reading.detail["seconds_to_block_median"] == 30 and reading.detail["seconds_to_block_max"] == 50
