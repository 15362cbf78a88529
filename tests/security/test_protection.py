"""The security layer from the outside: client address, headers, rate limits, automatic blocks,
lockouts, events and the staff endpoints, refusals included."""

import time
from concurrent.futures import ThreadPoolExecutor
from io import StringIO

import httpx
import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client

from jobs.models import Job
from mvpvalidator import background
from mvpvalidator import cache as app_cache
from security import lockout, services
from security.ip import client_ip, parse_networks
from security.models import BlockedIP, EventKind, SecurityEvent
from tests.factories import DEFAULT_PASSWORD, ProjectFactory, UserFactory, generate_and_publish
from tests.jobs.conftest import wait_for_job
from tests.transactions import committed

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.66"


def from_ip(ip: str = ATTACKER, **extra) -> Client:
    return Client(REMOTE_ADDR=ip, **extra)


def token(client: Client, email: str, password: str):
    return client.post("/api/auth/token", {"email": email, "password": password}, content_type="application/json")


# --- client address ----------------------------------------------------------------------------


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy():
    meta = {"REMOTE_ADDR": "198.51.100.7", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}
    assert client_ip(meta, ()) == "198.51.100.7"
    proxies = parse_networks(["10.0.0.0/8"])
    assert client_ip(meta, proxies) == "198.51.100.7"  # the peer is not a proxy: header forged
    behind = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 203.0.113.9, 10.0.0.5"}
    assert client_ip(behind, proxies) == "203.0.113.9"  # rightmost address not a proxy
    assert client_ip({"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "junk"}, proxies) == "10.0.0.2"


def test_a_blocked_client_behind_a_trusted_proxy_is_refused(commit, settings):
    settings.TRUSTED_PROXY_NETWORKS = parse_networks(["10.0.0.0/8"])
    with commit():
        services.ip_block(ip=ATTACKER, rule="manual", reason="test")
    via_proxy = Client(REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR=ATTACKER)
    assert via_proxy.get("/api/monitoring/live").status_code == 403
    forged = Client(REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR=ATTACKER)
    assert forged.get("/api/monitoring/live").status_code == 200


# --- headers ------------------------------------------------------------------------------------


def _csp(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def _refused_by_the_block_list(path: str):
    with committed():
        services.ip_block(ip=ATTACKER, rule="manual", reason="headers")
    response = from_ip().get(path, secure=True)
    assert response.status_code == 403
    return response


def _refused_by_the_global_quota(path: str, settings):
    settings.MAX_REQUESTS_PER_HOUR = 1
    from_ip().get(path, secure=True)
    response = from_ip().get(path, secure=True)
    assert response.status_code == 429
    return response


def _refused_as_a_scanner(path: str):
    response = from_ip().get("/.env", secure=True)
    assert response.status_code == 404
    return response


def _refused_by_the_page_view_limit(path: str, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "page_view": "1/m"}
    from_ip().get("/p/headers/", secure=True)
    response = from_ip().get("/p/headers/", secure=True)
    assert response.status_code == 429
    return response


def _answered_while_the_database_is_away(path: str, monkeypatch):
    import psycopg_pool
    from django.db import OperationalError

    from projects.views import public as public_views

    def away(*args, **kwargs):  # what Django raises when the pool finds no connection in time
        raise OperationalError("couldn't get a connection after 5.00 sec") from psycopg_pool.PoolTimeout()

    monkeypatch.setattr(public_views, "public_page", away)
    response = Client(raise_request_exception=False).get("/p/headers/", secure=True)
    assert response.status_code == 503
    return response


@pytest.mark.parametrize("path", ["/p/headers/", "/api/monitoring/live", "/no/such/page/", "/api/no-such-endpoint"])
@pytest.mark.parametrize("answer", ["served", "blocked", "over_quota", "scanner", "page_view_limit", "database_away"])
def test_every_kind_of_response_carries_the_headers(path, answer, settings, monkeypatch):
    """Pages, errors and every refusal the security layer answers itself (block list, quotas,
    scanner paths) go out with the same headers."""
    settings.SECURE_HSTS_SECONDS = 31_536_000
    generate_and_publish(ProjectFactory(), slug="headers")
    response = {
        "served": lambda: Client().get(path, secure=True),
        "blocked": lambda: _refused_by_the_block_list(path),
        "over_quota": lambda: _refused_by_the_global_quota(path, settings),
        "scanner": lambda: _refused_as_a_scanner(path),
        "page_view_limit": lambda: _refused_by_the_page_view_limit(path, settings),
        "database_away": lambda: _answered_while_the_database_is_away(path, monkeypatch),
    }[answer]()
    csp = _csp(response)
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert set(csp["script-src"]) <= {"'self'"} | {v for v in csp["script-src"] if v.startswith("'nonce-")}
    assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"] and csp["form-action"] == ["'self'"] and csp["default-src"] == ["'none'"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert response["Strict-Transport-Security"].startswith("max-age=")


def test_static_files_carry_the_headers_too():
    response = Client().get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css", secure=True)
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in response and response["Cross-Origin-Resource-Policy"] == "same-origin"


def test_hsts_is_sent_over_https_for_a_year_with_subdomains(settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    response = Client().get("/api/monitoring/live", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000; includeSubDomains")
    assert "Strict-Transport-Security" not in Client().get("/api/monitoring/live")


# --- global and per-endpoint rate limits ------------------------------------------------------


def test_global_limit_answers_429_with_retry_after_and_ratelimit_headers(settings):
    settings.MAX_REQUESTS_PER_HOUR = 3
    client = from_ip()
    for _ in range(3):
        assert client.get("/api/monitoring/live").status_code == 200
    refused = client.get("/api/monitoring/live")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused["Retry-After"]) >= 1
    assert refused["RateLimit-Limit"] == "3" and refused["RateLimit-Remaining"] == "0"
    page = client.get("/")
    assert page.status_code == 429 and page["Content-Type"].startswith("text/html")
    assert b"Too many requests" in page.content and page["Retry-After"]
    assert from_ip("198.51.100.20").get("/api/monitoring/live").status_code == 200  # others unaffected
    assert SecurityEvent.objects.filter(kind=EventKind.RATE_LIMITED, ip=ATTACKER).count() == 1  # one per minute


def test_allowlisted_networks_are_never_limited_nor_blocked(settings):
    settings.MAX_REQUESTS_PER_HOUR = 1
    settings.SECURITY_ALLOWLIST_NETWORKS = parse_networks(["192.0.2.0/24"])
    from security import middleware

    middleware._allowlisted.cache_clear()
    client = from_ip("192.0.2.10")
    for _ in range(5):
        assert client.get("/api/monitoring/live").status_code == 200
    assert services.ip_block(ip="192.0.2.10", rule="scanner", reason="nope") is None
    with pytest.raises(ValidationError, match="allow-list"):
        services.ip_block(ip="192.0.2.10", rule="manual", reason="nope")
    assert client.get("/.env").status_code == 404
    assert client.get("/.env").status_code == 404
    assert not BlockedIP.objects.exists()
    middleware._allowlisted.cache_clear()


def test_allowlisted_networks_pass_the_page_form_and_endpoint_limits_too(settings):
    """The per-view limits (landing page, signup form) and the API throttles exempt the
    allow-list like the global quota does; the address next to it is still refused."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "page_view": "1/m", "signup": "1/m"}
    settings.API_THROTTLES = {**settings.API_THROTTLES, "token": {"rate": "1/min", "key": "ip"}}
    settings.MAX_LOGIN_ATTEMPTS = 100
    settings.SECURITY_ALLOWLIST_NETWORKS = parse_networks(["192.0.2.0/24"])
    from security import middleware

    middleware._allowlisted.cache_clear()
    generate_and_publish(ProjectFactory(), slug="allowed")
    try:
        for ip, expected in (("192.0.2.10", 200), ("198.51.100.30", 429)):
            client = from_ip(ip)
            assert [client.get("/p/allowed/").status_code for _ in range(3)][-1] == expected
            signups = [client.post("/p/allowed/signup", {"email": f"a{n}@example.com"}).status_code for n in range(3)]
            assert (signups[-1] == 429) is (expected == 429), signups
            tokens = [token(client, "nobody@example.com", "wrong-password-1").status_code for _ in range(3)]
            assert tokens[-1] == (401 if expected == 200 else 429), tokens
    finally:
        middleware._allowlisted.cache_clear()


def test_token_endpoint_is_throttled_per_address(settings):
    settings.API_THROTTLES = {**settings.API_THROTTLES, "token": {"rate": "3/min", "key": "ip"}}
    settings.MAX_LOGIN_ATTEMPTS = 100
    client = from_ip()
    for _ in range(3):
        assert token(client, "nobody@example.com", "wrong-password-1").status_code == 401
    refused = token(client, "nobody@example.com", "wrong-password-1")
    assert refused.status_code == 429 and refused["Retry-After"] and refused["RateLimit-Limit"] == "3"
    assert refused.json()["error"]["code"] == "throttled"


def test_register_is_throttled(settings):
    settings.API_THROTTLES = {**settings.API_THROTTLES, "register": {"rate": "2/hour", "key": "ip"}}
    client = from_ip()
    for n in range(2):
        body = {"email": f"r{n}@example.com", "password": "a-long-unusual-passphrase-42", "name": "R"}
        assert client.post("/api/auth/register", body, content_type="application/json").status_code == 201
    body = {"email": "r9@example.com", "password": "a-long-unusual-passphrase-42", "name": "R"}
    assert client.post("/api/auth/register", body, content_type="application/json").status_code == 429


def test_landing_page_views_are_limited_with_a_small_html_page(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "page_view": "2/m"}
    generate_and_publish(ProjectFactory(), slug="limited")
    client = from_ip()
    assert [client.get("/p/limited/").status_code for _ in range(2)] == [200, 200]
    refused = client.get("/p/limited/")
    assert refused.status_code == 429 and b"Too many requests" in refused.content
    assert int(refused["Retry-After"]) >= 1 and refused["RateLimit-Limit"] == "2"


@pytest.mark.redis
def test_policies_when_redis_is_away(settings, monkeypatch):
    """Registration fails closed; page views and the token endpoint count in-process (page views
    always do: their limit needs no Redis, so it holds during an outage too)."""
    settings.API_THROTTLES = {
        **settings.API_THROTTLES,
        "token": {"rate": "2/min", "key": "ip", "when_unavailable": "local"},
        "register": {"rate": "5/hour", "key": "ip", "when_unavailable": "closed"},
    }
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "page_view": "1/m"}
    settings.MAX_LOGIN_ATTEMPTS = 100
    generate_and_publish(ProjectFactory(), slug="outage")
    monkeypatch.setattr(app_cache.breaker, "allow", lambda: False)  # as if the breaker were open
    client = from_ip()
    body = {"email": "x@example.com", "password": "a-long-unusual-passphrase-42", "name": "X"}
    assert client.post("/api/auth/register", body, content_type="application/json").status_code == 429
    assert [client.get("/p/outage/").status_code for _ in range(3)] == [200, 429, 429]
    statuses = [token(client, "nobody@example.com", "wrong-password-1").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


# --- automatic blocking -------------------------------------------------------------------------


def test_scanner_paths_block_the_address_with_an_audit_row(settings):
    client = from_ip(HTTP_USER_AGENT="sqlmap/1.7")
    assert client.get("/.env").status_code == 404
    assert client.get("/wp-admin/setup-config.php").status_code == 404
    blocked = client.get("/api/monitoring/live")
    assert blocked.status_code == 403 and blocked.json()["error"]["code"] == "ip_blocked"
    assert client.get("/").status_code == 403
    block = BlockedIP.objects.get(ip=ATTACKER)
    assert block.rule == "scanner" and block.created_by_system == "auto:scanner" and block.is_active
    assert block.evidence["strikes"] == settings.SCANNER_HITS_TO_BLOCK
    probes = SecurityEvent.objects.filter(kind=EventKind.SCANNER_PATH, ip=ATTACKER)
    assert probes.count() == 2 and probes.first().user_agent == "sqlmap/1.7" and probes.first().request_id
    assert SecurityEvent.objects.filter(kind=EventKind.IP_BLOCKED, ip=ATTACKER).exists()
    assert from_ip("198.51.100.21").get("/api/monitoring/live").status_code == 200


def test_repeated_rate_limit_violations_block(settings):
    settings.MAX_REQUESTS_PER_HOUR = 1
    settings.RATE_LIMIT_VIOLATIONS_TO_BLOCK = 3
    client = from_ip()
    statuses = [client.get("/api/monitoring/live").status_code for _ in range(5)]
    assert statuses == [200, 429, 429, 429, 403]
    assert BlockedIP.objects.get(ip=ATTACKER).rule == "rate_limit"


def test_a_burst_of_4xx_blocks(settings):
    settings.ERROR_BURST_TO_BLOCK = 5
    client = from_ip()
    assert {client.get(f"/api/projects/{n}/").status_code for n in range(5)} == {401}
    assert client.get("/api/monitoring/live").status_code == 403
    assert BlockedIP.objects.get(ip=ATTACKER).rule == "error_burst"


def test_repeated_lockouts_block(settings):
    settings.MAX_LOGIN_ATTEMPTS = 1
    settings.LOCKOUTS_TO_BLOCK = 2
    client = from_ip()
    assert token(client, "a@example.com", "wrong-password-1").status_code == 401
    assert token(client, "a@example.com", "wrong-password-1").status_code == 429  # lockout of a (and the address)
    assert token(client, "b@example.com", "wrong-password-1").status_code == 429  # lockout of b
    assert client.get("/api/monitoring/live").status_code == 403
    assert BlockedIP.objects.get(ip=ATTACKER).rule == "lockout"


def test_a_block_expires(settings):
    services.ip_block(ip=ATTACKER, rule="manual", reason="short", minutes=1)
    block = BlockedIP.objects.get()
    from security import blocklist

    blocklist.add(ATTACKER, time.time() - 1)  # as if the minute had passed
    BlockedIP.objects.filter(pk=block.pk).update(
        expires_at=block.created_at + (block.expires_at - block.created_at) / 60
    )
    assert from_ip().get("/api/monitoring/live").status_code == 200


# --- unblocking ---------------------------------------------------------------------------------


def test_staff_unblock_over_the_api_and_refusals(commit, api_client, auth_api_client, staff_api_client):
    with commit():
        services.ip_block(ip=ATTACKER, rule="manual", reason="test")
    url = f"/api/monitoring/blocked-ips/{ATTACKER}/unblock"
    assert api_client.post(url).status_code == 401
    assert auth_api_client.post(url).status_code == 403
    assert from_ip().get("/api/monitoring/live").status_code == 403
    response = staff_api_client.post(url)
    assert response.status_code == 200 and response.json()["lifted"] == 1
    assert from_ip().get("/api/monitoring/live").status_code == 200
    block = BlockedIP.objects.get()
    assert block.unblocked_by == staff_api_client.user and block.unblocked_at
    assert staff_api_client.post(url).status_code == 404  # nothing left to lift
    for name in ("999.1.1.1", "not-an-ip"):  # the URL names no block
        missing = staff_api_client.post(f"/api/monitoring/blocked-ips/{name}/unblock")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_staff_block_by_hand_validates_input(staff_api_client, auth_api_client):
    assert auth_api_client.post("/api/monitoring/blocked-ips", {"ip": ATTACKER, "reason": "x"}).status_code == 403
    bad = staff_api_client.post("/api/monitoring/blocked-ips", {"ip": "999.1.1.1", "reason": "x"}, format="json")
    assert bad.status_code == 400 and "ip" in bad.json()["error"]["fields"]
    ok = staff_api_client.post("/api/monitoring/blocked-ips", {"ip": ATTACKER, "reason": "abuse report"}, format="json")
    assert ok.status_code == 201
    block = BlockedIP.objects.get()
    assert block.rule == "manual" and block.created_by == staff_api_client.user
    listed = staff_api_client.get("/api/monitoring/blocked-ips").json()["blocked_ips"]
    assert [b["ip"] for b in listed] == [ATTACKER]


def test_unblock_ip_command():
    services.ip_block(ip=ATTACKER, rule="manual", reason="test")
    out = StringIO()
    call_command("unblock_ip", ATTACKER, stdout=out)
    assert "unblocked" in out.getvalue()
    assert from_ip().get("/api/monitoring/live").status_code == 200
    with pytest.raises(CommandError, match="valid IPv4 or IPv6"):
        call_command("unblock_ip", "not-an-ip")


def test_admin_unblock_action(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    services.ip_block(ip=ATTACKER, rule="manual", reason="test")
    client.force_login(staff)
    block = BlockedIP.objects.get()
    response = client.post(
        "/admin/security/blockedip/", {"action": "unblock", "_selected_action": [block.pk]}, follow=True
    )
    assert response.status_code == 200
    block.refresh_from_db()
    assert block.unblocked_at and block.unblocked_by == staff
    assert from_ip().get("/api/monitoring/live").status_code == 200


# --- lockout ------------------------------------------------------------------------------------


def test_token_lockout_after_max_failures_even_with_the_right_password(settings):
    settings.MAX_LOGIN_ATTEMPTS = 3
    user = UserFactory()
    client = from_ip()
    for _ in range(3):
        assert token(client, user.email, "wrong-password-1").status_code == 401
    locked = token(client, user.email, DEFAULT_PASSWORD)
    assert locked.status_code == 429 and int(locked["Retry-After"]) >= 1
    assert locked.json()["error"]["code"] == "login_locked"
    # The lockout is of this account from this address: the owner elsewhere still signs in.
    assert token(from_ip("198.51.100.30"), user.email, DEFAULT_PASSWORD).status_code == 200
    assert SecurityEvent.objects.filter(kind=EventKind.LOCKOUT).count() == 1
    assert SecurityEvent.objects.filter(kind=EventKind.LOGIN_FAILED, identifier=user.email).count() == 3


def test_success_counts_only_the_misses_of_the_address(settings):
    settings.MAX_LOGIN_ATTEMPTS = 3
    user = UserFactory()
    client = from_ip()
    for _ in range(2):
        assert token(client, user.email, "wrong-password-1").status_code == 401
    assert token(client, user.email, DEFAULT_PASSWORD).status_code == 200
    # The success is not a miss, but the two misses before it still count for the address.
    assert token(client, user.email, "wrong-password-1").status_code == 401
    assert token(client, user.email, "wrong-password-1").status_code == 429


def test_the_lockout_lapses_after_its_window(settings, monkeypatch):
    settings.MAX_LOGIN_ATTEMPTS = 1
    monkeypatch.setattr(lockout, "_window", lambda: 1)
    user = UserFactory()
    client = from_ip()
    assert token(client, user.email, "wrong-password-1").status_code == 401
    assert token(client, user.email, DEFAULT_PASSWORD).status_code == 429
    time.sleep(1.2)
    assert token(client, user.email, DEFAULT_PASSWORD).status_code == 200


def test_session_login_shares_the_lockout(settings):
    settings.MAX_LOGIN_ATTEMPTS = 2
    user = UserFactory()
    client = from_ip()
    for _ in range(2):
        response = client.post("/accounts/login/", {"username": user.email, "password": "wrong-password-1"})
        assert response.status_code == 200  # the form again, with its error
    locked = client.post("/accounts/login/", {"username": user.email, "password": DEFAULT_PASSWORD})
    assert locked.status_code == 429 and locked["Retry-After"] and b"Too many requests" in locked.content
    assert locked["RateLimit-Limit"] == "2"  # the same limit the API reports
    assert token(client, user.email, DEFAULT_PASSWORD).status_code == 429  # the same counters


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_parallel_wrong_attempts_gets_at_most_max_checked(settings, live_server):
    settings.MAX_LOGIN_ATTEMPTS = 5
    settings.API_THROTTLES = {**settings.API_THROTTLES, "token": {"rate": "1000/min", "key": "ip"}}
    user = UserFactory()

    def attempt(_):
        body = {"email": user.email, "password": "wrong-password-1"}
        return httpx.post(f"{live_server.url}/api/auth/token", json=body, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(attempt, range(20)))
    assert statuses.count(401) <= 5, statuses
    assert statuses.count(401) + statuses.count(429) == 20, statuses
    assert token(Client(), user.email, DEFAULT_PASSWORD).status_code == 429


# --- events, stats, clean-up --------------------------------------------------------------------


def test_security_events_carry_the_request(auth_api_client):
    auth_api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    response = auth_api_client.get("/api/projects/", HTTP_X_REQUEST_ID="bad-token-request-01", HTTP_USER_AGENT="curl/8")
    assert response.status_code == 401
    event = SecurityEvent.objects.get(kind=EventKind.INVALID_TOKEN)
    assert event.request_id == "bad-token-request-01" and event.ip == "127.0.0.1"
    assert event.path == "/api/projects/" and event.user_agent == "curl/8" and event.method == "GET"


def test_permission_denied_is_an_event(auth_api_client):
    assert auth_api_client.get("/api/monitoring/performance").status_code == 403
    event = SecurityEvent.objects.get(kind=EventKind.PERMISSION_DENIED)
    assert event.user == auth_api_client.user


def test_a_nul_in_the_path_does_not_lose_the_event(auth_api_client):
    """PostgreSQL text cannot hold NUL: the event is stored without it, and the request's
    transaction is not broken by a failed insert."""
    response = auth_api_client.post("/api/monitoring/blocked-ips/a%00b/unblock")
    assert response.status_code == 403
    event = SecurityEvent.objects.get(kind=EventKind.PERMISSION_DENIED)
    assert event.path == "/api/monitoring/blocked-ips/ab/unblock"


def test_suspicious_input_is_an_event_and_stored_harmless(auth_api_client):
    payload = {"name": "<script>alert(1)</script>Idea", "idea_description": "A perfectly ordinary idea.",
               "price_point": "9.00", "business_model": "saas"}  # fmt: skip
    response = auth_api_client.post("/api/projects/", payload, format="json")
    assert response.status_code == 201 and "<script" not in response.json()["name"]
    event = SecurityEvent.objects.get(kind=EventKind.SUSPICIOUS_INPUT)
    assert event.detail["field"] == "name" and event.detail["pattern"] == "script" and event.request_id


def test_a_block_alerts_the_security_webhook(settings, webhook):
    settings.SECURITY_WEBHOOK_URL = webhook.url
    services.ip_block(ip=ATTACKER, rule="manual", reason="abuse")
    received = webhook.wait_for(1)
    assert received and received[0]["json"]["channel"] == "security"
    assert received[0]["json"]["details"]["ip"] == ATTACKER


def test_security_stats_for_staff_only(api_client, auth_api_client, staff_api_client):
    services.ip_block(ip=ATTACKER, rule="manual", reason="test")
    from_ip("198.51.100.40").get("/.env")
    assert api_client.get("/api/monitoring/security-stats").status_code == 401
    assert auth_api_client.get("/api/monitoring/security-stats").status_code == 403
    assert staff_api_client.get("/api/monitoring/security-stats?window=1y").status_code == 400
    body = staff_api_client.get("/api/monitoring/security-stats?window=1h").json()
    assert body["blocked_count"] == 1 and body["blocked_ips"][0]["ip"] == ATTACKER
    assert body["events_by_kind"]["scanner_path"] == 1 and body["events_by_kind"]["ip_blocked"] == 1
    assert {ATTACKER, "198.51.100.40"} <= {o["ip"] for o in body["top_offenders"]}


# Committed: the job runs on another thread (its own connection), which must see the rows and
# write beside a test that is not holding a transaction open.
@pytest.mark.django_db(transaction=True)
def test_clear_security_data_endpoint_and_command(staff_api_client, auth_api_client):
    from datetime import timedelta

    from django.utils import timezone

    old = services.security_event_record(kind=EventKind.LOGIN_FAILED, ip="198.51.100.50")
    SecurityEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))
    services.security_event_record(kind=EventKind.LOGIN_FAILED, ip="198.51.100.51")
    services.ip_block(ip=ATTACKER, rule="manual", reason="still active")
    assert auth_api_client.post("/api/monitoring/clear-security-data", {}, format="json").status_code == 403
    bad = staff_api_client.post("/api/monitoring/clear-security-data", {"older_than": "soon"}, format="json")
    assert bad.status_code == 400 and "older_than" in bad.json()["error"]["fields"]
    assert not Job.objects.exists()  # refused input starts nothing

    def cleared(body: dict) -> dict:
        # A job (a bulk delete can outlast a request): 202 at once, the counts in its result.
        response = staff_api_client.post("/api/monitoring/clear-security-data", body, format="json")
        assert response.status_code == 202 and response["Location"] == response.json()["url"]
        background.drain()
        job = wait_for_job(Job.objects.get(pk=response.json()["id"]))
        assert job.status == "succeeded" and job.kind == "security.clear"
        return staff_api_client.get(response.json()["url"]).json()["result"]

    assert cleared({"older_than": "7d", "dry_run": True})["events"] == 1
    assert SecurityEvent.objects.filter(pk=old.pk).exists()
    assert cleared({"older_than": "7d", "expired_blocks": True}) == {"events": 1, "blocks": 0, "dry_run": False}
    assert not SecurityEvent.objects.filter(pk=old.pk).exists() and BlockedIP.objects.count() == 1
    out = StringIO()
    call_command("clear_security_data", "--older-than", "1m", "--expired-blocks", "--dry-run", stdout=out)
    assert "would delete" in out.getvalue()
    with pytest.raises(CommandError, match="duration"):
        call_command("clear_security_data", "--older-than=forever")


def test_the_cached_policy_follows_the_settings_and_nonces_still_work(settings, rf):
    from django.http import HttpResponse

    from security.csp import CachedCSPMiddleware

    first = Client().get("/api/monitoring/live")["Content-Security-Policy"]
    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {**settings.CONTENT_SECURITY_POLICY["DIRECTIVES"], "img-src": ["'self'"]}
    }
    second = Client().get("/api/monitoring/live")["Content-Security-Policy"]
    assert "data:" in first and "data:" not in second

    def view(request):
        return HttpResponse(f"<script nonce='{request.csp_nonce}'></script>")

    middleware = CachedCSPMiddleware(view)
    response = middleware(rf.get("/"))
    nonce = response.content.decode().split("'")[1]
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]

    # A per-view override still goes through django-csp, and a plain response gets the cache.
    from csp.decorators import csp_exempt, csp_update

    updated = CachedCSPMiddleware(csp_update({"img-src": "https://img.example"})(lambda r: HttpResponse("x")))
    assert "https://img.example" in updated(rf.get("/"))["Content-Security-Policy"]
    assert "Content-Security-Policy" not in CachedCSPMiddleware(csp_exempt()(lambda r: HttpResponse("x")))(rf.get("/"))
    assert CachedCSPMiddleware(lambda r: HttpResponse("x"))(rf.get("/"))["Content-Security-Policy"] == second
    settings.CONTENT_SECURITY_POLICY = {**settings.CONTENT_SECURITY_POLICY, "EXCLUDE_URL_PREFIXES": ["/skip"]}
    assert "Content-Security-Policy" not in CachedCSPMiddleware(lambda r: HttpResponse("x"))(rf.get("/skip/me"))


@pytest.mark.redis
def test_the_global_quota_and_blocks_are_shared_between_processes(settings):
    """What another process counted and blocked reaches this one at the next sync (the flusher
    thread runs both every second; here they are called directly)."""
    from mvpvalidator import background
    from mvpvalidator.cache import redis_client, state_key
    from security import blocklist, limits

    flushes = [task.flush for task in background.tasks()]
    assert limits.sync_counters in flushes and blocklist.periodic_sync in flushes
    settings.MAX_REQUESTS_PER_HOUR = 10
    client = from_ip()
    for _ in range(3):
        assert client.get("/api/monitoring/live").status_code == 200
    limits.global_counter.sync()
    window = int(time.time() // limits.window_seconds())
    key = app_cache.state_key(f"sec:rl:{window}")
    assert int(redis_client().hget(key, ATTACKER)) == 3
    redis_client().hincrby(key, ATTACKER, 7)  # another worker served this address 7 times
    assert client.get("/api/monitoring/live").status_code == 200  # not synced yet: 4 locally
    limits.global_counter.sync()  # shared total is now 11
    assert client.get("/api/monitoring/live").status_code == 429

    other = "198.51.100.99"
    redis_client().hset(state_key("sec:blocked"), other, repr(time.time() + 60))  # blocked elsewhere
    blocklist.periodic_sync()
    assert from_ip(other).get("/api/monitoring/live").status_code == 403


def test_a_blocked_address_hammering_records_one_event_per_minute(commit):
    with commit():
        services.ip_block(ip=ATTACKER, rule="manual", reason="test")
    client = from_ip()
    for _ in range(20):
        assert client.get("/api/monitoring/live").status_code == 403
    assert SecurityEvent.objects.filter(kind=EventKind.BLOCKED_REQUEST, ip=ATTACKER).count() == 1


def test_a_reload_that_read_the_list_before_a_new_block_landed_does_not_drop_it():
    """The flusher's reload can read the shared list (Redis, or the database in the embedded
    mode) just before this process's new block is written there; the block must still hold."""
    from mvpvalidator.cache import is_shared, redis_client, state_key
    from security import blocklist

    blocklist.add(ATTACKER, time.time() + 60)
    if is_shared():
        redis_client().hdel(state_key("sec:blocked"), ATTACKER)  # what the stale read saw
    blocklist.sync()  # neither the hash nor the database (no row) holds the block
    assert from_ip().get("/api/monitoring/live").status_code == 403
    blocklist.remove(ATTACKER)
    blocklist.sync()
    assert from_ip().get("/api/monitoring/live").status_code == 200
