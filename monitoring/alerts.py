"""Alerts: a JSON POST to the channel's webhook when a rule trips, off the request path.

Channels: `error` (ERROR_WEBHOOK_URL), `performance` (PERFORMANCE_WEBHOOK_URL), `security`
(SECURITY_WEBHOOK_URL). Each rule fires at most once per `ALERT_DEDUP_MINUTES` across all
processes (an atomic `cache.add`), every alert is kept as an `AlertDelivery` row, and delivery
runs on a background thread with `WEBHOOK_TIMEOUT_SECONDS`: a dead or slow webhook never slows or
breaks a request.

Rules:
- `error_rate`: 5xx share of the last five minutes above `ALERT_ERROR_RATE` (with at least
  `ALERT_MIN_REQUESTS` requests), checked by each process's flusher about every 30 s;
- `p95:<route>`: a route's p95 over the last five minutes above `ALERT_P95_MS`;
- `new_error:<fingerprint>`: an error group seen for the first time;
- `security:<rule>`: raised by the security layer (`security_event`).
"""

import hashlib
import logging
import threading
import time
from concurrent.futures import Future
from typing import Any

import httpx
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from monitoring import context
from mvpvalidator import background

logger = logging.getLogger(__name__)

CHANNEL_SETTINGS = {
    "error": "ERROR_WEBHOOK_URL",
    "performance": "PERFORMANCE_WEBHOOK_URL",
    "security": "SECURITY_WEBHOOK_URL",
}
EVALUATE_EVERY_SECONDS = 30.0

_lock = threading.Lock()
_last_evaluation = 0.0


def drain(timeout: float = 10.0) -> None:
    """Wait for alerts being delivered (graceful shutdown, tests), then start afresh."""
    background.drain()


def _first_in_window(channel: str, rule: str) -> bool:
    """True for the first caller per rule per dedup window, across processes."""
    from mvpvalidator.cache import CacheUnavailable, call

    try:
        digest = hashlib.sha256(rule.encode()).hexdigest()[:32]  # rules hold spaces and paths
        return bool(call(cache.add, f"mon:alert:{channel}:{digest}", 1, settings.ALERT_DEDUP_MINUTES * 60))
    except CacheUnavailable:
        # Nobody can coordinate: deduplicate within this process only.
        return _local_dedup(channel, rule)


_local_sent: dict[str, float] = {}


def _local_dedup(channel: str, rule: str) -> bool:
    key = f"{channel}:{rule}"
    now = time.monotonic()
    with _lock:
        if now - _local_sent.get(key, -1e9) < settings.ALERT_DEDUP_MINUTES * 60:
            return False
        _local_sent[key] = now
        return True


def raise_alert(channel: str, rule: str, *, title: str, details: dict[str, Any] | None = None) -> Future[None] | None:
    """Record the alert and post it in the background; None when deduplicated."""
    if channel not in CHANNEL_SETTINGS:
        raise ValueError(f"unknown alert channel {channel!r}")
    url = getattr(settings, CHANNEL_SETTINGS[channel])
    if not url:  # alerts of an unconfigured channel stay in the logs and on the dashboard
        return None
    if not _first_in_window(channel, rule):
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
    return background.submit(_deliver, channel, rule, payload, url)


def _deliver(channel: str, rule: str, payload: dict[str, Any], url: str) -> int | None:
    from monitoring.models import AlertDelivery

    status: int | None = None
    error = ""
    try:
        response = httpx.post(url, json=payload, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
        status = response.status_code
        if status >= 400:
            error = f"HTTP {status}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {str(exc)[:200]}"
    if error:
        logger.warning("alert %s/%s not delivered: %s", channel, rule, error)
    try:
        AlertDelivery.objects.create(
            channel=channel, rule=rule[:100], payload=payload, delivered=not error, response_status=status,
            error=error[:300],
        )  # fmt: skip
    except Exception:
        logger.warning("could not store alert %s/%s", channel, rule, exc_info=True)
    finally:
        from django.db import connection

        connection.close()
    return status


# --- Rules ------------------------------------------------------------------------------------


def error_recorded(group: Any) -> None:
    """A first occurrence of an error group alerts the error channel."""
    if group is None or group.count != 1:
        return
    raise_alert(
        "error",
        f"new_error:{group.fingerprint}",
        title=f"New error: {group.exc_type}",
        details={
            "location": group.location,
            "message": group.message[:300],
            "route": group.route,
            "request_id": group.last_request_id,
        },
    )


def security_event(rule: str, *, title: str, details: dict[str, Any] | None = None) -> Future[None] | None:
    """For the security layer: an IP blocked, a lockout, a scan."""
    return raise_alert("security", rule, title=title, details=details)


def evaluate(now: float | None = None) -> list[str]:
    """Check the traffic rules over the last five minutes; returns the rules that fired."""
    from monitoring import selectors

    window = selectors.request_window(5, now=now)
    fired: list[str] = []
    total = window["overall"]["count"]
    if total >= settings.ALERT_MIN_REQUESTS and window["overall"]["error_rate"] > settings.ALERT_ERROR_RATE:
        overall = window["overall"]
        if raise_alert(
            "error",
            "error_rate",
            title=f"Error rate {overall['error_rate']:.1%} over 5 minutes",
            details={"errors": overall["errors"], "requests": total, "threshold": settings.ALERT_ERROR_RATE},
        ):
            fired.append("error_rate")
    for route in window["routes"]:
        p95 = route["p95"]
        if route["count"] >= settings.ALERT_MIN_REQUESTS and p95 is not None and p95 > settings.ALERT_P95_MS:
            rule = f"p95:{route['method']} {route['route']}"
            if raise_alert(
                "performance",
                rule,
                title=f"p95 {p95:.0f} ms on {route['method']} {route['route']}",
                details={"p95_ms": p95, "requests": route["count"], "threshold_ms": settings.ALERT_P95_MS},
            ):
                fired.append(rule)
    return fired


def maybe_evaluate() -> None:
    """Called by the background flusher about once a second: evaluates at most every `EVALUATE_EVERY_SECONDS`."""
    global _last_evaluation
    if not (settings.ERROR_WEBHOOK_URL or settings.PERFORMANCE_WEBHOOK_URL):
        return
    now = time.monotonic()
    if now - _last_evaluation < EVALUATE_EVERY_SECONDS:
        return
    _last_evaluation = now
    try:
        evaluate()
    except Exception:
        logger.warning("alert evaluation failed", exc_info=True)
    finally:
        from django.db import connection

        connection.close()
