"""Background tasks are watched like requests: each run gets a context of its own (a request id
for its log lines, the route `task:<name>`), its duration is counted as an operation of kind
"task" (metrics, and slow-operation groups past SLOW_OPERATION_THRESHOLD_MS), and an exception
that escapes it becomes an error group (and may alert). Sentry sees the same failures through
its Celery integration, which the SDK enables by itself when Celery is installed.

Connected to Celery's signals in `MonitoringConfig.ready`, so it works wherever the task runs:
in a `celery worker` process, and in-process (eager), where Celery fires the same signals.
"""

from typing import Any

from monitoring import alert_rules, context, errors
from monitoring.operations import timed

# Per running task (by task id): its context token and its timer. Prerun and postrun of one run
# are sent on the thread that runs it; two threads never share an id.
_running: dict[str, tuple[Any, Any]] = {}


def task_started(sender: Any = None, task_id: str = "", task: Any = None, **kwargs: Any) -> None:
    name = getattr(task, "name", None) or str(sender)
    token = context.start(
        context.RequestContext(request_id=context.new_request_id(), route=f"task:{name}", method="TASK")
    )
    timer = timed(name, kind="task")
    timer.__enter__()
    _running[task_id] = (token, timer)


def task_finished(sender: Any = None, task_id: str = "", state: str | None = None, **kwargs: Any) -> None:
    running = _running.pop(task_id, None)
    if running is None:
        return
    token, timer = running
    try:
        failed = state == "FAILURE"
        timer.__exit__(RuntimeError if failed else None, None, None)
    finally:
        context.end(token)


def task_failed(sender: Any = None, task_id: str = "", exception: BaseException | None = None, **kwargs: Any) -> None:
    if exception is None:
        return
    group = errors.record_exception(exception, handled=False, route=f"task:{getattr(sender, 'name', sender)}")
    alert_rules.error_recorded(group)


def connect() -> None:
    from celery import signals

    signals.task_prerun.connect(task_started, dispatch_uid="monitoring.task_started", weak=False)
    signals.task_postrun.connect(task_finished, dispatch_uid="monitoring.task_finished", weak=False)
    signals.task_failure.connect(task_failed, dispatch_uid="monitoring.task_failed", weak=False)
