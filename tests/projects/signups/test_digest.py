"""The founders' daily signup digest: the previous day's human signups per project, one email
per founder who had any, plain text and HTML, sent once per founder per day."""

import socket
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
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
    assert outcome == {"day": YESTERDAY, "sent": 1, "already_sent": 0, "failed": []}
    assert signup_digest_send.apply(kwargs={"period": today}).get() is None
    assert len(mail.outbox) == 1
    assert ScheduledRun.objects.get(name="projects.tasks.signup_digest_send").outcome == outcome


def test_digest_task_runs_for_the_current_day_by_default(founders):
    outcome = signup_digest_send.apply().get()
    assert outcome["day"] == schedule.previous(schedule.day(timezone.now()))
