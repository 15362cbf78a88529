"""Alert delivery as a task: retried with exponential backoff against a real loopback webhook,
deduplicated by the outcome (a rule is "sent" only once a delivery succeeded), posted once
however often the task is delivered. Backoffs are scaled down to tenths of a second."""

import socket
import time

import pytest

from monitoring import alert_rules, alerts
from monitoring.models import AlertDelivery
from monitoring.tasks import alert_deliver
from tests.jobs.conftest import broker, use_broker  # noqa: F401 - fixtures shared with the job tests

pytestmark = pytest.mark.django_db(transaction=True)

RULE = "ip_blocked:203.0.113.9"


class TimedList(list):
    """The receiver's list of posts, noting when each arrived."""

    def __init__(self):
        super().__init__()
        self.times: list[float] = []

    def append(self, item):
        self.times.append(time.monotonic())
        super().append(item)


@pytest.fixture
def hook(settings, webhook):
    webhook.received = TimedList()
    settings.SECURITY_WEBHOOK_URL = webhook.url
    settings.ALERT_DELIVERY_BACKOFF_SECONDS = 0.1
    settings.ALERT_DELIVERY_BACKOFF_MAX_SECONDS = 0.4
    settings.ALERT_DELIVERY_MAX_ATTEMPTS = 20
    return webhook


def finished(timeout: float = 20.0) -> AlertDelivery:
    """The one alert row, once it is delivered or given up on."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = AlertDelivery.objects.filter(finished_at__isnull=False).first()
        if row is not None:
            return row
        time.sleep(0.05)
    raise AssertionError(f"no alert finished in {timeout} s: {list(AlertDelivery.objects.values())}")


def raise_security() -> object:
    return alert_rules.security_event(RULE, title="IP blocked", details={"ip": "203.0.113.9"})


def test_an_alert_is_delivered_after_its_webhook_comes_back_with_the_attempts_counted(hook):
    hook.status = 503
    assert raise_security() is not None
    hook.wait_for(3, timeout=10)  # refused three times: 0.1 + 0.2 s of waits at least
    hook.status = 200
    row = finished()
    assert row.delivered and row.status == "delivered" and row.response_status == 200 and row.error == ""
    assert row.attempts == len(hook.received) >= 4  # every attempt posted once, the last one taken
    assert all(post["json"]["rule"] == RULE for post in hook.received)
    assert alerts.slot_state("security", RULE) == alerts.SENT


def test_retries_wait_the_exponential_backoff(hook, settings):
    settings.ALERT_DELIVERY_MAX_ATTEMPTS = 5
    hook.status = 500
    raise_security()
    row = finished()
    assert row.attempts == 5 and len(hook.received) == 5
    gaps = [later - earlier for earlier, later in zip(hook.received.times, hook.received.times[1:], strict=False)]
    # 0.1, 0.2, 0.4, then capped at 0.4 (each gap also holds a post: a few ms).
    for gap, wait in zip(gaps, [0.1, 0.2, 0.4, 0.4], strict=True):
        assert wait <= gap < wait + 0.5, gaps
    assert [alerts.backoff_seconds(n) for n in range(1, 6)] == [0.1, 0.2, 0.4, 0.4, 0.4]


def test_an_alert_never_taken_gives_its_slot_back_and_the_next_occurrence_alerts_again(hook, settings):
    settings.ALERT_DELIVERY_MAX_ATTEMPTS = 3
    hook.status = 500
    raise_security()
    row = finished()
    assert not row.delivered and row.status == "failed" and row.attempts == 3
    assert row.error == "HTTP 500" and row.response_status == 500
    assert alerts.slot_state("security", RULE) is None

    hook.status = 200
    assert raise_security() is not None  # the rule alerts again
    alerts.drain()
    deadline = time.monotonic() + 10
    while not AlertDelivery.objects.filter(delivered=True).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert AlertDelivery.objects.count() == 2 and AlertDelivery.objects.filter(delivered=True).count() == 1


def test_a_dead_address_is_retried_then_given_up(settings, hook):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.SECURITY_WEBHOOK_URL = f"http://127.0.0.1:{port}/hook"
    settings.ALERT_DELIVERY_MAX_ATTEMPTS = 2
    raise_security()
    row = finished()
    assert row.attempts == 2 and not row.delivered and "ConnectError" in row.error


def test_raising_a_rule_while_its_alert_is_in_flight_queues_nothing(hook):
    hook.status = 503
    assert raise_security() is not None
    hook.wait_for(1)
    assert alerts.slot_state("security", RULE) == alerts.IN_FLIGHT
    assert raise_security() is None and raise_security() is None
    hook.status = 200
    row = finished()
    assert row.delivered
    assert raise_security() is None  # sent: deduplicated for ALERT_DEDUP_MINUTES
    assert AlertDelivery.objects.count() == 1
    assert {post["json"]["rule"] for post in hook.received} == {RULE}


def test_a_task_delivered_twice_posts_once(hook):
    row = AlertDelivery.objects.create(channel="security", rule=RULE, payload={"rule": RULE, "title": "t"})
    alert_deliver.apply(args=(row.pk,))
    alert_deliver.apply(args=(row.pk,))  # the broker's second delivery of the same message
    assert len(hook.received) == 1
    row.refresh_from_db()
    assert row.delivered and row.attempts == 1
    # An attempt another copy already made is not made again, even while the alert is pending.
    pending = AlertDelivery.objects.create(channel="security", rule="r2", payload={"rule": "r2"}, attempts=1)
    assert alerts.attempt_delivery(delivery_id=pending.pk, attempt=1) is None
    assert len(hook.received) == 1


def test_in_process_delivery_runs_off_the_callers_path(hook, settings):
    assert settings.JOBS_IN_PROCESS  # no broker in this run: the task runs on the background executor
    hook.delay = 1.0
    started = time.perf_counter()
    assert raise_security() is not None
    assert time.perf_counter() - started < 0.2
    row = finished()
    assert row.delivered and row.attempts == 1


def test_unconfigured_channel_records_nothing(settings):
    settings.SECURITY_WEBHOOK_URL = ""
    assert raise_security() is None
    assert not AlertDelivery.objects.exists()


# --- A delivery whose worker was lost, a retry the broker refused ---------------------------------


def pending_row(attempts: int) -> AlertDelivery:
    return AlertDelivery.objects.create(
        channel="security", rule=RULE, payload={"rule": RULE, "title": "t"}, attempts=attempts
    )


def test_a_stalled_delivery_is_sent_again_from_its_next_attempt(hook):
    row = pending_row(attempts=1)  # its worker was killed after the first try
    assert alerts.resend_overdue(clock=0.0) == 0  # first seen: it may be waiting its backoff
    assert alerts.resend_overdue(clock=alerts.stalled_after(1) - 1) == 0
    assert alerts.resend_overdue(clock=alerts.stalled_after(1) + 1) == 1
    row = finished()
    assert row.delivered and row.attempts == 2 and len(hook.received) == 1
    assert alerts.resend_overdue(clock=1e6) == 0  # delivered: nothing left to send


def test_a_delivery_that_moves_is_left_to_its_worker(hook):
    row = pending_row(attempts=1)
    alerts.resend_overdue(clock=0.0)
    AlertDelivery.objects.filter(pk=row.pk).update(attempts=2)  # its worker made the next try
    assert alerts.resend_overdue(clock=alerts.stalled_after(1) + 1) == 0
    assert alerts.resend_overdue(clock=alerts.stalled_after(1) + alerts.stalled_after(2) + 2) == 1
    row = finished()
    assert row.delivered and row.attempts == 3 and len(hook.received) == 1


def test_a_slow_worker_and_the_copy_sent_again_post_the_attempt_once(hook):
    row = pending_row(attempts=1)
    alerts.resend_overdue(clock=0.0)
    assert alerts.resend_overdue(clock=1e6) == 1  # the copy, on the background executor
    alert_deliver.apply(args=(row.pk,), kwargs={"first_attempt": 2})  # the slow worker's own retry
    alerts.drain()
    row = finished()
    assert row.delivered and row.attempts == 2 and len(hook.received) == 1


def test_the_event_worker_sends_stalled_deliveries_again(hook, settings, monkeypatch):
    from projects.events import worker

    settings.CELERY_BEAT_SCHEDULE = {}  # only the alerts' part of the periodic work
    monkeypatch.setattr(alerts, "RESEND_MARGIN_SECONDS", 0.0)  # stalled once seen twice unmoved
    row = pending_row(attempts=0)  # raised, then its process was recycled before the first try
    worker.periodic()
    time.sleep(0.01)
    worker.periodic()
    row = finished()
    assert row.delivered and row.attempts == 1 and len(hook.received) == 1


def test_a_retry_the_broker_refuses_is_delivered_on_by_the_worker(hook, settings, broker, use_broker):  # noqa: F811
    """The task as a worker runs it (a worker's request, not eager), its broker a real Redis that
    has crashed: Celery cannot publish the retry and would drop the message; the worker's
    process goes on with the delivery itself, after the backoff."""
    settings.ALERT_DELIVERY_BACKOFF_SECONDS = 1.0
    use_broker(broker.url)
    broker.kill()
    hook.status = 503
    row = pending_row(attempts=0)
    alert_deliver.push_request(id="delivery-task", called_directly=False, is_eager=False, retries=0, args=[row.pk])
    try:
        alert_deliver.run(row.pk)  # returns: nothing raised to Celery, nothing dropped
    finally:
        alert_deliver.pop_request()
    assert len(hook.received) == 1
    hook.status = 200  # within the backoff: the next try is taken
    row = finished(timeout=20)
    assert row.delivered and row.attempts == 2 and len(hook.received) == 2


def test_a_delivery_stalled_after_its_last_attempt_is_given_up_not_posted_again(hook, settings):
    settings.ALERT_DELIVERY_MAX_ATTEMPTS = 3
    row = pending_row(attempts=3)
    alerts.resend_overdue(clock=0.0)
    assert alerts.resend_overdue(clock=1e6) == 1
    row.refresh_from_db()
    assert row.status == "failed" and "last attempt" in row.error and hook.received == []
