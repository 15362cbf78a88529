"""The founders' daily signup digest: the previous day's human signups per project, one email
per founder who had any, plain text and HTML, sent once per founder per day."""

import socket
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from jobs import schedule
from jobs.models import ScheduledRun
from projects.models import Signup
from projects.models.events import Traffic
from projects.services.digests import signup_digests_send
from projects.tasks import signup_digest_send
from tests.factories import ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

YESTERDAY = "2031-03-03"
AT = datetime(2031, 3, 3, 15, 0, tzinfo=UTC)


def signup(page, *, at: datetime = AT, traffic: str = Traffic.HUMAN, n: int = 1) -> None:
    for _ in range(n):
        row = Signup.objects.create(
            landing_page=page, project=page.project, email=f"v{Signup.objects.count()}@example.com",
            consent=True, consent_at=at, traffic=traffic,
        )  # fmt: skip
        Signup.objects.filter(pk=row.pk).update(created_at=at)


def published(owner, name: str, slug: str):
    from projects.services.pages import landing_page_create, landing_page_publish
    from projects.services.prototypes import prototype_generate

    project = ProjectFactory(owner=owner, name=name)
    prototype_generate(project=project)
    return landing_page_publish(page=landing_page_create(project=project, slug=slug))


@pytest.fixture
def founders():
    alice, bob, gone = UserFactory(name="Alice"), UserFactory(), UserFactory(is_active=False)
    invoices = published(alice, "Invoice chaser", "invoices")
    dogs = published(alice, "Dog walking", "dogs")
    quiet = published(bob, "Quiet idea", "quiet")
    signup(invoices, n=3)
    signup(dogs)
    signup(dogs, traffic=Traffic.BOT)  # bots are not news
    signup(invoices, at=AT + timedelta(days=1))  # the next day: tomorrow's digest
    signup(quiet, at=AT - timedelta(days=1))  # the day before: not in this one
    signup(published(gone, "Left", "left"))  # an inactive account gets nothing
    return alice, bob


def test_each_founder_with_signups_gets_one_digest_of_the_day(founders):
    alice, _ = founders
    result = signup_digests_send(day=YESTERDAY)
    assert (result.sent, result.already_sent, result.failed) == (1, 0, [])
    [message] = mail.outbox
    assert message.to == [alice.email] and message.subject == f"4 new signups on {YESTERDAY}"
    assert "Invoice chaser: 3 signups" in message.body and "Dog walking: 1 signup " in message.body
    assert message.body.index("Invoice chaser") < message.body.index("Dog walking")  # most first
    assert "/projects/" in message.body and "4 in all" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "<li><a href=" in html and "Invoice chaser</a>: 3 signups" in html


def test_a_day_is_sent_once_per_founder(founders):
    assert signup_digests_send(day=YESTERDAY).sent == 1
    again = signup_digests_send(day=YESTERDAY)
    assert (again.sent, again.already_sent) == (0, 1) and len(mail.outbox) == 1


def test_no_signups_no_email(founders):
    assert signup_digests_send(day="2031-02-01").sent == 0 and mail.outbox == []


def test_a_refused_email_gives_its_claim_back(founders, settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    alice, _ = founders
    result = signup_digests_send(day=YESTERDAY)
    assert (result.sent, result.failed) == (0, [alice.pk])
    assert not ScheduledRun.objects.filter(name__startswith="signup-digest:").exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert signup_digests_send(day=YESTERDAY).sent == 1  # sent by the next try


def test_the_scheduled_task_sends_the_previous_days_digest_once(founders):
    today = schedule.day(AT + timedelta(days=1))
    outcome = signup_digest_send.apply(kwargs={"period": today}).get()
    assert outcome == {"day": YESTERDAY, "sent": 1, "already_sent": 0, "failed": [], "left": 0}
    # Beat sends it every hour: the later sends find every founder's email claimed.
    again = signup_digest_send.apply(kwargs={"period": today}).get()
    assert again == {"day": YESTERDAY, "sent": 0, "already_sent": 1, "failed": [], "left": 0}
    assert len(mail.outbox) == 1
    assert not ScheduledRun.objects.filter(name="projects.tasks.signup_digest_send").exists()  # no day claim


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_relay_down_at_the_first_send_costs_an_hour_not_the_day(founders, smtp_relay, settings):
    alice, _ = founders
    carol = UserFactory(name="Carol")
    signup(published(carol, "Bike repair", "bikes"), n=2)
    today = schedule.day(AT + timedelta(days=1))

    settings.EMAIL_PORT = closed_port()  # 07:00: the relay is down
    first = signup_digest_send.apply(kwargs={"period": today}).get()
    assert first["sent"] == 0 and sorted(first["failed"]) == sorted([alice.pk, carol.pk])

    settings.EMAIL_PORT = smtp_relay.port  # 08:00: it is back
    second = signup_digest_send.apply(kwargs={"period": today}).get()
    assert (second["sent"], second["failed"]) == (2, [])
    third = signup_digest_send.apply(kwargs={"period": today}).get()
    assert (third["sent"], third["already_sent"]) == (0, 2)
    assert sorted(smtp_relay.recipients()) == sorted([alice.email, carol.email])  # each exactly once


def test_a_founder_whose_send_fails_otherwise_gets_it_at_the_next_send_and_the_others_at_once(founders, smtp_relay):
    alice, _ = founders
    carol = UserFactory(name="Carol")
    signup(published(carol, "Bike repair", "bikes"))
    good = alice.email
    # An address the mail library refuses to put on the envelope: a ValueError, not the relay's.
    type(alice).objects.filter(pk=alice.pk).update(email="alice@exa mple.com")
    today = schedule.day(AT + timedelta(days=1))

    first = signup_digest_send.apply(kwargs={"period": today}).get()
    assert (first["sent"], first["failed"]) == (1, [alice.pk])
    assert smtp_relay.recipients() == [carol.email]  # the founder after her still got hers

    type(alice).objects.filter(pk=alice.pk).update(email=good)
    second = signup_digest_send.apply(kwargs={"period": today}).get()
    assert (second["sent"], second["already_sent"], second["failed"]) == (1, 1, [])
    assert sorted(smtp_relay.recipients()) == sorted([good, carol.email])


def test_a_founder_deleted_between_the_queries_is_skipped(founders):
    alice, _ = founders
    carol = UserFactory(name="Carol")
    signup(published(carol, "Bike repair", "bikes"))
    deleted = []

    def delete_alice_before_the_owners_are_read(execute, sql, params, many, context):
        # The owners' query comes after the signups' one: the account is closed in between.
        if not deleted and 'FROM "security_user"' in sql:
            deleted.append(True)
            type(alice).objects.filter(pk=alice.pk).delete()
        return execute(sql, params, many, context)

    with connection.execute_wrapper(delete_alice_before_the_owners_are_read):
        result = signup_digests_send(day=YESTERDAY)
    assert deleted and (result.sent, result.failed) == (1, [])
    assert [message.to for message in mail.outbox] == [[carol.email]]


def test_the_digest_stops_at_its_deadline_leaving_the_rest_unclaimed(founders):
    result = signup_digests_send(day=YESTERDAY, deadline=time.monotonic() - 1)
    assert (result.sent, result.left) == (0, 1) and mail.outbox == []
    assert not ScheduledRun.objects.filter(name__startswith="signup-digest:").exists()
    assert signup_digests_send(day=YESTERDAY).sent == 1  # the next run sends it


def test_digest_task_runs_for_the_current_day_by_default(founders):
    outcome = signup_digest_send.apply().get()
    assert outcome["day"] == schedule.previous(schedule.day(timezone.now()))
