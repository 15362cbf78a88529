"""`manage.py monitoring_report` prints every KPI grouped as the guide groups them, with its
figure, pass/fail, bar and the guide's line, reading the persisted counters, and says where the
live figures are when they live in another process."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from monitoring import kpi_counters, kpis, metrics
from monitoring.kpi_catalog import CATALOG, GROUPS

pytestmark = pytest.mark.django_db


def report(*args: str) -> str:
    out = StringIO()
    call_command("monitoring_report", *args, stdout=out)
    return out.getvalue()


def test_every_kpi_is_printed_under_its_group_with_its_bar_and_source():
    text = report()
    positions = [text.index(f"\n  {title}\n") for _, title in GROUPS]
    assert positions == sorted(positions)
    for spec in CATALOG:
        assert spec.name in text and spec.source in text and f"target {spec.target}" in text
    assert "no data" in text


def test_counters_persisted_by_the_server_are_read_from_the_database():
    # The server counted and persisted; this command is another process: its buckets are empty.
    kpi_counters.count("cache.page.lookups", 50)
    kpi_counters.count("cache.page.hits", 10)
    kpi_counters.persist()
    metrics.reset()
    kpi_counters.reset()
    kpis.reset()
    text = report("--hours", "1")
    line = next(line for line in text.splitlines() if "Cache hit rate" in line)
    assert "FAIL" in line and "20.00%" in line and "target > 80%" in line
    # The report says where the current figures are.
    if metrics.shared():
        assert "live counters in Redis" in text
    else:
        assert "server process's memory" in text and "/api/monitoring/kpis" in text


def test_the_json_report_holds_every_kpi_and_a_bad_window_is_refused():
    body = json.loads(report("--json"))
    assert [k["id"] for k in body["production_kpis"]] == [spec.id for spec in CATALOG]
    with pytest.raises(CommandError, match="hours"):
        report("--hours", "0")
