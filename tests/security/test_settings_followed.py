"""The security layer reads its settings once rather than on every request, and again after a
change: a quota lowered between two requests of one client refuses the next, and the client
address follows the trusted proxies given."""

import pytest
from django.test import Client

from security.ip import client_ip, parse_networks

pytestmark = pytest.mark.django_db


def test_a_quota_lowered_between_requests_refuses_the_next(settings):
    settings.MAX_REQUESTS_PER_HOUR = 1000
    client = Client(REMOTE_ADDR="203.0.113.120")
    assert client.get("/api/monitoring/live").status_code == 200
    settings.MAX_REQUESTS_PER_HOUR = 1
    refused = client.get("/api/monitoring/live")
    assert refused.status_code == 429 and refused["RateLimit-Limit"] == "1"
    settings.MAX_REQUESTS_PER_HOUR = 1000
    assert client.get("/api/monitoring/live").status_code == 200


def test_the_client_address_follows_the_trusted_proxies_given():
    meta = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "198.51.100.7, 10.1.1.1"}
    proxies, others = parse_networks(["10.0.0.0/8"]), parse_networks(["192.0.2.0/24"])
    assert client_ip(meta, proxies) == "198.51.100.7"
    assert client_ip(meta, others) == "10.0.0.2"  # the peer is no proxy of these: the header is ignored
    assert client_ip(meta, proxies) == "198.51.100.7"
    assert client_ip(meta, parse_networks(["10.0.0.0/8", "198.51.100.0/24"])) == "198.51.100.7"  # the leftmost
    assert client_ip(meta, parse_networks(["10.0.0.0/16"])) == "10.1.1.1"
