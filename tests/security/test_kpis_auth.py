"""The authentication-success KPI from the outside: logins with the right password through every
login path, and a lockout refusing the real owner, which is what the KPI is there to show."""

import json
import re

import pytest
from django.test import Client

from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.security.kpi_read import kpi

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.80"
WRONG = "wrong-password-1"


@pytest.fixture(autouse=True)
def _lockout_policy(settings):
    settings.API_THROTTLES = {**settings.API_THROTTLES, "token": {"rate": "1000/min", "key": "ip"}}
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_form": "1000/m"}
    settings.MAX_LOGIN_ATTEMPTS = 5
    settings.LOCKOUTS_TO_BLOCK = 100


def counts(figure):
    """Successful logins (numerator) and valid attempts (denominator) behind the figure."""
    return {k: figure["detail"][k] for k in ("numerator", "denominator")}


def token(email: str, password: str, ip: str = ADDRESS):
    return Client(REMOTE_ADDR=ip).post(
        "/api/auth/token", {"email": email, "password": password}, content_type="application/json"
    )


def test_logins_with_the_right_password_on_every_path_keep_it_at_100_percent():
    staff = UserFactory(is_staff=True)
    assert token(staff.email, DEFAULT_PASSWORD).status_code == 200
    assert (
        Client(REMOTE_ADDR=ADDRESS)
        .post("/accounts/login/", {"username": staff.email, "password": DEFAULT_PASSWORD})
        .status_code
        == 302
    )
    assert (
        Client(REMOTE_ADDR=ADDRESS)
        .post("/admin/login/", {"username": staff.email, "password": DEFAULT_PASSWORD})
        .status_code
        == 302
    )
    # Wrong passwords and unknown accounts are not attempts of a valid user.
    assert token(staff.email, WRONG).status_code == 401
    assert token("nobody@example.com", DEFAULT_PASSWORD).status_code == 401
    figure = kpi("auth_success")
    assert figure["value"] == 1.0 and figure["pass"] is True
    assert counts(figure) == {"numerator": 3, "denominator": 3}


def test_an_inactive_accounts_right_password_is_not_a_valid_attempt():
    gone = UserFactory(is_active=False)
    assert token(gone.email, DEFAULT_PASSWORD).status_code == 401
    assert kpi("auth_success")["value"] is None


def _seconds_left_out(body: dict) -> str:
    return re.sub(r"\d+ seconds", "N seconds", json.dumps(body, sort_keys=True))


def test_a_lockout_refusing_the_owner_drops_it_below_99_percent():
    owner = UserFactory()
    assert token(owner.email, DEFAULT_PASSWORD).status_code == 200
    # Someone at the owner's address guesses until the lockout engages.
    assert [token(owner.email, WRONG).status_code for _ in range(5)] == [401] * 5
    wrong_refused = token(owner.email, WRONG)
    owner_refused = token(owner.email, DEFAULT_PASSWORD)
    # The owner is refused exactly as the guesser is: the KPI's check changes nothing they see
    # (but the wait, which a second may have shortened between the two answers).
    assert owner_refused.status_code == wrong_refused.status_code == 429
    assert _seconds_left_out(owner_refused.json()) == _seconds_left_out(wrong_refused.json())
    figure = kpi("auth_success")
    assert counts(figure) == {"numerator": 1, "denominator": 2}
    assert figure["value"] == 0.5 and figure["pass"] is False


def test_the_session_login_refusing_the_owner_counts_too():
    owner = UserFactory()
    site = Client(REMOTE_ADDR=ADDRESS)
    for _ in range(5):
        site.post("/accounts/login/", {"username": owner.email, "password": WRONG})
    refused = site.post("/accounts/login/", {"username": owner.email, "password": DEFAULT_PASSWORD})
    assert refused.status_code == 429
    assert counts(kpi("auth_success")) == {"numerator": 0, "denominator": 1}


def test_refused_attempts_have_their_password_checked_a_bounded_number_of_times():
    owner = UserFactory()
    for _ in range(5):
        token(owner.email, WRONG)
    # A flood of refused attempts (right password or not) does not become a flood of hashing.
    assert {token(owner.email, DEFAULT_PASSWORD).status_code for _ in range(12)} == {429}
    assert counts(kpi("auth_success"))["denominator"] == 5


def test_many_addresses_guessing_one_account_share_one_budget_of_checks(monkeypatch):
    """Thousands of addresses past the account's ceiling cost `MAX_LOGIN_ATTEMPTS` hashes a window
    in all for the KPI, not that many per address."""
    from security import backends

    owner = UserFactory()
    hashes = []
    real_check = backends.check_password
    monkeypatch.setattr(backends, "check_password", lambda *a, **k: hashes.append(1) or real_check(*a, **k))
    answers = [token(owner.email, WRONG, ip=f"203.0.113.{n + 1}").status_code for n in range(60)]
    refused = answers.count(429)
    assert refused > 30  # past the account's ceiling, whatever the address
    # Each allowed guess is one check by the login itself; the refused ones share one budget.
    assert len(hashes) - (len(answers) - refused) <= 5
