"""The domain's health checks, registered with `monitoring.health` by `ProjectsConfig.ready`:
the event worker's backlog, the event buffer's server and the confirmation emails owed. They
degrade the platform, never take it down: the pages keep answering while the worker falls behind."""

from typing import Any

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone

from monitoring import health
from monitoring.health import CheckResult, Status, timed
from mvpvalidator.cache import CacheUnavailable
from mvpvalidator.cache.backend import events_call, events_redis_client, events_separate, events_shared
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


def _config(client: Any, name: str) -> str | None:
    """One CONFIG GET value; None when the server refuses CONFIG (managed Redis often renames
    or forbids it)."""
    from redis.exceptions import ResponseError

    def get() -> Any:
        # Caught here, inside the breaker: a refused command is an answer, not an outage.
        try:
            return client.config_get(name)
        except ResponseError:
            return None

    answer = events_call(get)
    if answer is None:
        return None
    value = answer.get(name, answer.get(name.encode()))
    return value.decode() if isinstance(value, bytes) else value


def _buffer_server(client: Any) -> dict[str, Any]:
    """The events server's eviction policy and what it keeps on disk, each "unknown" when
    neither CONFIG nor INFO says."""
    policy = _config(client, "maxmemory-policy")
    appendonly = _config(client, "appendonly")
    save = _config(client, "save")
    if policy is None or appendonly is None:
        # INFO says the policy and whether the append-only file is on, but not the save points.
        info = events_call(client.info)
        policy = policy or info.get("maxmemory_policy")
        if appendonly is None and "aof_enabled" in info:
            appendonly = "yes" if int(info["aof_enabled"]) else "no"
    if appendonly == "yes":
        persistence = "append-only file" + (f", snapshots ({save})" if save else "")
    elif save:
        persistence = f"snapshots ({save})"
    elif appendonly == "no" and save == "":
        persistence = "none"
    else:
        persistence = "unknown"
    return {"maxmemory_policy": policy or "unknown", "persistence": persistence}


def check_event_buffer() -> CheckResult:
    """The server the event buffer lives on (EVENTS_REDIS_URL). Views wait there until the
    worker stores them, so that server must never evict (`maxmemory-policy noeviction`, else
    full memory drops buffered views: `degraded`) and should keep them on disk (an append-only
    file or save points, else a restart loses what waits: a warning). A server that refuses
    CONFIG (managed Redis) answers "unknown", not an error. Without Redis, events are written
    straight to the database: nothing to check."""

    def run() -> tuple[Status, dict[str, Any]]:
        if not events_shared():
            return "ok", {"buffer": "none: events are written straight to the database"}
        detail: dict[str, Any] = {"server": "own" if events_separate() else "the cache's"}
        try:
            detail.update(_buffer_server(events_redis_client()))
        except CacheUnavailable as exc:
            # The views go to the database meanwhile (slower, nothing lost).
            detail["error"] = str(exc)[:200]
            return "degraded", detail
        warnings = []
        status: Status = "ok"
        if detail["maxmemory_policy"] not in ("noeviction", "unknown"):
            status = "degraded"
            warnings.append(
                f"maxmemory-policy is {detail['maxmemory_policy']}: at full memory Redis drops buffered views"
                " (set noeviction, or give events a server of their own with EVENTS_REDIS_URL)"
            )
        if detail["persistence"] == "none":
            warnings.append("nothing kept on disk: a restart of Redis loses the views not stored yet (appendonly yes)")
        if warnings:
            detail["warnings"] = warnings
        return status, detail

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
    health.register("event_buffer", check_event_buffer, uses_db=False)
    health.register("emails", check_emails, uses_db=True)
