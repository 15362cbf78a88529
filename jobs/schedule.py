"""Scheduled tasks that run exactly once per period, whoever sends them and however often.

A scheduled task is written as a plain function returning its outcome (a small JSON-able dict)
and marked with its period:

    @shared_task
    @schedule.once_per(schedule.DAILY)
    def monitoring_prune(period: str) -> dict[str, Any]: ...

Each run first claims its period: the `jobs.models.ScheduledRun` row (task name, period), unique,
so a second run for the same period (beat sending twice, two event workers ticking at once, a
broker redelivering a task) does nothing. The row keeps the outcome, or the error, and when it
finished. A run that fails keeps its period: it is not retried before the next one (its error is
on the row, in the logs and in the error groups).

A task that keeps finer claims of its own (the signup digest claims each founder's email for the
day) is marked `per_period` instead: it is given its period key but claims nothing, so every send
runs it and retries what an earlier one left undone.

Who sends them: with a broker, `celery beat` at the times of `CELERY_BEAT_SCHEDULE`. Without one
(the embedded default) the event worker calls `tick()` on its loop, which sends each entry of
that schedule once its period has begun and has no run yet: each runs at the first tick of its
period (just after midnight UTC for a daily one, or when the worker starts if the run is
missing), one after another on this process's in-process jobs pool.
"""

import functools
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.utils import timezone

from jobs.models import ScheduledRun
from mvpvalidator import background

logger = logging.getLogger(__name__)

DAILY = "daily"
WEEKLY = "weekly"
MONTHLY = "monthly"

# A tick sends a period's run once; if after this long the run has still not claimed its period
# (the worker's executor was saturated, the database away), the next tick sends it again.
RESEND_AFTER_SECONDS = 600.0
# A `per_period` task leaves no run to look for: a tick sends it again after this long, as beat
# sends it every hour.
UNCLAIMED_RESEND_SECONDS = 3600.0

Outcome = dict[str, Any]


def day(now: datetime | None = None) -> str:
    """The daily period key: "2026-12-06" (UTC)."""
    return (now or timezone.now()).astimezone(UTC).strftime("%Y-%m-%d")


def week(now: datetime | None = None) -> str:
    """The weekly period key, the ISO week: "2026-W49" (weeks start on Monday)."""
    year, number, _ = (now or timezone.now()).astimezone(UTC).isocalendar()
    return f"{year}-W{number:02d}"


def month(now: datetime | None = None) -> str:
    """The monthly period key: "2026-12"."""
    return (now or timezone.now()).astimezone(UTC).strftime("%Y-%m")


PERIODS: dict[str, Callable[[datetime | None], str]] = {DAILY: day, WEEKLY: week, MONTHLY: month}


def bounds(period: str) -> tuple[datetime, datetime]:
    """The UTC instants a period key covers, [start, end): "2026-12" is December 2026."""
    if "-W" in period:
        start = datetime.strptime(period + "-1", "%G-W%V-%u").replace(tzinfo=UTC)
        return start, start + timedelta(days=7)
    if period.count("-") == 2:
        start = datetime.strptime(period, "%Y-%m-%d").replace(tzinfo=UTC)
        return start, start + timedelta(days=1)
    start = datetime.strptime(period, "%Y-%m").replace(tzinfo=UTC)
    return start, (start + timedelta(days=32)).replace(day=1)


def previous(period: str) -> str:
    """The period before `period`, of the same kind: "2026-11" for "2026-12"."""
    start, _ = bounds(period)
    before = start - timedelta(seconds=1)
    if "-W" in period:
        return week(before)
    return day(before) if period.count("-") == 2 else month(before)


# Task name -> its period kind, filled by `once_per` and `per_period` as the tasks modules are
# imported; the names `per_period` marked (no claim of the period) in `_unclaimed`.
_every: dict[str, str] = {}
_unclaimed: set[str] = set()


def claim(name: str, period: str) -> ScheduledRun | None:
    """The run of `name` for `period`, newly claimed; None when it was claimed already."""
    try:
        with transaction.atomic():
            return ScheduledRun.objects.create(name=name, period=period)
    except IntegrityError:
        return None


def run_once(name: str, period: str, work: Callable[[], Outcome]) -> Outcome | None:
    """Claim (name, period), then run `work` and keep its outcome on the run's row. None (and
    nothing run) when the period was claimed already. An error is kept on the row and raised."""
    run = claim(name, period)
    if run is None:
        logger.info("scheduled %s for %s: already run, skipped", name, period)
        return None
    started = time.monotonic()
    try:
        outcome = work()
    except Exception as exc:
        run.error = f"{type(exc).__name__}: {exc}"[:500]
        run.finished_at = timezone.now()
        run.save(update_fields=["error", "finished_at"])
        logger.exception("scheduled %s for %s failed", name, period)
        raise
    run.outcome = outcome
    run.finished_at = timezone.now()
    run.save(update_fields=["outcome", "finished_at"])
    logger.info("scheduled %s for %s done in %.1f s: %s", name, period, time.monotonic() - started, outcome)
    return outcome


def once_per(every: str) -> Callable[[Callable[[str], Outcome]], Callable[..., Outcome | None]]:
    """Mark a scheduled task's function: each call runs it at most once per period `every`
    (DAILY, WEEKLY, MONTHLY), named as Celery names the task (module and function). The function
    is given the period key it runs for; a caller may name the period (`tick` does, so a run
    sent just before midnight covers the day it was due for), otherwise it is the current one."""
    if every not in PERIODS:
        raise ValueError(f"unknown period {every!r}")

    def decorate(fn: Callable[[str], Outcome]) -> Callable[..., Outcome | None]:
        name = f"{fn.__module__}.{fn.__name__}"
        _every[name] = every

        @functools.wraps(fn)
        def run(period: str | None = None) -> Outcome | None:
            key = period or PERIODS[every](None)
            return run_once(name, key, lambda: fn(key))

        return run

    return decorate


def per_period(every: str) -> Callable[[Callable[[str], Outcome]], Callable[..., Outcome]]:
    """Mark a scheduled task's function that makes its own claims: each call runs it (no claim of
    the period), given the period key it runs for, named by the caller or the current one."""
    if every not in PERIODS:
        raise ValueError(f"unknown period {every!r}")

    def decorate(fn: Callable[[str], Outcome]) -> Callable[..., Outcome]:
        name = f"{fn.__module__}.{fn.__name__}"
        _every[name] = every
        _unclaimed.add(name)

        @functools.wraps(fn)
        def run(period: str | None = None) -> Outcome:
            return fn(period or PERIODS[every](None))

        return run

    return decorate


def period_of(task_name: str) -> str | None:
    """The period kind a scheduled task was marked with, None for a task that is not one."""
    return _every.get(task_name)


def claims_period(task_name: str) -> bool:
    """Whether a scheduled task's run claims its period (`once_per`), leaving a row to look for."""
    return task_name in _every and task_name not in _unclaimed


# --- The embedded beat --------------------------------------------------------------------------

# (task name, period) -> when this process last sent it (time.monotonic()).
_sent: dict[tuple[str, str], float] = {}


def tick(now: datetime | None = None) -> list[str]:
    """Without a broker: send each `CELERY_BEAT_SCHEDULE` entry whose current period has no run
    yet (at most once per RESEND_AFTER_SECONDS), and each `per_period` entry once per
    UNCLAIMED_RESEND_SECONDS. With a broker: nothing (celery beat sends them). Returns the task
    names sent."""
    if not settings.JOBS_IN_PROCESS or not settings.CELERY_BEAT_SCHEDULE:
        return []
    from mvpvalidator.celery import app

    app.loader.import_default_modules()  # the apps' tasks modules: their tasks and periods
    due: dict[str, str] = {}  # task name -> period key
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        name = str(entry["task"])
        every = period_of(name)
        if every is None:
            logger.error("beat entry %s is not a scheduled task (jobs.schedule.once_per): not run in-process", name)
            continue
        due[name] = PERIODS[every](now)
    done = set(
        ScheduledRun.objects.filter(name__in=list(due), period__in=set(due.values())).values_list("name", "period")
    )
    clock = time.monotonic()
    sent = [
        (name, period)
        for name, period in due.items()
        if (name, period) not in done
        and clock - _sent.get((name, period), -1e9)
        >= (RESEND_AFTER_SECONDS if claims_period(name) else UNCLAIMED_RESEND_SECONDS)
    ]
    if sent:
        for key in sent:
            _sent[key] = clock
        # One after another on one thread of the in-process jobs pool, in the schedule's order
        # (prunes before reports), as a single beat would: an embedded SQLite takes one writer
        # at a time.
        background.submit_job(_run_in_order, [(app.tasks[name], period) for name, period in sent])
    return [name for name, _ in sent]


def _run_in_order(runs: list[tuple[Any, str]]) -> None:
    try:
        for task, period in runs:
            close_old_connections()
            task.apply(kwargs={"period": period})  # eager: Celery's signals and accounting, errors logged
    finally:
        connection.close()  # the executor's thread outlives the runs


def reset() -> None:
    """Forget what this process sent (tests)."""
    _sent.clear()


background.register("jobs.schedule", reset=reset)
