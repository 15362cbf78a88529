"""The soak's short form (bench/soak.py; the full form is `make soak`): the whole stack on two
hosts (two web instances, two event workers, two beats, a Celery worker on RabbitMQ) under mixed
traffic while the alert webhook, Redis, PostgreSQL and an event worker fail in turn and the
provider is slow. Its own PostgreSQL cluster, redis-server and RabbitMQ virtual host: the shared
services are untouched."""

from pathlib import Path

import pytest

from bench.soak import Plan, missing, run
from tests.services import require

# Once per CI run, in its PostgreSQL + Redis pass: the soak needs PostgreSQL's server binaries
# (installed with the service), redis-server and RabbitMQ (rabbitmqctl for its virtual host), and
# takes about two minutes.
pytestmark = [pytest.mark.faults, pytest.mark.postgres]

# After the load, how long the short form waits for the last jobs and the delayed alert.
SETTLE_SECONDS = 30.0


def test_the_platform_survives_a_short_soak_with_faults(tmp_path: Path):
    require(missing())
    lines: list[str] = []
    report = run(Plan.short(), workdir=tmp_path, log=lines.append, settle_seconds=SETTLE_SECONDS)
    summary = "\n".join([*lines, report.summary()])
    print(summary)  # noqa: T201 - the soak's figures are this test's report (shown with -s, and on failure)
    problems = report.problems()
    assert not problems, "\n".join([*problems, summary, report.log_tail])
