"""The confirmation email's outbox: the signup row records that an email is owed, the worker
sends it over SMTP (to a real relay on loopback), and a relay that is down or refusing costs a
retry later, never the email or the signup."""

import logging
import socket
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from monitoring import health
from projects import emails
from projects import health as project_health
from projects.events import worker
from projects.models import Signup
from projects.services.pages import landing_page_update
from projects.services.signups import signup_confirmations_claim, signup_confirmations_send, signup_create
from tests.projects.conftest import send_due_emails

pytestmark = pytest.mark.django_db


def _signup(page, email: str) -> Signup:
    return signup_create(page=page, email=email).signup


def _closed_port() -> int:
    """A loopback port with nothing listening: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _time_passes() -> None:
    """Every retry time reached (the rows' clock moved instead of the test's)."""
    Signup.objects.exclude(confirmation_due_at=None).update(confirmation_due_at=timezone.now() - timedelta(seconds=1))


def test_the_worker_sends_each_owed_email_once_with_links_to_the_public_address(smtp_relay, live_page, settings):
    settings.PUBLIC_BASE_URL = "https://mvp.example.com"
    _signup(live_page, "a@example.com")
    _signup(live_page, "b@example.com")
    assert smtp_relay.messages == []  # the signup itself sends nothing
    assert send_due_emails() == 2
    assert sorted(smtp_relay.recipients()) == ["a@example.com", "b@example.com"]
    body = smtp_relay.messages[0].get_payload(decode=True).decode()
    assert "https://mvp.example.com/p/chaser/confirm/" in body
    assert "https://mvp.example.com/p/chaser/unsubscribe/" in body
    assert send_due_emails() == 0 and len(smtp_relay.messages) == 2  # sent once
    row = Signup.objects.get(email="a@example.com")
    assert row.confirmation_due_at is None and row.confirmation_sent_at is not None
    assert row.confirmation_attempts == 1


def test_a_relay_that_is_down_costs_a_retry_not_the_email(smtp_relay, live_page, settings):
    settings.EMAIL_PORT = _closed_port()
    for n in range(3):
        _signup(live_page, f"d{n}@example.com")
    batch = signup_confirmations_send()
    assert (batch.claimed, batch.sent, batch.failed) == (3, 0, 1)
    first, *rest = Signup.objects.order_by("pk")
    assert first.confirmation_attempts == 1
    assert first.confirmation_due_at > timezone.now() + timedelta(seconds=emails.RETRY_DELAYS_SECONDS[0] - 10)
    # The rest was never tried: no attempt counted, due again with the first.
    assert [(r.confirmation_attempts, r.confirmation_due_at) for r in rest] == [(0, first.confirmation_due_at)] * 2
    assert send_due_emails() == 0  # nothing before the retry time
    assert Signup.objects.count() == 3  # the signups themselves are untouched

    settings.EMAIL_PORT = smtp_relay.port  # the relay is back
    _time_passes()
    assert send_due_emails() == 3
    assert sorted(smtp_relay.recipients()) == ["d0@example.com", "d1@example.com", "d2@example.com"]


def test_a_refused_address_is_retried_with_growing_delays_then_given_up(smtp_relay, live_page, caplog):
    smtp_relay.refuse = {"gone@example.com"}
    _signup(live_page, "fine@example.com")
    _signup(live_page, "gone@example.com")
    delays = []
    with caplog.at_level(logging.WARNING, logger="projects"):
        for _ in range(emails.MAX_ATTEMPTS):
            started = timezone.now()
            signup_confirmations_send()
            row = Signup.objects.get(email="gone@example.com")
            if row.confirmation_due_at is not None:
                delays.append(round((row.confirmation_due_at - started).total_seconds() / 60))
            _time_passes()
    assert delays == [s // 60 for s in emails.RETRY_DELAYS_SECONDS]  # 1, 5, 30, 120, 720 minutes
    assert row.confirmation_due_at is None and row.confirmation_sent_at is None
    assert row.confirmation_attempts == emails.MAX_ATTEMPTS
    assert any("given up" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)
    assert smtp_relay.recipients() == ["fine@example.com"]  # the refusal held up no one else
    assert send_due_emails() == 0


def test_a_batch_whose_worker_died_is_claimed_again_after_its_lease(live_page):
    owed = {_signup(live_page, f"l{n}@example.com").pk for n in range(2)}
    assert {s.pk for s in signup_confirmations_claim()} == owed  # then the worker dies
    assert signup_confirmations_claim() == []  # leased: no second sender meanwhile
    later = timezone.now() + timedelta(seconds=emails.LEASE_SECONDS + 1)
    assert {s.pk for s in signup_confirmations_claim(now=later)} == owed


def test_no_email_is_owed_without_double_opt_in_or_for_imported_addresses(live_page):
    imported = signup_create(page=live_page, email="i@example.com", send_confirmation=False).signup
    page = landing_page_update(page=live_page, data={"double_opt_in": False})
    plain = _signup(page, "p@example.com")
    assert imported.confirmation_due_at is None and plain.confirmation_due_at is None
    assert signup_confirmations_claim() == []


@pytest.mark.postgres  # SKIP LOCKED; SQLite serializes the claims with its database lock instead
@pytest.mark.django_db(transaction=True)
def test_workers_side_by_side_never_claim_the_same_signup(live_page):
    owed = {_signup(live_page, f"c{n}@example.com").pk for n in range(40)}
    claims: list[list[int]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def claim() -> None:
        start.wait()
        try:
            while batch := signup_confirmations_claim(limit=3):
                claims.append([s.pk for s in batch])
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    claimed = [pk for batch in claims for pk in batch]
    assert sorted(claimed) == sorted(owed)  # each exactly once


@pytest.mark.django_db(transaction=True)
# Committed rows: the loop's two threads each open their own connection, and a row the test's
# transaction had not committed would keep its table locked to the email thread (in-memory
# SQLite answers "table is locked" at once, and the thread waited out 5 s retries until the
# watcher gave up: a flaky failure under load).
@pytest.mark.django_db(transaction=True)
def test_the_worker_loop_sends_the_emails_beside_the_flush(smtp_relay, live_page):
    _signup(live_page, "w@example.com")
    stop = threading.Event()

    def stop_once_delivered() -> None:
        while not stop.is_set() and not smtp_relay.recipients():
            time.sleep(0.02)
        stop.set()

    watcher = threading.Thread(target=stop_once_delivered)
    watcher.start()
    # In-memory SQLite (the embedded test database) answers "table is locked" to two threads at
    # once instead of waiting, and the loops retry after 5 s: passes a few times a second make a
    # collision rare, and the bound leaves room for several retries on a loaded machine.
    total = worker.run(interval=0.25, stop=stop, deadline=time.monotonic() + 60)
    stop.set()
    watcher.join()
    assert total.emailed == 1 and smtp_relay.recipients() == ["w@example.com"]
    assert Signup.objects.get().confirmation_sent_at is not None


def test_health_is_degraded_while_an_email_is_owed_too_long(live_page, settings):
    health.reset_cache()
    signup = _signup(live_page, "h@example.com")
    assert project_health.check_emails().status == "ok"  # just signed up: on its way
    Signup.objects.filter(pk=signup.pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.EMAIL_BACKLOG_WARN_SECONDS + 60)
    )
    result = project_health.check_emails()
    assert result.status == "degraded"
    assert result.detail["waiting"] == 1 and result.detail["due_now"] == 1
    assert result.detail["oldest_waiting_seconds"] > settings.EMAIL_BACKLOG_WARN_SECONDS
    send_due_emails()  # the worker catches up (console backend in tests: locmem)
    assert project_health.check_emails().status == "ok"


def test_an_idle_worker_pass_costs_one_query(live_page, django_assert_num_queries):
    # Every worker asks every second: with nothing due, one read and no transaction.
    signup_create(page=live_page, email="s@example.com", send_confirmation=False)
    with django_assert_num_queries(1):
        assert signup_confirmations_send().claimed == 0
