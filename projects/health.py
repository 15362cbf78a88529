"""The domain's health checks, registered with `monitoring.health` by `ProjectsConfig.ready`:
the event worker's backlog and the confirmation emails owed. Both degrade the platform, never
take it down: the pages keep answering while the worker falls behind."""

from typing import Any

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone

from monitoring import health
from monitoring.health import CheckResult, Status, timed
from projects.events import worker
from projects.models import Signup


def check_events() -> CheckResult:
    """The event worker's backlog: events buffered in Redis or stored but not rolled up yet.
    `degraded` when more than EVENT_BACKLOG_WARN wait, or the oldest has waited longer than
    EVENT_BACKLOG_WARN_SECONDS (no worker running, or it cannot keep up): the pages still
    count every view, but analytics and results fall behind."""

    def run() -> tuple[Status, dict[str, Any]]:
        backlog = worker.backlog()
        waiting = (backlog.buffered or 0) + backlog.unrolled
        oldest = backlog.oldest_waiting_seconds
        detail: dict[str, Any] = {
            "buffered": backlog.buffered,
            "not_rolled_up": backlog.unrolled,
            "oldest_waiting_seconds": round(oldest, 1) if oldest is not None else None,
            "last_rollup_at": backlog.last_rollup_at.isoformat() if backlog.last_rollup_at else None,
        }
        late = oldest is not None and oldest > settings.EVENT_BACKLOG_WARN_SECONDS
        return ("degraded" if waiting > settings.EVENT_BACKLOG_WARN or late else "ok"), detail

    return timed(run)


def check_emails() -> CheckResult:
    """Confirmation emails owed to signups (the event worker sends them). `degraded` when one
    has been owed longer than EMAIL_BACKLOG_WARN_SECONDS since its signup: no worker running, or
    the mail relay refusing (each refusal waits longer for its retry). One query, over the
    partial index that holds only the rows still owed an email."""

    def run() -> tuple[Status, dict[str, Any]]:
        now = timezone.now()
        owed = Signup.objects.filter(confirmation_due_at__isnull=False).aggregate(
            waiting=Count("pk"),
            due_now=Count("pk", filter=Q(confirmation_due_at__lte=now)),
            retrying=Count("pk", filter=Q(confirmation_attempts__gt=0)),
            oldest=Min("created_at"),
        )
        oldest = (now - owed["oldest"]).total_seconds() if owed["oldest"] else None
        detail: dict[str, Any] = {
            "waiting": owed["waiting"],
            "due_now": owed["due_now"],
            "retrying": owed["retrying"],
            "oldest_waiting_seconds": round(oldest, 1) if oldest is not None else None,
        }
        late = oldest is not None and oldest > settings.EMAIL_BACKLOG_WARN_SECONDS
        return ("degraded" if late else "ok"), detail

    return timed(run)


def register() -> None:
    """Reported after the platform's own checks, events first. Called by `ProjectsConfig.ready`."""
    health.register("events", check_events, uses_db=True)
    health.register("emails", check_emails, uses_db=True)
