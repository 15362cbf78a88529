"""The founder's insight screens read a fixed number of queries on a busy project: 30 days of
rollups, a page with 4 variants and a running 5-arm experiment, 3 campaigns with daily spend, kept
reports (tests/projects/insights.py). Each screen is counted cold (caches emptied) and the count is
the same on a project with three times the traffic; the analytics page never reads raw events."""

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.selectors.reports import project_report
from projects.services.reports import report_snapshot_create
from security.models import User
from tests.factories import UserFactory
from tests.projects.insights import BusyProject, busy_project_build

pytestmark = pytest.mark.django_db

# Pinned 2026-12-06 (SQLite and PostgreSQL alike: no query depends on the backend here).
PINNED: dict[str, int] = {
    "experiment-list": 6,
    "experiment-results": 6,
    "experiment-create": 6,
    "campaign-list": 6,
    "campaign-screen": 24,
    # The confirmed signups and their experiments in one query since the review of #24.
    "analytics": 9,
    "analytics-last-week": 9,
    "report": 21,
    "kept-report": 4,
    "compare": 5,
    "test-card": 9,
}


def _screens(busy: BusyProject) -> dict[str, str]:
    pk = busy.project.pk
    kept = list(busy.project.reports.order_by("id").values_list("pk", flat=True))
    return {
        "experiment-list": f"/projects/{pk}/experiments/",
        "experiment-results": f"/projects/{pk}/experiments/{busy.experiment.pk}/",
        "experiment-create": f"/projects/{pk}/experiments/new?page={busy.page.pk}",
        "campaign-list": f"/projects/{pk}/campaigns/",
        "campaign-screen": f"/projects/{pk}/campaigns/{busy.campaigns[0].pk}/",
        "analytics": f"/projects/{pk}/analytics",
        "analytics-last-week": f"/projects/{pk}/analytics?period=7",
        "report": f"/projects/{pk}/report",
        "kept-report": f"/projects/{pk}/reports/{kept[0]}/",
        "compare": f"/projects/{pk}/reports/compare?a={kept[0]}&b={kept[1]}",
        "test-card": f"/projects/{pk}/test-card",
    }


def _build(owner: User, **options) -> BusyProject:
    busy = busy_project_build(owner=owner, **options)
    for _ in range(2):
        report_snapshot_create(project=busy.project, report=project_report(project=busy.project))
    return busy


def _counts(client, busy: BusyProject) -> dict[str, tuple[int, list[str]]]:
    # Once per process and sign-in (the block list, the session's first read): not the screens' own.
    assert client.get(f"/projects/{busy.project.pk}/").status_code == 200
    counts = {}
    for name, url in _screens(busy).items():
        caches["default"].clear()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (name, url, response.status_code)
        counts[name] = (len(queries), [q["sql"] for q in queries.captured_queries])
    return counts


def test_every_insight_screen_reads_a_fixed_number_of_queries_however_busy_the_project(client):
    small_owner, big_owner = UserFactory(), UserFactory()
    small = _build(small_owner)
    big = _build(big_owner, visitors_per_day=60, seed=11, slug="busier")
    client.force_login(small_owner)
    small_counts = _counts(client, small)
    client.force_login(big_owner)
    big_counts = _counts(client, big)
    for name, expected in PINNED.items():
        assert small_counts[name][0] == big_counts[name][0], (name, small_counts[name][0], big_counts[name][0])
        assert small_counts[name][0] == expected, (name, small_counts[name][0], small_counts[name][1])


def test_the_analytics_page_never_reads_raw_events(client):
    owner = UserFactory()
    busy = _build(owner)
    client.force_login(owner)
    for name in ("analytics", "analytics-last-week"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(_screens(busy)[name]).status_code == 200
        touching = [q["sql"] for q in queries.captured_queries if "projects_event" in q["sql"].replace('"', "")]
        # projects_eventworkerstate (the time of the newest rollup) is not the events table.
        assert not [sql for sql in touching if "projects_eventworkerstate" not in sql.replace('"', "")], touching
