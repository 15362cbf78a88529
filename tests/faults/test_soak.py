"""The soak's short form (bench/soak.py; the full form is `make soak`): the whole stack on two
hosts (two web instances, two event workers rolling up side by side, two beats, a Celery worker on
RabbitMQ) under mixed traffic while the alert webhook, Redis, PostgreSQL and an event worker fail
in turn, the provider is slow, and today's events cross from the DEFAULT partition into their
day's. Its own PostgreSQL cluster, redis-server and RabbitMQ virtual host: the shared
services are untouched. Below it, the soak's own checks on made-up reports: each catches what it
is there to catch."""

from pathlib import Path

import pytest

from bench.servers import Host
from bench.soak import SCANNER_IP, STUFFER_IP, JobRun, Plan, Report, Sample, missing, run
from tests.services import require

# After the load, how long the short form waits for the last jobs and the delayed alert.
SETTLE_SECONDS = 30.0


# Once per CI run, in its PostgreSQL + Redis pass: the soak needs PostgreSQL's server binaries
# (installed with the service), redis-server and RabbitMQ (rabbitmqctl, as root, for its virtual
# host), and takes about two minutes.
@pytest.mark.faults
@pytest.mark.postgres
def test_the_platform_survives_a_short_soak_with_faults(tmp_path: Path):
    require(missing())
    lines: list[str] = []
    report = run(Plan.short(), workdir=tmp_path, log=lines.append, settle_seconds=SETTLE_SECONDS)
    summary = "\n".join([*lines, report.summary()])
    print(summary)  # noqa: T201 - the soak's figures are this test's report (shown with -s, and on failure)
    problems = report.problems()
    assert not problems, "\n".join([*problems, summary, report.log_tail])


# --- The checks, on made-up reports ---------------------------------------------------------------

HOSTS = [Host("host-0", "10.213.0.2", "10.213.0.1", "ns-0"), Host("host-1", "10.213.1.2", "10.213.1.1", "ns-1")]
TIMELINE = {
    "webhook_down": 3.0, "webhook_up": 21.0, "webhook_down_wall": 1000.0, "webhook_up_wall": 1018.0,
    "redis_stop": 30.0, "redis_start": 32.0, "postgres_stop": 40.0, "postgres_start": 42.0,
    "worker_kill": 50.0, "worker_start": 52.0, "end": 60.0,
}  # fmt: skip


def _at(wall: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(wall, UTC).isoformat()


def sound_report(**changes: object) -> Report:
    """A report of a run where everything held; `changes` break one thing."""
    samples = [
        Sample("scanner", "GET", "/.env", 5.0, 0.01, 403, instance=0),
        Sample("scanner", "GET", "/.env", 5.3, 0.01, 403, instance=1),
        Sample("stuffer", "POST", "/api/auth/token", 9.0, 0.01, 403, instance=0),
        Sample("stuffer", "POST", "/api/auth/token", 9.2, 0.01, 403, instance=1),
        Sample("health", "GET", "/api/monitoring/health", 31.0, 0.01, 200, '{"status": "degraded"}', 0),
        Sample("health", "GET", "/api/monitoring/health", 31.5, 0.01, 200, '{"status": "degraded"}', 1),
        Sample("generate", "POST", "/api/projects/1/generate-prototype", 10.0, 0.2, 202, '{"id": "j1"}', 0),
        Sample("visitor", "GET", "/p/page/", 11.0, 0.05, 200, instance=1),
    ]
    scanner_alert = {"channel": "security", "rule": f"ip_blocked:{SCANNER_IP}", "at": _at(1005.0)}
    fields: dict[str, object] = dict(
        plan=Plan.short(), samples=samples, timeline=TIMELINE, accepted_emails={"a@x"}, refused_emails=set(),
        stored_emails={"a@x"}, views_served=1, views_stored=1, views_distinct=1, views_rolled_up=1,
        blocked={SCANNER_IP: "scanner", STUFFER_IP: "lockout"},
        audit_kinds={SCANNER_IP: {"ip_blocked", "scanner_path"}, STUFFER_IP: {"ip_blocked", "login_failed"}},
        rss={}, final_health={0: "ok", 1: "ok"}, hosts=HOSTS,
        jobs=[JobRun(id="j1", sent=10.0, status="succeeded", finished=14.0, generator="builtin",
                     fallback_reason="openai: timeout after 2 attempts")],
        alerts_received=[(25.0, scanner_alert)], alerts_refused=[(5.0, scanner_alert)],
        beat_schedule={"maintenance-daily": "jobs.tasks.maintenance_daily"},
        beat_sends={"maintenance-daily": 2},
        scheduled_runs={"maintenance-daily": {"2026-12-06": (1, 1, "")}},
        rolled_up_by_worker={0: 40, 1: 55}, partition_moved=120, partition_made=True,
    )  # fmt: skip
    fields.update(changes)
    return Report(**fields)  # type: ignore[arg-type]


def test_a_sound_run_passes_every_check():
    assert sound_report().problems() == []


def test_an_attacker_one_instance_still_serves_is_caught():
    report = sound_report()
    report.samples[1] = Sample("scanner", "GET", "/.env", 5.3, 0.01, 404, instance=1)
    assert report.problems() == [f"the scanner's last request to instance 1 was not refused: {[report.samples[1]]}"]


def test_a_generation_held_in_the_request_is_caught():
    held = Sample("generate", "POST", "/api/projects/1/generate-prototype", 10.0, 2.4, 201, "{}", 0)
    problems = sound_report(samples=[*sound_report().samples[:7], held]).problems()
    assert problems == [f"a prototype generation was not answered 202 with a job: {held}"]
    problems = sound_report(samples=[*sound_report().samples[:6], held]).problems()
    assert "no prototype generation was accepted (202) outside the database outage" in problems
    slow = Sample("generate", "POST", "/api/projects/1/generate-prototype", 10.0, 1.3, 202, "{}", 0)
    assert "to its 202" in " ".join(sound_report(samples=[*sound_report().samples[:6], slow]).problems())


def test_a_fast_refusal_past_the_generation_quota_is_the_right_answer():
    throttled = Sample(
        "generate", "POST", "/api/projects/1/generate-prototype", 30.0, 0.03, 429,
        '{"error":{"code":"throttled","message":"Request was throttled.","fields":{}}}', 1,
    )  # fmt: skip
    assert sound_report(samples=[*sound_report().samples, throttled]).problems() == []
    other = Sample("generate", "POST", "/api/projects/1/generate-prototype", 30.0, 0.03, 429, "{}", 1)
    assert sound_report(samples=[*sound_report().samples, other]).problems() == [
        f"a prototype generation was not answered 202 with a job: {other}"
    ]


def test_a_job_without_its_fallback_or_a_slow_page_meanwhile_is_caught():
    job = JobRun(id="j1", sent=10.0, status="succeeded", finished=14.0, generator="openai", fallback_reason="")
    assert "did not succeed with a fallback" in " ".join(sound_report(jobs=[job]).problems())
    slow_page = Sample("visitor", "GET", "/p/page/", 11.0, 2.0, 200, instance=1)
    problems = sound_report(samples=[*sound_report().samples[:7], slow_page]).problems()
    assert problems == ["landing page p95 2000 ms while generations ran (bound 1.5 s)"]


def test_an_alert_lost_in_the_webhook_outage_is_caught():
    stuffer_alert = {"channel": "security", "rule": f"lockout:{STUFFER_IP}", "at": _at(1030.0)}
    problems = sound_report(alerts_received=[(35.0, stuffer_alert)]).problems()
    assert len(problems) == 1 and problems[0].startswith("no security alert about the scanner raised during")


def test_maintenance_run_twice_or_sent_by_one_beat_only_is_caught():
    twice = {"maintenance-daily": {"2026-12-06": (2, 2, "")}}
    assert sound_report(scheduled_runs=twice).problems() == ["beat entry maintenance-daily ran 2 times for 2026-12-06"]
    assert sound_report(beat_sends={"maintenance-daily": 1}).problems() == [
        "beat entry maintenance-daily was sent 1 times, not by each of 2 beats"
    ]
    assert sound_report(scheduled_runs={}).problems() == [
        "beat entry maintenance-daily (jobs.tasks.maintenance_daily) left no scheduled run"
    ]
    # A task keeping claims of its own (the digest, per founder) leaves no run: its sends count.
    assert sound_report(scheduled_runs={}, beat_unclaimed={"maintenance-daily"}).problems() == []
    # Claimed under the task's name rather than the entry's: found all the same.
    by_task = {"jobs.tasks.maintenance_daily": {"2026-12-06": (1, 1, "")}}
    assert sound_report(scheduled_runs=by_task).problems() == []
    assert sound_report(beat_schedule={}).problems() == [
        "the beat schedule is empty (CELERY_BEAT_SCHEDULE): no maintenance was scheduled"
    ]


def test_a_worker_that_rolled_up_nothing_or_a_partition_boundary_not_crossed_is_caught():
    assert sound_report(rolled_up_by_worker={0: 0, 1: 95}).problems() == [
        "event workers that rolled up nothing: {0: 0} (of {0: 0, 1: 95})"
    ]
    assert sound_report(rolled_up_by_worker={1: 95}).problems() == [
        "not every event worker said what it rolled up: {1: 95}"
    ]
    assert sound_report(partition_moved=0).problems() == [
        "no event waited in the DEFAULT partition: the partition boundary was not crossed"
    ]
    assert sound_report(partition_made=False).problems() == ["today's events partition was not made during the run"]
    assert sound_report(default_rows_end=3).problems() == [
        "3 events left in the DEFAULT partition after today's was made"
    ]
