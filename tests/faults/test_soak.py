"""The soak's short form (bench/soak.py; the full form is `make soak`): the whole stack under
mixed traffic while Redis, PostgreSQL and the event worker fail in turn and the provider is
slow. Its own PostgreSQL cluster and redis-server: the shared services are untouched."""

import shutil
from pathlib import Path

import pytest

from bench.servers import PostgresServer
from bench.soak import Plan, run
from tests.services import require

# Once per CI run, in its PostgreSQL + Redis pass: the soak needs PostgreSQL's server binaries
# (installed with the service) and takes about two minutes.
pytestmark = [pytest.mark.faults, pytest.mark.postgres]


def test_the_platform_survives_a_short_soak_with_faults(tmp_path: Path):
    require(PostgresServer.missing() or (None if shutil.which("redis-server") else "redis-server is not installed"))
    lines: list[str] = []
    report = run(Plan.short(), workdir=tmp_path, log=lines.append)
    summary = "\n".join([*lines, report.summary()])
    print(summary)  # noqa: T201 - the soak's figures are this test's report (shown with -s, and on failure)
    problems = report.problems()
    assert not problems, "\n".join([*problems, summary, report.log_tail])
