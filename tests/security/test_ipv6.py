"""An IPv6 client is its network, and staff can block networks.

Any ordinary IPv6 subscriber holds a whole /64 and can take a fresh address for every request,
so every limit, strike counter and block counts an IPv6 client by its network of
`IPV6_CLIENT_PREFIX` bits; an IPv4-mapped address is the IPv4 client. Staff block networks
(CIDR) through the API and lift them through the API, the admin and `manage.py unblock_ip`."""

import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from security import services
from security.ip import parse_networks
from security.models import BlockedIP, EventKind, SecurityEvent
from tests.factories import ProjectFactory, UserFactory, generate_and_publish

pytestmark = pytest.mark.django_db

# Three addresses of one /64, one of its neighbour /64 (same /48), one far away.
ONE = "2001:db8:1:2::10"
SAME_64 = "2001:db8:1:2:abcd:ef01:2345:6789"
ALSO_SAME_64 = "2001:db8:1:2:ffff::1"
NEIGHBOUR_64 = "2001:db8:1:3::10"
ELSEWHERE = "2001:db8:ffff:1::10"
LIVE = "/api/monitoring/live"
STRONG_PASSWORD = "a-long-unusual-passphrase-42"


def from_ip(ip: str) -> Client:
    return Client(REMOTE_ADDR=ip)


def register(ip: str, n: int):
    body = {"email": f"v6-{n}@example.com", "password": STRONG_PASSWORD, "name": "V"}
    return from_ip(ip).post("/api/auth/register", body, content_type="application/json")


def token(ip: str):
    body = {"email": "nobody@example.com", "password": "wrong-password-1"}
    return from_ip(ip).post("/api/auth/token", body, content_type="application/json")


# --- limits --------------------------------------------------------------------------------------


def test_addresses_of_one_64_share_the_registration_limit(settings):
    settings.API_THROTTLES = {**settings.API_THROTTLES, "register": {"rate": "2/hour", "key": "ip"}}
    assert register(ONE, 1).status_code == 201
    assert register(SAME_64, 2).status_code == 201
    refused = register(ALSO_SAME_64, 3)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "throttled"
    assert register(NEIGHBOUR_64, 4).status_code == 201  # another subscriber
    assert not BlockedIP.objects.exists()


def test_addresses_of_one_64_share_the_token_limit(settings):
    settings.API_THROTTLES = {**settings.API_THROTTLES, "token": {"rate": "3/min", "key": "ip"}}
    settings.MAX_LOGIN_ATTEMPTS = 100
    assert [token(ip).status_code for ip in (ONE, SAME_64, ALSO_SAME_64)] == [401, 401, 401]
    assert token("2001:db8:1:2::99").status_code == 429
    assert token(NEIGHBOUR_64).status_code == 401


def test_addresses_of_one_64_share_the_global_quota(settings):
    settings.MAX_REQUESTS_PER_HOUR = 2
    assert from_ip(ONE).get(LIVE).status_code == 200
    assert from_ip(SAME_64).get(LIVE).status_code == 200
    assert from_ip(ALSO_SAME_64).get(LIVE).status_code == 429
    assert from_ip(NEIGHBOUR_64).get(LIVE).status_code == 200


def test_addresses_of_one_64_share_the_landing_page_and_form_limits(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "page_view": "2/m", "signup": "2/m", "login_form": "2/m"}
    generate_and_publish(ProjectFactory(), slug="v6-page")
    assert [from_ip(ip).get("/p/v6-page/").status_code for ip in (ONE, SAME_64)] == [200, 200]
    assert from_ip(ALSO_SAME_64).get("/p/v6-page/").status_code == 429
    assert from_ip(NEIGHBOUR_64).get("/p/v6-page/").status_code == 200
    # The signup form (django-ratelimit's counters): refused or not, each post counts.
    assert [from_ip(ip).post("/p/v6-page/signup", {}).status_code != 429 for ip in (ONE, SAME_64)] == [True, True]
    assert from_ip(ALSO_SAME_64).post("/p/v6-page/signup", {}).status_code == 429
    assert from_ip(NEIGHBOUR_64).post("/p/v6-page/signup", {}).status_code != 429
    login = {"username": "nobody@example.com", "password": "wrong-password-1"}
    assert [from_ip(ip).post("/accounts/login/", login).status_code for ip in (ONE, SAME_64)] == [200, 200]
    assert from_ip(ALSO_SAME_64).post("/accounts/login/", login).status_code == 429


def test_the_prefix_is_configurable(settings):
    settings.IPV6_CLIENT_PREFIX = 48
    settings.MAX_REQUESTS_PER_HOUR = 2
    assert from_ip(ONE).get(LIVE).status_code == 200
    assert from_ip(NEIGHBOUR_64).get(LIVE).status_code == 200  # another /64, the same /48
    assert from_ip(SAME_64).get(LIVE).status_code == 429
    assert from_ip(ELSEWHERE).get(LIVE).status_code == 200


def test_an_ipv4_mapped_address_is_the_ipv4_client(commit, settings):
    settings.MAX_REQUESTS_PER_HOUR = 2
    assert from_ip("::ffff:203.0.113.5").get(LIVE).status_code == 200
    assert from_ip("203.0.113.5").get(LIVE).status_code == 200
    assert from_ip("::ffff:203.0.113.5").get(LIVE).status_code == 429
    assert from_ip("203.0.113.6").get(LIVE).status_code == 200
    settings.MAX_REQUESTS_PER_HOUR = 1000
    with commit():
        services.ip_block(ip="::ffff:203.0.113.7", rule="manual", reason="mapped")
    assert BlockedIP.objects.get().ip == "203.0.113.7"
    assert from_ip("203.0.113.7").get(LIVE).status_code == 403
    assert from_ip("::ffff:203.0.113.7").get(LIVE).status_code == 403


# --- automatic blocks ----------------------------------------------------------------------------


def test_an_automatic_block_of_an_ipv6_client_blocks_its_64(settings):
    settings.SCANNER_HITS_TO_BLOCK = 2
    assert from_ip(ONE).get("/.env").status_code == 404
    assert from_ip(SAME_64).get("/wp-login.php").status_code == 404  # the second strike, another address
    blocked = from_ip(ALSO_SAME_64).get(LIVE)
    assert blocked.status_code == 403 and blocked.json()["error"]["code"] == "ip_blocked"
    block = BlockedIP.objects.get()
    assert block.ip == "2001:db8:1:2::/64" and block.rule == "scanner"
    assert SecurityEvent.objects.get(kind=EventKind.IP_BLOCKED).ip == SAME_64  # the address that struck
    assert from_ip(NEIGHBOUR_64).get(LIVE).status_code == 200


def test_repeated_rate_limit_violations_from_one_64_block_it(settings):
    settings.MAX_REQUESTS_PER_HOUR = 1
    settings.RATE_LIMIT_VIOLATIONS_TO_BLOCK = 2
    statuses = [from_ip(ip).get(LIVE).status_code for ip in (ONE, SAME_64, ALSO_SAME_64, "2001:db8:1:2::77")]
    assert statuses == [200, 429, 429, 403]
    assert BlockedIP.objects.get().ip == "2001:db8:1:2::/64"


def test_a_blocked_64_hammering_from_many_addresses_records_one_event_per_minute(commit):
    with commit():
        services.ip_block(ip=ONE, rule="manual", reason="test")
    for n in range(20):
        assert from_ip(f"2001:db8:1:2::{n + 100:x}").get(LIVE).status_code == 403
    assert SecurityEvent.objects.filter(kind=EventKind.BLOCKED_REQUEST).count() == 1


def test_an_allowlisted_address_passes_a_block_of_its_64(commit, settings):
    settings.SECURITY_ALLOWLIST_NETWORKS = parse_networks([ONE])
    from security import middleware

    middleware._allowlisted.cache_clear()
    try:
        with commit():
            services.ip_block(ip=SAME_64, rule="scanner", reason="a neighbour probing")
        assert from_ip(SAME_64).get(LIVE).status_code == 403
        assert from_ip(ONE).get(LIVE).status_code == 200
    finally:
        middleware._allowlisted.cache_clear()


# --- blocks by staff -----------------------------------------------------------------------------


def block(client, ip: str, **extra):
    return client.post("/api/monitoring/blocked-ips", {"ip": ip, "reason": "abuse report", **extra}, format="json")


@pytest.mark.parametrize(
    ("network", "inside", "outside"),
    [
        ("2001:db8:1::/48", [ONE, NEIGHBOUR_64, "2001:db8:1:ffff::1"], [ELSEWHERE, "2001:db8:2::1"]),
        ("203.0.113.0/24", ["203.0.113.1", "203.0.113.254", "::ffff:203.0.113.9"], ["203.0.114.1", "198.51.100.1"]),
    ],
)
def test_a_network_blocked_by_staff_refuses_every_address_inside_it(staff_api_client, network, inside, outside):
    created = block(staff_api_client, network)
    assert created.status_code == 201 and created.json()["ip"] == network
    for ip in inside:
        assert from_ip(ip).get(LIVE).status_code == 403, ip
        assert from_ip(ip).get("/").status_code == 403, ip
    for ip in outside:
        assert from_ip(ip).get(LIVE).status_code == 200, ip
    row = BlockedIP.objects.get()
    assert row.ip == network and row.rule == "manual" and row.created_by == staff_api_client.user
    listed = staff_api_client.get("/api/monitoring/blocked-ips").json()["blocked_ips"]
    assert [b["ip"] for b in listed] == [network]
    event = SecurityEvent.objects.get(kind=EventKind.IP_BLOCKED)
    assert event.detail["blocked"] == network and event.ip is None  # not the staff member's address


def test_staff_blocking_an_ipv6_address_blocks_its_client(staff_api_client):
    created = block(staff_api_client, SAME_64)
    assert created.status_code == 201 and created.json()["ip"] == "2001:db8:1:2::/64"
    assert from_ip(ONE).get(LIVE).status_code == 403
    assert from_ip(NEIGHBOUR_64).get(LIVE).status_code == 200


def test_a_network_is_spelled_one_way_however_it_is_written(staff_api_client):
    assert block(staff_api_client, " 203.0.113.77/24 ").json()["ip"] == "203.0.113.0/24"
    again = block(staff_api_client, "::ffff:203.0.113.0/120")
    assert again.status_code == 201 and again.json()["ip"] == "203.0.113.0/24"
    assert BlockedIP.objects.count() == 1  # the same block, extended


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not-a-network", "valid IPv4 or IPv6"),
        ("203.0.113.0/33", "valid IPv4 or IPv6"),
        ("2001:db8::/129", "valid IPv4 or IPv6"),
        ("", "blank"),
        ("0.0.0.0/0", "too wide"),
        ("10.0.0.0/7", "too wide"),
        ("::/0", "too wide"),
        ("2001:db8::/31", "too wide"),
        ("192.0.2.0/23", "allow-list"),
        ("192.0.2.10", "allow-list"),
        ("10.0.0.0/8", "trusted proxy"),
        ("10.1.2.3", "trusted proxy"),
    ],
)
def test_a_bad_or_dangerous_network_is_refused_and_nothing_is_written(staff_api_client, settings, value, message):
    settings.SECURITY_ALLOWLIST_NETWORKS = parse_networks(["192.0.2.0/24"])
    settings.TRUSTED_PROXY_NETWORKS = parse_networks(["10.1.0.0/16"])
    refused = block(staff_api_client, value)
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == "validation_error" and message in " ".join(error["fields"]["ip"])
    assert not BlockedIP.objects.exists()
    assert not SecurityEvent.objects.filter(kind=EventKind.IP_BLOCKED).exists()


def test_the_widest_networks_allowed_can_be_blocked(staff_api_client):
    assert block(staff_api_client, "11.0.0.0/8").status_code == 201
    assert block(staff_api_client, "2001:db9::/32").status_code == 201
    assert from_ip("11.200.1.1").get(LIVE).status_code == 403
    assert from_ip("2001:db9:ffff::1").get(LIVE).status_code == 403


# --- lifting blocks ------------------------------------------------------------------------------


def test_staff_unblock_a_network_and_an_ipv6_client_over_the_api(staff_api_client):
    block(staff_api_client, "203.0.113.0/24")
    block(staff_api_client, ONE)
    lifted = staff_api_client.post("/api/monitoring/blocked-ips/203.0.113.0/24/unblock")
    assert lifted.status_code == 200 and lifted.json() == {"ip": "203.0.113.0/24", "lifted": 1}
    assert from_ip("203.0.113.9").get(LIVE).status_code == 200
    # Any address of the /64 names its client.
    lifted = staff_api_client.post(f"/api/monitoring/blocked-ips/{SAME_64}/unblock")
    assert lifted.status_code == 200 and lifted.json()["ip"] == "2001:db8:1:2::/64"
    assert from_ip(ONE).get(LIVE).status_code == 200
    assert staff_api_client.post("/api/monitoring/blocked-ips/203.0.113.0/24/unblock").status_code == 404
    bad = staff_api_client.post("/api/monitoring/blocked-ips/203.0.113.0/99/unblock")
    assert bad.status_code == 404 and bad.json()["error"]["code"] == "not_found"


def test_unblock_ip_command_takes_a_network_or_an_ipv6_address():
    services.ip_block(ip="2001:db8:1::/48", rule="manual", reason="test")
    services.ip_block(ip=ONE, rule="scanner", reason="test")
    out = StringIO()
    call_command("unblock_ip", "2001:db8:1::/48", stdout=out)
    call_command("unblock_ip", SAME_64, stdout=out)
    assert "unblocked 2001:db8:1::/48" in out.getvalue() and "unblocked 2001:db8:1:2::/64" in out.getvalue()
    assert from_ip(ONE).get(LIVE).status_code == 200
    call_command("unblock_ip", "198.51.100.0/24", stdout=out)
    assert "198.51.100.0/24 was not blocked" in out.getvalue()
    with pytest.raises(CommandError, match="valid IPv4 or IPv6"):
        call_command("unblock_ip", "198.51.100.0/40")


def test_admin_unblock_action_lifts_a_network(commit, client):
    with commit():
        services.ip_block(ip="203.0.113.0/24", rule="manual", reason="test")
    assert from_ip("203.0.113.9").get(LIVE).status_code == 403
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    row = BlockedIP.objects.get()
    response = client.post("/admin/security/blockedip/", {"action": "unblock", "_selected_action": [row.pk]})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.unblocked_at is not None
    assert from_ip("203.0.113.9").get(LIVE).status_code == 200


def test_a_block_of_a_single_ipv6_address_made_before_networks_still_holds_and_lifts(commit):
    """Rows written when blocks were per address (the migration keeps them as they were)."""
    from datetime import timedelta

    from django.utils import timezone

    from security import blocklist

    BlockedIP.objects.create(ip=ONE, rule="manual", reason="old", expires_at=timezone.now() + timedelta(hours=1))
    blocklist.add(ONE, time.time() + 3600)  # as the reload from the database would
    assert from_ip(ONE).get(LIVE).status_code == 403
    assert from_ip(SAME_64).get(LIVE).status_code == 200  # it blocked one address
    with commit():
        assert services.ip_unblock(ip=ONE) == 1
    assert from_ip(ONE).get(LIVE).status_code == 200


@pytest.mark.redis
def test_a_network_blocked_in_another_process_holds_here_at_the_next_reload():
    from mvpvalidator.cache import redis_client, state_key
    from security import blocklist

    redis_client().hset(state_key("sec:blocked"), "198.51.100.0/24", repr(time.time() + 60))
    blocklist.periodic_sync()
    assert from_ip("198.51.100.200").get(LIVE).status_code == 403
    assert from_ip("198.51.101.1").get(LIVE).status_code == 200


def test_staff_block_a_network_in_the_admin(client, settings):
    settings.SECURITY_ALLOWLIST_NETWORKS = parse_networks(["192.0.2.0/24"])
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    assert client.get("/admin/security/blockedip/add/").status_code == 200
    refused = client.post("/admin/security/blockedip/add/", {"ip": "192.0.2.0/23", "reason": "x"})
    assert refused.status_code == 200 and b"allow-list" in refused.content  # the form again, with the error
    too_wide = client.post("/admin/security/blockedip/add/", {"ip": "0.0.0.0/0", "reason": "x"})
    assert too_wide.status_code == 200 and b"too wide" in too_wide.content
    assert not BlockedIP.objects.exists()
    added = client.post("/admin/security/blockedip/add/", {"ip": "203.0.113.9/24", "reason": "abuse", "minutes": "30"})
    assert added.status_code == 302
    row = BlockedIP.objects.get()
    assert row.ip == "203.0.113.0/24" and row.rule == "manual" and row.created_by == staff
    assert 29 <= (row.expires_at - row.created_at).total_seconds() / 60 <= 30
    assert from_ip("203.0.113.200").get(LIVE).status_code == 403
    assert SecurityEvent.objects.filter(kind=EventKind.IP_BLOCKED).exists()
