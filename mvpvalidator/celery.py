"""The Celery application: `celery -A mvpvalidator worker` and `celery -A mvpvalidator beat`.

Settings are the Django settings prefixed `CELERY_` (mvpvalidator/settings.py, "Background jobs");
each app's `tasks.py` is found by autodiscovery, so nothing here names an app.
"""

import os
import time
from typing import Any

from celery import Celery, Task
from django.core.signals import setting_changed
from kombu import pools

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mvpvalidator.settings")

# How long an in-process retry may wait (the embedded default has no broker to hold a retry).
IN_PROCESS_RETRY_WAIT_MAX_SECONDS = 300.0


class JobTask(Task):  # type: ignore[misc]
    """The base of every task. Run in-process (no broker), Celery retries at once, ignoring the
    countdown; this waits the countdown first (on the background executor, never in a request),
    so a retry policy means the same thing in both modes."""

    def retry(self, *args: Any, countdown: float | None = None, **kwargs: Any) -> Any:
        if self.request.is_eager and countdown:
            time.sleep(min(float(countdown), IN_PROCESS_RETRY_WAIT_MAX_SECONDS))
        return super().retry(*args, countdown=countdown, **kwargs)


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
