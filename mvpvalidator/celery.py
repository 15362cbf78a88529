"""The Celery application: `celery -A mvpvalidator worker` and `celery -A mvpvalidator beat`.

Settings are the Django settings prefixed `CELERY_` (mvpvalidator/settings.py, "Background jobs");
each app's `tasks.py` is found by autodiscovery, so nothing here names an app.
"""

import os
from typing import Any

from celery import Celery, Task
from celery.exceptions import Retry
from django.core.signals import setting_changed
from django.db import close_old_connections, connection
from kombu import pools

from mvpvalidator import background

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mvpvalidator.settings")

# How long an in-process retry may wait (the embedded default has no broker to hold a retry).
IN_PROCESS_RETRY_WAIT_MAX_SECONDS = 300.0


class JobTask(Task):  # type: ignore[misc]
    """The base of every task. Run in-process (no broker), Celery retries at once and inline,
    ignoring the countdown; this schedules the retry instead: a timer hands it to the background
    jobs pool when the countdown is over, and this run ends as a retried run (Celery's
    `task_retry`, no failure), holding no thread while it waits. So a retry policy means the
    same thing in both modes, and the retries are counted up to `max_retries` as a worker does."""

    def retry(self, *args: Any, countdown: float | None = None, throw: bool = True, **kwargs: Any) -> Any:
        if not (self.request.is_eager and countdown):
            return super().retry(*args, countdown=countdown, throw=throw, **kwargs)
        # Celery's own checks first: past max_retries this raises (the exception, or
        # MaxRetriesExceededError) and nothing is scheduled.
        retry = super().retry(*args, countdown=countdown, throw=False, **kwargs)
        delay = min(float(countdown), IN_PROCESS_RETRY_WAIT_MAX_SECONDS)
        background.submit_job_later(delay, _rerun, retry.sig, self.request.retries + 1)
        # Without its signature: Celery's eager apply() runs a Retry that carries one again at
        # once, inside this run; this one is on its timer already.
        scheduled = Retry(exc=retry.exc, when=delay, is_eager=True)
        if throw:
            raise scheduled
        return scheduled


def _rerun(signature: Any, retries: int) -> None:
    """A scheduled in-process retry, on a jobs pool thread: the same call again, eagerly, with
    its retry count (what a worker reads from the retried message)."""
    close_old_connections()
    try:
        signature.apply(retries=retries)
    finally:
        # The pool's threads outlive the task: give the connection back, as a worker does.
        connection.close()


app = Celery("mvpvalidator", task_cls=JobTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _broker_changed(*, setting: str, **kwargs: Any) -> None:
    """Celery reads its settings live from Django's, but keeps its broker connection pools
    (made from the first broker URL it used): when CELERY_BROKER_URL changes (override_settings
    in tests), drop them so the next send connects to the new broker."""
    if setting == "CELERY_BROKER_URL":
        pools.reset()  # type: ignore[no-untyped-call]
        app._pool = None
        app.amqp._producer_pool = None


setting_changed.connect(_broker_changed, dispatch_uid="mvpvalidator.celery.broker_changed")
