"""Work each process keeps off the request path: one flusher thread and one executor.

Components that count in this process and send to Redis in the background (metrics, traces,
cache statistics, the event outbox, the rate-limit counters, the block list's sync) register
their flush here, with how often it runs and how to forget their state:

    background.register("monitoring.metrics", flush=metrics.flush, every=1.0, reset=metrics.reset)

One daemon thread per process runs what is due every `TICK_SECONDS`. It starts on first use
(`ensure_started()`, called where a component buffers something), so a gunicorn worker forked
from a preloaded parent starts its own; at exit every flush runs once more. A flush that raises
is logged and the others still run. `reset()` forgets every registered component's state
(tests call it before each test).

Background one-offs (health checks, alert recording, EXPLAIN capture) go to one bounded thread
pool per process: `submit()`. In-process jobs (no broker: jobs.dispatch) get a pool of their own,
`submit_job()`, so a burst of slow jobs never starves the health checks (a `database` check that
times out turns health 503 and drains the instance); a job to run later (a retry's countdown) is
held by a timer, `submit_job_later()`, not by a sleeping pool thread. `drain()` waits for all of
it. Nothing here imports an app: apps register into it.
"""

import atexit
import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

THREAD_NAME = "background-flusher"
# The shortest interval a component asks for (the event outbox: 50 ms).
TICK_SECONDS = 0.05
EXECUTOR_WORKERS = 8
# In-process jobs at once per process (the rest wait their turn in the pool's queue).
JOB_WORKERS = 4


@dataclass
class Task:
    """One component's registration. `every` None: on every tick."""

    name: str
    flush: Callable[[], object] | None = None
    every: float | None = None
    reset: Callable[[], object] | None = None
    forked: Callable[[], object] | None = None
    at_exit: bool = True
    next_at: float = 0.0


_tasks: dict[str, Task] = {}
_lock = threading.Lock()
_thread_pid: int | None = None
_paused = 0
# Held by the flusher thread for each tick, and by `quiet()`: a tick never runs halfway through it.
_tick_lock = threading.Lock()


def register(
    name: str,
    *,
    flush: Callable[[], object] | None = None,
    every: float | None = None,
    reset: Callable[[], object] | None = None,
    forked: Callable[[], object] | None = None,
    at_exit: bool = True,
) -> None:
    """Register (or replace, by name) a component: `flush` runs on the flusher thread every
    `every` seconds (every tick when None) and once at exit unless `at_exit` is false (a pull,
    not a send); `reset` forgets its per-process state; `forked` runs in a forked child."""
    _tasks[name] = Task(name=name, flush=flush, every=every, reset=reset, forked=forked, at_exit=at_exit)


def tasks() -> list[Task]:
    """The registered components, in registration order."""
    return list(_tasks.values())


def ensure_started() -> None:
    """Start this process's flusher thread if it is not running (cheap once it is)."""
    global _thread_pid
    if _thread_pid is not None:  # set back to None in a forked child: no getpid() per call
        return
    with _lock:
        if _thread_pid is not None:
            return
        _thread_pid = os.getpid()
        threading.Thread(target=_loop, name=THREAD_NAME, daemon=True).start()


def running() -> bool:
    return _thread_pid == os.getpid()


def on_flusher_thread() -> bool:
    return threading.current_thread().name == THREAD_NAME


def _loop() -> None:
    pid = os.getpid()
    while _thread_pid == pid:
        time.sleep(TICK_SECONDS)
        with _tick_lock:
            if not _paused:
                run_due()


def _run(task: Task) -> None:
    try:
        task.flush()  # type: ignore[misc]
    except Exception:
        logger.warning("background flush %s failed", task.name, exc_info=True)


def run_due(now: float | None = None) -> None:
    """Run the flushes that are due (one tick of the flusher thread)."""
    now = now if now is not None else time.monotonic()
    for task in list(_tasks.values()):
        if task.flush is None or now < task.next_at:
            continue
        task.next_at = now + (task.every or 0.0)
        _run(task)


# How long the exit's flush waits for the flusher's tick in progress.
EXIT_WAIT_SECONDS = 5.0


def flush_all() -> None:
    """Run every flush once now (at exit), after the flusher's tick in progress: that tick may have
    taken an outbox it has not sent yet, and the flusher is a daemon thread, stopped with the
    process (a gunicorn worker recycled after `max_requests` lost the page views in flight)."""
    waited = _tick_lock.acquire(timeout=EXIT_WAIT_SECONDS)
    try:
        for task in list(_tasks.values()):
            if task.flush is not None and task.at_exit:
                _run(task)
    finally:
        if waited:
            _tick_lock.release()


def reset() -> None:
    """Forget every registered component's per-process state (tests)."""
    for task in list(_tasks.values()):
        task.next_at = 0.0
        if task.reset is not None:
            task.reset()


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """While inside, no tick of this process's flusher runs, and one in progress has finished
    first: tests reset state and empty Redis inside it, so no flush reads the old state back
    (a block-list sync that read the list before the emptying would restore a finished test's
    blocked address into the next test's mirror)."""
    with _tick_lock:
        yield


class paused:
    """While inside, the flusher thread runs nothing (a test that must see no background I/O);
    flushes called directly still run."""

    def __enter__(self) -> None:
        global _paused
        _paused += 1

    def __exit__(self, *exc: object) -> None:
        global _paused
        _paused -= 1


# --- One executor for background one-offs -----------------------------------------------------


class _Executor:
    """A bounded thread pool per process, created on first use. A forked worker inherits the
    parent's pool object but none of its threads, so a new pid gets a new pool."""

    def __init__(self, *, workers: int, name: str) -> None:
        self.workers = workers
        self.name = name
        self._pool: ThreadPoolExecutor | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def _current(self) -> ThreadPoolExecutor:
        # Called with the lock held.
        if self._pool is None or self._pid != os.getpid():
            self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix=self.name)
            self._pid = os.getpid()
        return self._pool

    def get(self) -> ThreadPoolExecutor:
        with self._lock:
            return self._current()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        # Under the lock that drain() swaps the pool under: a submit from a pool thread (a job
        # sending itself again) lands either in the pool being drained, before its shutdown, or
        # in the fresh one, never in a pool already shut down.
        with self._lock:
            return self._current().submit(fn, *args, **kwargs)

    def started(self) -> bool:
        """Whether a pool was made since the last drain (something was submitted)."""
        with self._lock:
            return self._pool is not None and self._pid == os.getpid()

    def drain(self) -> None:
        """Wait for the submitted work to finish; the next `get()` starts a fresh pool."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None and self._pid == os.getpid():
            pool.shutdown(wait=True, cancel_futures=False)


_executor = _Executor(workers=EXECUTOR_WORKERS, name="background")
_jobs = _Executor(workers=JOB_WORKERS, name="background-jobs")

# Timers holding jobs until they are due (submit_job_later); a timer removes itself once it has
# handed its job to the pool.
_timers: set[threading.Timer] = set()
_timers_lock = threading.Lock()


def executor() -> ThreadPoolExecutor:
    """This process's pool for background one-offs."""
    return _executor.get()


def submit(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
    return _executor.submit(fn, *args, **kwargs)


def job_executor() -> ThreadPoolExecutor:
    """This process's pool for in-process jobs."""
    return _jobs.get()


def submit_job(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
    """Run an in-process job on the jobs pool (bounded, apart from the one-offs)."""
    return _jobs.submit(fn, *args, **kwargs)


def submit_job_later(delay: float, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
    """Run an in-process job on the jobs pool in `delay` seconds. Until then a timer holds it,
    not a pool thread: a job waiting out a retry's countdown takes nothing from the jobs that
    are due. The timer is a daemon: a job still waiting when the process exits is lost here,
    and its row is what sends it again (jobs.services.job_recover_stale)."""

    def due() -> None:
        try:
            submit_job(fn, *args, **kwargs)
        finally:
            with _timers_lock:
                _timers.discard(timer)

    timer = threading.Timer(delay, due)
    timer.daemon = True
    timer.name = "background-job-timer"
    # Started under the lock: drain() lists the timers under it, and joins only started ones.
    with _timers_lock:
        _timers.add(timer)
        timer.start()


def pending_timers() -> int:
    """How many jobs wait for their time (tests, diagnostics)."""
    with _timers_lock:
        return len(_timers)


def drain() -> None:
    """Wait for the background one-offs and the in-process jobs submitted so far, including the
    jobs waiting on a timer and whatever they submit in turn (graceful shutdown, tests)."""
    while True:
        with _timers_lock:
            timers = list(_timers)
        for timer in timers:
            timer.join()
        _jobs.drain()
        _executor.drain()
        # A job run above may have scheduled a retry or submitted a one-off: go round again
        # until a round starts nothing new.
        with _timers_lock:
            idle = not _timers
        if idle and not _jobs.started() and not _executor.started():
            return


# --- Fork and exit -----------------------------------------------------------------------------


def _forked() -> None:
    # The parent's flusher thread does not exist in the child: the next ensure_started() starts
    # the child's own. Components drop what the parent will send itself.
    global _thread_pid, _lock, _paused, _timers_lock, _tick_lock
    _thread_pid = None
    _lock = threading.Lock()
    _paused = 0
    _tick_lock = threading.Lock()  # the parent's flusher may have held it at the fork
    # Nor its timers: the jobs they held are the parent's.
    _timers_lock = threading.Lock()
    _timers.clear()
    for task in list(_tasks.values()):
        task.next_at = 0.0
        if task.forked is not None:
            try:
                task.forked()
            except Exception:
                logger.warning("after-fork hook %s failed", task.name, exc_info=True)


os.register_at_fork(after_in_child=_forked)
atexit.register(flush_all)
