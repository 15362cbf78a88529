"""Alerts: a JSON POST to the channel's webhook when a rule trips, off the request path.

Channels: `error` (ERROR_WEBHOOK_URL), `performance` (PERFORMANCE_WEBHOOK_URL), `security`
(SECURITY_WEBHOOK_URL). Every alert is kept as an `AlertDelivery` row and posted by the task
`monitoring.tasks.alert_deliver` (jobs.dispatch: a Celery worker with a broker, this process's
background executor without one), each try with `WEBHOOK_TIMEOUT_SECONDS`: a dead or slow
webhook never slows or breaks a request.

Delivery is retried with exponential backoff (`ALERT_DELIVERY_BACKOFF_SECONDS` doubled per
attempt, at most `ALERT_DELIVERY_BACKOFF_MAX_SECONDS`) up to `ALERT_DELIVERY_MAX_ATTEMPTS`
tries: by default 2, 4, 8 ... 256, then 300 s between ten tries (13.5 minutes in all), so a
webhook down for several minutes still gets the alert. A retry the broker will not take (it is
down) goes on in the process that made the try; a delivery whose worker was lost mid-way (killed,
recycled) is sent again by the event worker (`resend_overdue`). Each attempt is claimed on the
row, so however many copies run, each attempt posts once. Deduplication is decided by the outcome,
through one slot per rule shared by all processes (the cache; this process alone when the cache
is away):

- raising a rule takes its slot as "in flight" (an atomic `cache.add`); while it is taken,
  raising the rule again queues nothing;
- a delivery that succeeds marks the slot "sent" for `ALERT_DEDUP_MINUTES`;
- a delivery whose every attempt failed gives the slot back, so the next occurrence alerts again.

The rules that raise alerts (the traffic rules, new errors, security events, failing KPIs) are in
`monitoring.alert_rules`.
"""

import contextlib
import hashlib
import logging
import threading
import time
from concurrent.futures import Future
from typing import Any

import httpx
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from monitoring import context
from mvpvalidator import background

logger = logging.getLogger(__name__)

CHANNEL_SETTINGS = {
    "error": "ERROR_WEBHOOK_URL",
    "performance": "PERFORMANCE_WEBHOOK_URL",
    "security": "SECURITY_WEBHOOK_URL",
}
IN_FLIGHT = "in-flight"
SENT = "sent"
KPI_RULE_PREFIX = "kpi:"

_lock = threading.Lock()


def drain(timeout: float = 10.0) -> None:
    """Wait for alerts being delivered (graceful shutdown, tests), then start afresh."""
    background.drain()


def backoff_seconds(attempt: int) -> float:
    """The wait after failed attempt `attempt` (1 for the first): doubled each time, capped."""
    delay: float = settings.ALERT_DELIVERY_BACKOFF_SECONDS * 2 ** (attempt - 1)
    cap: float = settings.ALERT_DELIVERY_BACKOFF_MAX_SECONDS
    return min(delay, cap)


def in_flight_seconds() -> float:
    """How long a rule's slot stays "in flight" at most: every wait and every try, and a minute
    more. If a delivery's worker dies without an outcome, the slot lapses after this and the
    rule can alert again."""
    attempts: int = settings.ALERT_DELIVERY_MAX_ATTEMPTS
    timeout: float = settings.WEBHOOK_TIMEOUT_SECONDS
    waits = sum(backoff_seconds(n) for n in range(1, attempts))
    return waits + attempts * (timeout + 5) + 60


# --- The deduplication slot of a rule ---------------------------------------------------------


def _slot_key(channel: str, rule: str) -> str:
    digest = hashlib.sha256(rule.encode()).hexdigest()[:32]  # rules hold spaces and paths
    return f"mon:alert:{channel}:{digest}"


# When the cache is away, nobody can coordinate: each process deduplicates alone.
# key -> monotonic time the slot lapses.
_local_slots: dict[str, float] = {}


def _slot_take(channel: str, rule: str) -> bool:
    """True for the caller that takes a free slot: it raises the alert."""
    from mvpvalidator.cache import CacheUnavailable, call

    key = _slot_key(channel, rule)
    try:
        return bool(call(cache.add, key, IN_FLIGHT, in_flight_seconds()))
    except CacheUnavailable:
        now = time.monotonic()
        with _lock:
            if now < _local_slots.get(key, 0.0):
                return False
            _local_slots[key] = now + in_flight_seconds()
            return True


def _dedup_seconds(rule: str) -> int:
    """How long a delivered rule stays quiet: a KPI rule names its failing run and reminder, so
    it stays quiet until its next reminder; every other rule `ALERT_DEDUP_MINUTES`."""
    if rule.startswith(KPI_RULE_PREFIX):
        return int(max(1, settings.KPI_ALERT_REMIND_HOURS) * 3600)
    return int(settings.ALERT_DEDUP_MINUTES * 60)


def _slot_mark_sent(channel: str, rule: str) -> None:
    from mvpvalidator.cache import CacheUnavailable, call

    key = _slot_key(channel, rule)
    seconds = _dedup_seconds(rule)
    with _lock:
        _local_slots[key] = time.monotonic() + seconds
    # Unreachable: the slot lapses with its in-flight timeout; this process remembers meanwhile.
    with contextlib.suppress(CacheUnavailable):
        call(cache.set, key, SENT, seconds)


def _slot_release(channel: str, rule: str) -> None:
    from mvpvalidator.cache import CacheUnavailable, call

    key = _slot_key(channel, rule)
    with _lock:
        _local_slots.pop(key, None)
    with contextlib.suppress(CacheUnavailable):  # unreachable: the slot lapses with its in-flight timeout
        call(cache.delete, key)


def slot_state(channel: str, rule: str) -> str | None:
    """IN_FLIGHT, SENT or None (free): the dashboard and tests."""
    from mvpvalidator.cache import CacheUnavailable, call

    try:
        value = call(cache.get, _slot_key(channel, rule))
    except CacheUnavailable:
        return IN_FLIGHT if time.monotonic() < _local_slots.get(_slot_key(channel, rule), 0.0) else None
    return str(value) if value is not None else None


def reset() -> None:
    """Forget this process's fallback slots and what the sweep of lost deliveries has seen (tests,
    with the rest of the per-process state)."""
    with _lock:
        _local_slots.clear()
        _seen.clear()


background.register("monitoring.alerts", reset=reset)


# --- Raising and delivering --------------------------------------------------------------------


def raise_alert(channel: str, rule: str, *, title: str, details: dict[str, Any] | None = None) -> Future[None] | None:
    """Take the rule's slot, then record the alert and send its delivery task in the background
    (never on the caller's path, nor inside its transaction); None when the rule is deduplicated
    or its channel has no webhook."""
    if channel not in CHANNEL_SETTINGS:
        raise ValueError(f"unknown alert channel {channel!r}")
    if not getattr(settings, CHANNEL_SETTINGS[channel]):
        return None  # alerts of an unconfigured channel stay in the logs and on the dashboard
    if not _slot_take(channel, rule):
        return None
    payload = {
        "channel": channel,
        "rule": rule,
        "title": title,
        "details": details or {},
        "environment": settings.SENTRY_ENVIRONMENT,
        "request_id": context.request_id() or None,
        "at": timezone.now().isoformat(),
    }
    return background.submit(_record_and_send, channel, rule, payload)


def _record_and_send(channel: str, rule: str, payload: dict[str, Any]) -> None:
    from jobs.dispatch import send
    from monitoring.models import AlertDelivery
    from monitoring.tasks import alert_deliver

    try:
        try:
            delivery = AlertDelivery.objects.create(channel=channel, rule=rule[:100], payload=payload)
        except Exception:
            # The database refused (it may be what the alert is about): post without a record.
            logger.warning("could not store alert %s/%s; delivering it unrecorded", channel, rule, exc_info=True)
            _deliver_unrecorded(channel, rule, payload)
            return
        if not send(alert_deliver, args=(delivery.pk,)):
            # The broker is down, which is when alerts matter: deliver from this process instead
            # (eagerly, on this background thread, with the same retries).
            alert_deliver.apply(args=(delivery.pk,))
    finally:
        connection.close()  # this executor thread's own connection


def _apply_in_process(delivery_id: int, attempt: int) -> None:
    from monitoring.tasks import alert_deliver

    try:
        alert_deliver.apply(args=(delivery_id,), kwargs={"first_attempt": attempt})
    finally:
        connection.close()  # this executor thread's own connection


def deliver_in_process(*, delivery_id: int, attempt: int, after: float = 0.0) -> None:
    """Go on with a delivery in this process from attempt `attempt`, `after` seconds from now (a
    timer waits, not a thread of the pool), on the in-process jobs pool with the same retries:
    for a delivery whose next try the broker would not take."""
    if after <= 0:
        background.submit_job(_apply_in_process, delivery_id, attempt)
    else:
        background.submit_job_later(after, _apply_in_process, delivery_id, attempt)


def _post(channel: str, payload: dict[str, Any]) -> tuple[bool, int | None, str]:
    """One POST to the channel's webhook: (whether to try again, HTTP status, error or "")."""
    url = getattr(settings, CHANNEL_SETTINGS.get(channel, ""), "")
    if not url:
        return False, None, "channel no longer configured"
    try:
        response = httpx.post(url, json=payload, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        return True, None, f"{type(exc).__name__}: {str(exc)[:200]}"
    status = response.status_code
    return status >= 400, status, f"HTTP {status}" if status >= 400 else ""


def _deliver_unrecorded(channel: str, rule: str, payload: dict[str, Any]) -> None:
    """The same attempts and waits, on this thread, for an alert that has no row."""
    for attempt in range(1, settings.ALERT_DELIVERY_MAX_ATTEMPTS + 1):
        retry, _, error = _post(channel, payload)
        if not error:
            _slot_mark_sent(channel, rule)
            return
        if not retry or attempt == settings.ALERT_DELIVERY_MAX_ATTEMPTS:
            break
        time.sleep(backoff_seconds(attempt))
    _slot_release(channel, rule)
    logger.error("unrecorded alert %s/%s given up: %s", channel, rule, error)


def attempt_delivery(*, delivery_id: int, attempt: int) -> float | None:
    """Try delivery `delivery_id` for the `attempt`-th time (1 for the first). Returns the seconds
    to wait before the next try, or None when there is nothing more to do: delivered, given up,
    or this attempt was already made (a task the broker delivered twice posts once)."""
    from monitoring.models import AlertDelivery

    # The claim of this attempt: one copy of the task moves `attempts` from attempt - 1.
    claimed = AlertDelivery.objects.filter(
        pk=delivery_id, delivered=False, finished_at__isnull=True, attempts=attempt - 1
    ).update(attempts=attempt)
    if not claimed:
        return None
    delivery = AlertDelivery.objects.get(pk=delivery_id)
    rule = str(delivery.payload.get("rule") or delivery.rule)  # the row's copy is cut to 100 characters
    retry, status, error = _post(delivery.channel, delivery.payload)
    rows = AlertDelivery.objects.filter(pk=delivery_id)
    if not error:
        rows.update(delivered=True, finished_at=timezone.now(), response_status=status, error="")
        _slot_mark_sent(delivery.channel, rule)
        return None
    if attempt >= settings.ALERT_DELIVERY_MAX_ATTEMPTS or not retry:
        rows.update(finished_at=timezone.now(), response_status=status, error=error[:300])
        _slot_release(delivery.channel, rule)
        logger.error("alert %s/%s given up after %d attempts: %s", delivery.channel, delivery.rule, attempt, error)
        return None
    rows.update(response_status=status, error=error[:300])
    delay = backoff_seconds(attempt)
    logger.warning(
        "alert %s/%s attempt %d not delivered (%s); next try in %.0f s",
        delivery.channel, delivery.rule, attempt, error, delay,
    )  # fmt: skip
    return delay


# --- Deliveries whose worker was lost -------------------------------------------------------------

# A pending delivery whose attempt count has not moved for its wait, one try and this margin has
# lost its worker (killed or recycled mid-delivery, or its retry never reached a broker):
# `resend_overdue` sends it again.
RESEND_MARGIN_SECONDS = 120.0
RESEND_BATCH = 100

# Delivery id -> (attempts, time.monotonic() this process first saw that count): the sweep judges
# progress by what it sees, since a row does not say when its last try was made.
_seen: dict[int, tuple[int, float]] = {}


def stalled_after(attempts: int) -> float:
    """How long a delivery's attempt count may stay at `attempts` while its delivery is alive: the
    attempt in flight (at most one webhook timeout), the wait before the next, and the margin."""
    wait = backoff_seconds(attempts) if attempts else 0.0
    timeout: float = settings.WEBHOOK_TIMEOUT_SECONDS
    return (timeout + 5 if attempts else 0.0) + wait + RESEND_MARGIN_SECONDS


def resend_overdue(*, clock: float | None = None) -> int:
    """Send again (through the broker, or in this process when it refuses or there is none) each
    pending delivery whose attempt count has not moved for longer than `stalled_after` it, from
    its next attempt. Never a double post: each attempt is claimed (`attempt_delivery`), so a
    delivery that was only slow and the copy sent here make each attempt once between them, and
    the copy that loses a claim stops. Called by the event worker's periodic work; returns the
    deliveries sent again (or given up on, after their last attempt)."""
    from jobs.dispatch import send
    from monitoring.models import AlertDelivery
    from monitoring.tasks import alert_deliver

    now = time.monotonic() if clock is None else clock
    pending = dict(
        AlertDelivery.objects.filter(delivered=False, finished_at__isnull=True)
        .order_by("created_at")
        .values_list("pk", "attempts")[:RESEND_BATCH]
    )
    with _lock:
        for pk in set(_seen) - set(pending):
            del _seen[pk]  # finished (or beyond the batch): forgotten
        stalled = []
        for pk, attempts in pending.items():
            seen = _seen.get(pk)
            if seen is None or seen[0] != attempts:
                _seen[pk] = (attempts, now)  # new, or it moved: alive
            elif now - seen[1] > stalled_after(attempts):
                stalled.append((pk, attempts))
                _seen[pk] = (attempts, now)  # give the copy sent now its own time
    for pk, attempts in stalled:
        if attempts >= settings.ALERT_DELIVERY_MAX_ATTEMPTS:
            _give_up_stalled(pk)
            continue
        logger.warning("alert delivery %s stalled after %d attempts; sending it again", pk, attempts)
        if not send(alert_deliver, args=(pk,), kwargs={"first_attempt": attempts + 1}):
            deliver_in_process(delivery_id=pk, attempt=attempts + 1)
    return len(stalled)


def _give_up_stalled(delivery_id: int) -> None:
    """Its last attempt was made and its worker lost before recording the outcome: given up on
    (the last post may have arrived; another would exceed ALERT_DELIVERY_MAX_ATTEMPTS)."""
    from monitoring.models import AlertDelivery

    delivery = AlertDelivery.objects.filter(pk=delivery_id, finished_at__isnull=True).first()
    if delivery is None:
        return
    AlertDelivery.objects.filter(pk=delivery_id, finished_at__isnull=True).update(
        finished_at=timezone.now(), error="the worker making its last attempt stopped"
    )
    _slot_release(delivery.channel, str(delivery.payload.get("rule") or delivery.rule))
    logger.error("alert %s/%s given up: the worker making its last attempt stopped", delivery.channel, delivery.rule)
