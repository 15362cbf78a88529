"""The rules that raise alerts (`monitoring.alerts` delivers them):

- `error_rate`: 5xx share of the last five minutes above `ALERT_ERROR_RATE` (with at least
  `ALERT_MIN_REQUESTS` requests), checked by each process's flusher about every 30 s;
- `p95:<route>`: a route's p95 over the last five minutes above `ALERT_P95_MS`;
- `new_error:<fingerprint>`: an error group seen for the first time;
- `security:<rule>`: raised by the security layer (`security_event`);
- `kpi:<id>:<run start>[:<n>]`: a production guide KPI (`monitoring.kpis`) failing over the
  last two hour buckets for longer than `KPI_ALERT_AFTER_MINUTES`, checked on the same pass as
  the traffic rules; security KPIs alert the security channel, availability ones the error
  channel, the others performance. The failing run's start is in the rule, so a lasting failure
  (a cumulative KPI stays failing for days) alerts once, then reminder `n` every
  `KPI_ALERT_REMIND_HOURS`; its slot stays "sent" that long, not `ALERT_DEDUP_MINUTES`.
"""

import logging
import time
from concurrent.futures import Future
from typing import Any

from django.conf import settings
from django.db import connection

from monitoring import metrics
from monitoring.alerts import KPI_RULE_PREFIX, raise_alert
from mvpvalidator import background

logger = logging.getLogger(__name__)

EVALUATE_EVERY_SECONDS = 30.0
# The KPIs are judged over a window of minutes (KPI_ALERT_AFTER_MINUTES): once a minute is enough,
# and the first pass waits that long after the process starts, so a starting server (or a test
# that just set a webhook) does not read every KPI's tables at once beside its first requests.
KPI_EVALUATE_EVERY_SECONDS = 60.0

_last_evaluation = 0.0
_last_kpi_evaluation = time.monotonic()


def reset() -> None:
    """Start the KPI pass's minute again, as at a process start (tests, with the rest of the
    per-process state)."""
    global _last_kpi_evaluation
    _last_kpi_evaluation = time.monotonic()


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


KPI_CHANNELS = {
    "performance": "performance",
    "security": "security",
    "availability": "error",
    "database": "performance",
}
# The window a KPI is judged over for alerting, in hour buckets: the previous full hour and the
# current one (60 to 120 minutes back, not a true 60-minute lookback: the counters are kept per
# clock hour). One bucket alone would hold only seconds just after each hour's turn, and a
# failure would vanish there; two still see it, and stay recent enough that a recovery clears it.
KPI_ALERT_HOURS = 2


def evaluate_kpis(now: float | None = None) -> list[str]:
    """Alert each KPI that has been failing for longer than `KPI_ALERT_AFTER_MINUTES`; returns
    the rules that fired: one per failing run, then one reminder per `KPI_ALERT_REMIND_HOURS`
    while the run lasts (the rule names both, so the dedup slot never re-alerts the same run)."""
    from monitoring import kpis

    now = now if now is not None else time.time()
    fired: list[str] = []
    for kpi in kpis.evaluate(hours=KPI_ALERT_HOURS, now=now, spark=False):
        since = kpi["failing_since"]
        if kpi["pass"] is not False or since is None:
            continue
        minutes = (now - since.timestamp()) / 60
        if minutes <= settings.KPI_ALERT_AFTER_MINUTES:
            continue
        remind_minutes = max(1, settings.KPI_ALERT_REMIND_HOURS) * 60
        reminder = int((minutes - settings.KPI_ALERT_AFTER_MINUTES) // remind_minutes)
        rule = f"{KPI_RULE_PREFIX}{kpi['id']}:{int(since.timestamp())}" + (f":{reminder}" if reminder else "")
        value = kpis.format_value(kpi["value"], kpi["unit"])
        lasted = f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.0f} h"
        failing = "still failing" if reminder else "failing"
        if raise_alert(
            KPI_CHANNELS[kpi["group"]],
            rule,
            title=f"KPI {failing} for {lasted}: {kpi['name']} {value} (target {kpi['target']})",
            details={
                "kpi": kpi["id"],
                "value": kpi["value"],
                "target": kpi["target"],
                "failing_since": since.isoformat(),
                "reminder": reminder,
                "window_hours": KPI_ALERT_HOURS,
                "source": kpi["source"],
                "detail": kpi["detail"],
            },
        ):
            fired.append(rule)
    return fired


def maybe_evaluate() -> None:
    """Called by the background flusher about once a second: evaluates at most every `EVALUATE_EVERY_SECONDS`."""
    global _last_evaluation, _last_kpi_evaluation
    if not (settings.ERROR_WEBHOOK_URL or settings.PERFORMANCE_WEBHOOK_URL or settings.SECURITY_WEBHOOK_URL):
        return
    now = time.monotonic()
    if now - _last_evaluation < EVALUATE_EVERY_SECONDS:
        return
    _last_evaluation = now
    try:
        evaluate()
    except Exception:
        logger.warning("alert evaluation failed", exc_info=True)
    if now - _last_kpi_evaluation < KPI_EVALUATE_EVERY_SECONDS:
        connection.close()
        return
    _last_kpi_evaluation = now
    try:
        evaluate_kpis()
    except Exception:
        logger.warning("KPI alert evaluation failed", exc_info=True)
    finally:
        connection.close()


# The rules' pass: checked about once a second (`maybe_evaluate` evaluates at most every
# EVALUATE_EVERY_SECONDS), never at exit (a pull, not a send).
background.register(
    "monitoring.alert_rules", flush=maybe_evaluate, every=metrics.FLUSH_EVERY_SECONDS, reset=reset, at_exit=False
)
