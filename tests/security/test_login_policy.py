"""The login lockout policy from the outside (security/lockout.py): who is refused, who is not.

The attacker's view (spraying, guessing from one address, guessing from many) and the owner's
view (still able to sign in from elsewhere, and from a known address while the account is under
attack), through the token endpoint, the site's login page and the admin's."""

import time

import pytest
from django.test import Client

from security.models import EventKind, SecurityEvent
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"
WRONG = "wrong-password-1"


@pytest.fixture(autouse=True)
def _generous_token_throttle(settings):
    # The endpoint's own per-address limit is not what these tests are about.
    settings.API_THROTTLES = {**settings.API_THROTTLES, "token": {"rate": "1000/min", "key": "ip"}}
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_form": "1000/m"}
    settings.MAX_LOGIN_ATTEMPTS = 5
    settings.LOCKOUTS_TO_BLOCK = 100  # lockouts that block the address: tested in test_protection


def token(ip: str, email: str, password: str):
    return Client(REMOTE_ADDR=ip).post(
        "/api/auth/token", {"email": email, "password": password}, content_type="application/json"
    )


def test_logging_in_to_ones_own_account_between_misses_does_not_reset_the_address_count():
    mine = UserFactory()
    victims = [UserFactory() for _ in range(8)]
    assert [token(ATTACKER, v.email, WRONG).status_code for v in victims[:4]] == [401] * 4
    assert token(ATTACKER, mine.email, DEFAULT_PASSWORD).status_code == 200
    # The login took back only its own attempt: one more miss is allowed, then the address is out.
    assert [token(ATTACKER, v.email, WRONG).status_code for v in victims[4:]] == [401, 429, 429, 429]
    assert token(ATTACKER, mine.email, DEFAULT_PASSWORD).status_code == 429


def test_successful_logins_from_a_shared_address_do_not_count_against_it():
    colleagues = [UserFactory() for _ in range(8)]
    assert {token(ATTACKER, c.email, DEFAULT_PASSWORD).status_code for c in colleagues} == {200}


def test_guessing_from_one_address_locks_that_pair_but_not_the_owner_elsewhere():
    staff = UserFactory(is_staff=True)
    assert [token(ATTACKER, staff.email, WRONG).status_code for _ in range(5)] == [401] * 5
    locked = token(ATTACKER, staff.email, DEFAULT_PASSWORD)
    assert locked.status_code == 429 and int(locked["Retry-After"]) >= 1
    assert locked.json()["error"]["code"] == "login_locked"
    # The owner, from their own address, is not locked out of their account.
    assert token(OWNER, staff.email, DEFAULT_PASSWORD).status_code == 200
    assert SecurityEvent.objects.filter(kind=EventKind.LOCKOUT, ip=ATTACKER).count() == 1


def test_an_ipv6_client_is_counted_by_its_network():
    user = UserFactory()
    for n in range(5):
        assert token(f"2001:db8:1:2::{n + 1}", user.email, WRONG).status_code == 401
    # Another address of the same /64 is the same client.
    assert token("2001:db8:1:2:ffff::9", user.email, DEFAULT_PASSWORD).status_code == 429
    assert token("2001:db8:1:3::1", user.email, DEFAULT_PASSWORD).status_code == 200


def test_guessing_from_many_addresses_is_slowed_down_but_the_owners_known_address_is_not(settings):
    settings.LOGIN_ACCOUNT_MAX_ATTEMPTS = 3
    owner = UserFactory()
    assert token(OWNER, owner.email, DEFAULT_PASSWORD).status_code == 200  # now a known address

    # The attacker's view: one guess from each of many addresses, every pair under its limit.
    def guess(n: int):
        return token(f"192.0.2.{n}", owner.email, WRONG)

    assert [guess(n).status_code for n in range(1, 5)] == [401] * 4  # the ceiling, then one more
    slowed = guess(5)
    assert slowed.status_code == 429 and 1 <= int(slowed["Retry-After"]) <= 2
    assert slowed.json()["error"]["code"] == "login_locked"
    assert guess(6).status_code == 429

    # The owner's view: their known address signs in while the guessing goes on.
    assert token(OWNER, owner.email, DEFAULT_PASSWORD).status_code == 200
    # A new address of theirs waits like anyone else's until the attack stops.
    assert token("198.51.100.99", owner.email, DEFAULT_PASSWORD).status_code == 429

    # The wait grows: after it, one more guess is let through and the next waits longer.
    time.sleep(2.1)
    assert guess(7).status_code == 401
    longer = guess(8)
    assert longer.status_code == 429 and int(longer["Retry-After"]) > 2


def test_the_site_login_page_answers_the_owner_elsewhere_while_an_attacker_is_locked_out():
    user = UserFactory()
    attacker = Client(REMOTE_ADDR=ATTACKER)
    for _ in range(5):
        assert attacker.post("/accounts/login/", {"username": user.email, "password": WRONG}).status_code == 200
    assert attacker.post("/accounts/login/", {"username": user.email, "password": WRONG}).status_code == 429
    owner = Client(REMOTE_ADDR=OWNER)
    assert owner.post("/accounts/login/", {"username": user.email, "password": DEFAULT_PASSWORD}).status_code == 302


def test_the_admin_login_answers_a_lockout_with_the_sites_429_page():
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = Client(REMOTE_ADDR=ATTACKER)
    for _ in range(5):
        response = client.post("/admin/login/", {"username": staff.email, "password": WRONG})
        assert response.status_code == 200  # the form again, with its error
    locked = client.post("/admin/login/", {"username": staff.email, "password": DEFAULT_PASSWORD})
    assert locked.status_code == 429 and int(locked["Retry-After"]) >= 1
    site = client.post("/accounts/login/", {"username": staff.email, "password": DEFAULT_PASSWORD})
    assert site.status_code == 429
    assert b"Too many requests" in locked.content
    assert locked.content.split(b"<main")[-1][:200] == site.content.split(b"<main")[-1][:200]
    # The staff member, from their own address, still gets in.
    owner = Client(REMOTE_ADDR=OWNER)
    response = owner.post("/admin/login/", {"username": staff.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
