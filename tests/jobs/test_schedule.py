"""The schedule: period keys, the claim that makes a scheduled task run once per period, the
embedded beat (`tick`, run by the event worker without a broker), and two workers ticking at
once against PostgreSQL."""

import os
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from jobs import schedule
from jobs.models import ScheduledRun
from monitoring.tasks import monitoring_prune
from mvpvalidator import background

ROOT = Path(__file__).resolve().parents[2]
TUESDAY = datetime(2031, 3, 4, 12, 0, tzinfo=UTC)
WEDNESDAY = datetime(2031, 3, 5, 0, 1, tzinfo=UTC)


def beat_tasks() -> set[str]:
    return {str(entry["task"]) for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}


def claimed_tasks() -> set[str]:
    """The beat tasks that claim their period (all but those claiming finer, the digest)."""
    from mvpvalidator.celery import app

    app.loader.import_default_modules()
    return {name for name in beat_tasks() if schedule.claims_period(name)}


def test_period_keys_and_bounds():
    assert schedule.day(TUESDAY) == "2031-03-04"
    assert schedule.week(TUESDAY) == "2031-W10"
    assert schedule.month(TUESDAY) == "2031-03"
    assert schedule.bounds("2031-03-04") == (datetime(2031, 3, 4, tzinfo=UTC), datetime(2031, 3, 5, tzinfo=UTC))
    assert schedule.bounds("2031-W10") == (datetime(2031, 3, 3, tzinfo=UTC), datetime(2031, 3, 10, tzinfo=UTC))
    assert schedule.bounds("2031-12") == (datetime(2031, 12, 1, tzinfo=UTC), datetime(2032, 1, 1, tzinfo=UTC))
    assert schedule.previous("2031-03-01") == "2031-02-28"
    assert schedule.previous("2031-01") == "2030-12"
    assert schedule.previous("2031-W01") == "2030-W52"


@pytest.mark.django_db
def test_a_period_is_claimed_once():
    run = schedule.claim("x", "2031-03-04")
    assert run is not None and run.pk
    assert schedule.claim("x", "2031-03-04") is None
    assert schedule.claim("x", "2031-03-05") is not None


@pytest.mark.django_db
def test_every_beat_entry_is_a_scheduled_task_sent_hourly_through_the_rest_of_its_first_day():
    """Each crontab fires in every period of its task (the once-per-period claim makes the extra
    sends no-ops) and, from its time, every hour to the end of that day: a send missed (the
    broker down, beat restarted) is made up within the hour, not skipped for the period."""
    from mvpvalidator.celery import app

    app.loader.import_default_modules()
    every_day, every_month = set(range(7)), set(range(1, 32))
    for key, entry in django_settings.CELERY_BEAT_SCHEDULE.items():
        every = schedule.period_of(str(entry["task"]))
        assert every in schedule.PERIODS, key
        cron = entry["schedule"]
        assert cron.month_of_year == set(range(1, 13)), key
        if every == schedule.DAILY:
            assert cron.day_of_week == every_day and cron.day_of_month == every_month, key
        elif every == schedule.WEEKLY:
            assert len(cron.day_of_week) >= 1 and cron.day_of_month == every_month, key
        else:
            assert len(cron.day_of_month) >= 1 and cron.day_of_week == every_day, key
        assert len(cron.minute) == 1, key  # once an hour, at its own minute (staggered)
        assert sorted(cron.hour) == list(range(min(cron.hour), 24)), (key, sorted(cron.hour))
    assert min(django_settings.CELERY_BEAT_SCHEDULE["signup-digest"]["schedule"].hour) == 7  # mornings


@pytest.mark.django_db(transaction=True)
def test_a_day_missed_by_the_first_send_is_run_by_the_next_hours(settings):
    """A daily entry's first send is lost (the broker was down at 03:00): beat's next send, an
    hour later, runs the day; the sends after it do nothing."""
    entry = django_settings.CELERY_BEAT_SCHEDULE["monitoring-prune"]
    cron = entry["schedule"]
    first = min(cron.hour)
    sends = [datetime(2031, 3, 4, hour, min(cron.minute), tzinfo=UTC) for hour in sorted(cron.hour)]
    assert sends[0].hour == first and len(sends) > 1
    outcomes = [monitoring_prune.apply(kwargs={"period": schedule.day(at)}).get() for at in sends[1:]]
    assert outcomes[0] is not None and all(outcome is None for outcome in outcomes[1:])
    assert ScheduledRun.objects.filter(name="monitoring.tasks.monitoring_prune").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_scheduled_task_sent_twice_for_a_period_runs_once():
    first = monitoring_prune.apply(kwargs={"period": "2031-03-04"}).get()
    second = monitoring_prune.apply(kwargs={"period": "2031-03-04"}).get()
    assert first is not None and "deleted" in first and second is None
    run = ScheduledRun.objects.get(name="monitoring.tasks.monitoring_prune")
    assert run.period == "2031-03-04" and run.outcome == first and run.finished_at and run.error == ""


@pytest.mark.django_db(transaction=True)
def test_tick_runs_each_due_entry_once_per_period():
    claimed = claimed_tasks()
    unclaimed = beat_tasks() - claimed
    assert "projects.tasks.signup_digest_send" in unclaimed
    sent = schedule.tick(now=TUESDAY)
    assert set(sent) == beat_tasks() and len(sent) == len(django_settings.CELERY_BEAT_SCHEDULE)
    background.drain()
    runs = ScheduledRun.objects.filter(name__in=beat_tasks())
    assert {(r.name, r.period) for r in runs} == {
        (name, schedule.PERIODS[schedule.period_of(name)](TUESDAY)) for name in claimed
    }
    assert all(r.finished_at and r.error == "" for r in runs), [(r.name, r.error) for r in runs]

    assert schedule.tick(now=TUESDAY) == []  # ran: nothing is due until the next period
    schedule.reset()  # a restarted worker: the rows, not its memory, say what ran
    # ... and the digest, which leaves no run, is sent again (it sends only what is missing).
    assert set(schedule.tick(now=TUESDAY)) == unclaimed
    background.drain()

    daily = {name for name in beat_tasks() if schedule.period_of(name) == schedule.DAILY}
    assert set(schedule.tick(now=WEDNESDAY)) == daily  # the same week and month
    background.drain()
    assert ScheduledRun.objects.filter(name__in=beat_tasks()).count() == len(claimed) + len(daily & claimed)


@pytest.mark.django_db
def test_with_a_broker_tick_sends_nothing(settings):
    settings.JOBS_IN_PROCESS = False
    settings.CELERY_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"
    assert schedule.tick(now=TUESDAY) == []
    background.drain()
    assert not ScheduledRun.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_runs_racing_for_one_period_run_it_once():
    barrier = threading.Barrier(4)
    outcomes: list[object] = []

    def race() -> None:
        barrier.wait()
        try:
            outcomes.append(monitoring_prune.apply(kwargs={"period": "2031-03-04"}).get())
        finally:
            connection.close()

    threads = [threading.Thread(target=race) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 4 and sum(outcome is not None for outcome in outcomes) == 1
    assert ScheduledRun.objects.filter(name="monitoring.tasks.monitoring_prune").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_event_workers_run_each_scheduled_entry_exactly_once():
    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mvpvalidator.test_settings",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "SCHEDULE_TICK_SECONDS": "0.5",
        "CELERY_BROKER_URL": "",
    }
    command = [sys.executable, "manage.py", "run_worker", "--interval", "0.2", "--seconds", "6"]
    workers = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    outputs = [worker.communicate(timeout=120)[0] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], outputs
    assert all("runs the schedule" in output for output in outputs), outputs
    runs = list(ScheduledRun.objects.filter(name__in=beat_tasks()).values_list("name", "period", "error"))
    assert sorted(name for name, _, _ in runs) == sorted(claimed_tasks())  # each once, none missing
    assert all(error == "" for _, _, error in runs), runs
