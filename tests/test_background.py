"""The per-process background flusher and executor (`mvpvalidator.background`)."""

import collections
import os
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import pytest

from mvpvalidator import background

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def registered():
    """Register test components for one test only, leaving the real ones in place."""
    names: list[str] = []

    def add(name, **kwargs):
        names.append(name)
        background.register(name, **kwargs)

    yield add
    for name in names:
        background._tasks.pop(name, None)


def flusher_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == background.THREAD_NAME]


def wait_for(condition, seconds: float = 2.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_the_apps_register_their_flushes_and_resets():
    from monitoring import metrics, traces
    from mvpvalidator.cache import stats
    from projects.events import buffer
    from security import blocklist, limits

    flushes = {task.flush for task in background.tasks()}
    for flush in (metrics.flush, traces.flush, stats.flush, buffer._outbox.flush, limits.sync_counters):
        assert flush in flushes
    assert blocklist.periodic_sync in flushes
    names = {task.name for task in background.tasks() if task.reset is not None}
    assert {"monitoring.metrics", "security.lockout", "projects.form_bindings", "monitoring.health"} <= names


def test_flushes_run_on_one_thread_at_their_interval(registered):
    ticks: list[str] = []
    slow: list[str] = []
    registered("test.each_tick", flush=lambda: ticks.append(threading.current_thread().name))
    registered("test.slow", flush=lambda: slow.append("x"), every=60.0)
    for _ in range(5):
        background.ensure_started()
    assert wait_for(lambda: len(ticks) >= 3)
    assert set(ticks) == {background.THREAD_NAME}
    assert len(flusher_threads()) == 1
    assert slow == ["x"]  # once, then not for another minute


def test_a_failing_flush_does_not_stop_the_others(registered, caplog):
    done: list[int] = []

    def broken():
        raise RuntimeError("boom")

    registered("test.broken", flush=broken)
    registered("test.after", flush=lambda: done.append(1))
    background.run_due()
    assert done == [1]
    assert "test.broken" in caplog.text
    background.ensure_started()
    assert wait_for(lambda: len(done) >= 3)  # the thread keeps going too


def test_run_due_respects_each_interval(registered):
    runs: list[float] = []
    registered("test.every_second", flush=lambda: runs.append(1), every=1.0)
    background._tasks["test.every_second"].next_at = 0.0
    with background.paused():
        background.run_due(now=1000.0)
        background.run_due(now=1000.5)
        background.run_due(now=1001.0)
    assert runs == [1, 1]


def test_paused_stops_the_thread_not_direct_calls(registered):
    runs: list[int] = []
    registered("test.paused", flush=lambda: runs.append(1))
    background.ensure_started()
    with background.paused():
        time.sleep(0.1)  # a flush already running when the pause began may still finish
        runs.clear()
        time.sleep(3 * background.TICK_SECONDS)
        assert runs == []
        background.flush_all()
        assert runs == [1]
    assert wait_for(lambda: len(runs) >= 2)


def test_reset_runs_every_registered_reset(registered):
    state = {"a": 1, "b": 2}
    registered("test.a", reset=lambda: state.pop("a"))
    registered("test.b", flush=lambda: None, reset=lambda: state.pop("b"))
    background.reset()
    assert state == {}


def test_a_registration_is_replaced_by_name(registered):
    registered("test.same", reset=lambda: None)
    registered("test.same", reset=lambda: None)
    assert [t.name for t in background.tasks()].count("test.same") == 1


def test_the_exit_flush_waits_for_the_flush_in_flight(registered):
    """At exit the flusher's tick may hold an outbox it has taken and not sent: the exit's flush
    runs after it, or the daemon thread dies with the process and its events with it."""
    order: list[str] = []
    in_flight, release = threading.Event(), threading.Event()

    def send() -> None:
        if not in_flight.is_set():
            in_flight.set()
            release.wait(5)
            order.append("tick")
        else:
            order.append("exit")

    registered("test.outbox", flush=send)
    background.ensure_started()
    assert in_flight.wait(2)
    threading.Timer(0.2, release.set).start()
    background.flush_all()
    assert order[:2] == ["tick", "exit"]


def test_flush_all_skips_pulls(registered):
    runs: list[str] = []
    registered("test.send", flush=lambda: runs.append("send"))
    registered("test.pull", flush=lambda: runs.append("pull"), at_exit=False)
    background.flush_all()
    assert runs == ["send"]


def test_after_a_fork_the_child_starts_its_own_thread(registered):
    background.ensure_started()
    forked: list[int] = []
    registered("test.forked", forked=lambda: forked.append(1))
    read, write = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # forking a process that has threads
        pid = os.fork()
    if pid == 0:  # the child: the parent's thread is gone; the first use starts a new one
        try:
            before = len(flusher_threads())
            background.ensure_started()
            ok = before == 0 and forked == [1] and wait_for(lambda: len(flusher_threads()) == 1)
            os.write(write, b"ok" if ok else f"no {before} {forked}".encode())
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 100)
    os.close(read)
    os.waitpid(pid, 0)
    assert answer == b"ok"
    assert forked == []  # only the child ran it
    assert background.running()


_AT_EXIT = """
import django, sys
django.setup()
from mvpvalidator import background
background.register("test.exit", flush=lambda: print("flushed at exit"))
background.register("test.pull", flush=lambda: print("pulled at exit"), at_exit=False)
"""


def test_everything_is_flushed_at_exit():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "mvpvalidator.test_settings"}
    done = subprocess.run(
        [sys.executable, "-c", _AT_EXIT], cwd=ROOT, env=env, check=True, timeout=60, capture_output=True, text=True
    )
    assert "flushed at exit" in done.stdout
    assert "pulled at exit" not in done.stdout


def test_one_executor_per_process():
    first = background.submit(threading.current_thread)
    second = background.submit(threading.current_thread)
    assert first.result(5).name.startswith("background")
    assert background.executor() is background.executor()
    pool = background.executor()
    second.result(5)
    background.drain()
    assert background.executor() is not pool  # drained: a fresh pool next time


def test_in_process_jobs_have_a_pool_of_their_own_that_cannot_starve_the_one_offs():
    release = threading.Event()
    busy = [background.submit_job(release.wait, 10) for _ in range(background.JOB_WORKERS + 2)]
    try:
        # Every job thread is taken (and more wait): a health check still runs at once.
        started = time.monotonic()
        one_off = background.submit(threading.current_thread)
        assert one_off.result(2).name.startswith("background_")
        assert time.monotonic() - started < 1.0
        assert background.job_executor() is not background.executor()
        assert not any(future.done() for future in busy)
    finally:
        release.set()
    background.drain()
    assert all(future.result(0) is True for future in busy)


def test_a_job_for_later_waits_on_a_timer_holding_no_pool_thread():
    ran: list[str] = []
    background.submit_job_later(1.0, lambda: ran.append(threading.current_thread().name))
    assert background.pending_timers() == 1
    # Meanwhile every job thread is free for the jobs that are due: all of them run at once
    # (the barrier breaks, failing them, if one thread were held by the waiting job).
    together = threading.Barrier(background.JOB_WORKERS)
    due = [background.submit_job(together.wait, 0.5) for _ in range(background.JOB_WORKERS)]
    assert sorted(future.result(2) for future in due) == list(range(background.JOB_WORKERS))
    assert ran == []
    background.drain()  # waits for the timer and what it submits
    assert len(ran) == 1 and ran[0].startswith("background-jobs")
    assert background.pending_timers() == 0


def test_drain_waits_for_work_that_schedules_more_work():
    ran: list[int] = []

    def step(n: int) -> None:
        ran.append(n)
        if n < 3:
            background.submit_job_later(0.05, step, n + 1)

    background.submit_job(step, 1)
    background.drain()
    assert ran == [1, 2, 3] and background.pending_timers() == 0


def test_a_job_sending_itself_again_while_the_pools_drain_lands_in_a_live_pool():
    # A job that sends itself again (a requeue after a database outage) submits from a pool
    # thread while drain() may be swapping that pool out and shutting it down; the submit must
    # land in a pool that runs it, never raise "cannot schedule new futures after shutdown".
    errors: list[BaseException] = []
    runs = collections.Counter()

    def chain(name: str, left: int) -> None:
        runs[name] += 1
        if left:
            try:
                background.submit_job(chain, name, left - 1)
            except RuntimeError as exc:  # pragma: no cover - the failure this test looks for
                errors.append(exc)

    for name in range(background.JOB_WORKERS):
        background.submit_job(chain, name, 2000)
    deadline = time.monotonic() + 30
    while sum(runs.values()) < background.JOB_WORKERS * 2001 and not errors and time.monotonic() < deadline:
        background.drain()
    assert errors == []
    assert runs == {name: 2001 for name in range(background.JOB_WORKERS)}
