"""The blocked-attacks KPI from the outside: attacks of each kind made over HTTP, read back as
the window's total, by kind, and per hour."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from security import kpis as security_kpis
from security.models import EventKind, SecurityEvent
from security.selectors import counts_by_hour
from tests.factories import UserFactory
from tests.security.kpi_read import kpi

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _policy(settings):
    settings.API_THROTTLES = {**settings.API_THROTTLES, "token": {"rate": "1000/min", "key": "ip"}}
    settings.MAX_LOGIN_ATTEMPTS = 2
    settings.LOCKOUTS_TO_BLOCK = 100


def test_every_event_kind_is_mapped_to_an_attack_or_to_none():
    assert set(security_kpis.ATTACK_KINDS) == set(EventKind.values)
    assert set(security_kpis.ATTACK_KINDS.values()) - {None} == set(security_kpis.ATTACKS)


def test_attacks_of_each_kind_are_counted_by_kind_and_per_hour(settings, auth_api_client):
    # A scanner: one probe (the address is blocked at the second).
    assert Client(REMOTE_ADDR="203.0.113.1").get("/.env").status_code == 404
    # Brute force: two wrong passwords, then the lockout (a lockout event; the refusal is no guess).
    victim = UserFactory()
    guesser = Client(REMOTE_ADDR="203.0.113.2")
    statuses = [
        guesser.post(
            "/api/auth/token", {"email": victim.email, "password": "nope-nope-1"}, content_type="application/json"
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [401, 401, 429]
    # Rate-limit abuse: over the global quota.
    settings.MAX_REQUESTS_PER_HOUR = 1
    flood = Client(REMOTE_ADDR="203.0.113.3")
    assert [flood.get("/").status_code for _ in range(2)] == [200, 429]
    settings.MAX_REQUESTS_PER_HOUR = 1000
    # Hostile input: a script payload stored through the API.
    body = {
        "name": "<script>alert(1)</script>",
        "idea_description": "freelancers chase late invoices every month",
        "target_audience": "freelancers",
        "price_point": "9.00",
        "business_model": "saas",
    }
    assert auth_api_client.post("/api/projects/", body, format="json").status_code in (201, 400)

    figure = kpi("blocked_attacks")
    by_kind = figure["detail"]["by_kind"]
    assert by_kind == {"scanner": 1, "brute_force": 3, "rate_limit_abuse": 1, "hostile_input": 1}
    assert figure["value"] == 6 and figure["pass"] is None  # tracked, no bar
    hourly = security_kpis.blocked_attacks_hourly(24)
    assert len(hourly) == 24 and hourly[-1] == 6 and sum(hourly) == 6


def test_the_window_and_the_hours_place_older_events_where_they_happened():
    now = timezone.now()
    SecurityEvent.objects.create(kind=EventKind.SCANNER_PATH, created_at=now - timedelta(hours=3))
    SecurityEvent.objects.create(kind=EventKind.SCANNER_PATH, created_at=now - timedelta(days=3))
    SecurityEvent.objects.create(kind=EventKind.LOGIN_SUCCEEDED, created_at=now)  # not an attack
    assert security_kpis.blocked_attacks(24).value == 1
    assert security_kpis.blocked_attacks(24 * 7).value == 2
    hourly = security_kpis.blocked_attacks_hourly(24)
    assert hourly[-4] == 1 and sum(hourly) == 1


def test_the_window_is_read_through_an_index():
    if connection.vendor == "postgresql":
        # An almost empty table is read whole whichever indexes exist: ask whether one serves.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
    plan = counts_by_hour(since=timezone.now() - timedelta(days=30)).explain()
    assert "secevent_created_idx" in plan or "secevent_kind_created_idx" in plan, plan
