"""The one way the platform hands a task to the job system.

With a broker (`CELERY_BROKER_URL`) the task is published, without waiting on a broker that is
down: `send` answers False at once and the caller keeps what it needs to send again (a job row
stays queued and unsent). Without one (the embedded default) the task runs in this process on
the background jobs pool (mvpvalidator.background, apart from the pool of the health checks),
never inside the request that sent it, and Celery's eager mode runs it with its signals, retries
and time accounting as a worker would. A countdown is waited on a timer, not on a pool thread.
"""

import logging
from typing import Any

from celery import Task
from django.conf import settings
from django.db import close_old_connections, connection
from kombu.exceptions import OperationalError

from mvpvalidator import background

logger = logging.getLogger(__name__)


def send(
    task: Task, *, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None, countdown: float | None = None
) -> bool:
    """Send `task(*args, **kwargs)`; True when the broker (or this process) took it."""
    if settings.JOBS_IN_PROCESS:
        if countdown:
            background.submit_job_later(countdown, _run_in_process, task, args, kwargs or {})
        else:
            background.submit_job(_run_in_process, task, args, kwargs or {})
        return True
    try:
        task.apply_async(args=args, kwargs=kwargs or {}, countdown=countdown, retry=False)
    except (OperationalError, OSError) as exc:
        logger.warning("task %s not sent, the broker is unavailable: %s", task.name, exc)
        return False
    return True


def _run_in_process(task: Task, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    close_old_connections()
    try:
        task.apply(args=args, kwargs=kwargs)
    finally:
        # The executor's threads outlive the task: give the connection back, as a worker does.
        connection.close()
