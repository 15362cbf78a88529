"""Error groups, structured logs, slow queries and slow operations."""

import json
import logging

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import path

from monitoring import context, errors, log_error, operations, queries
from monitoring.logs import ContextFilter, JsonFormatter
from monitoring.models import ErrorGroup, SlowOperationGroup, SlowQueryGroup
from mvpvalidator.urls import urlpatterns as project_urls
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def explode(request, project_id):
    raise KeyError("missing thing")


urlpatterns = [path("api/projects/<int:project_id>/explode", explode), *project_urls]
handler500 = "mvpvalidator.views.server_error"


@pytest.mark.urls("tests.monitoring.test_errors")
def test_an_unhandled_exception_becomes_one_group_with_its_context(user):
    project = ProjectFactory(owner=user)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    for n in range(3):
        response = client.get(f"/api/projects/{project.pk}/explode", HTTP_X_REQUEST_ID=f"req-{n}-abcdefgh")
        assert response.status_code == 500
        assert response.json()["error"]["code"] == "server_error"
    group = ErrorGroup.objects.get()
    assert group.count == 3
    assert group.exc_type == "builtins.KeyError"
    assert group.location.startswith("tests/monitoring/test_errors.py:") and group.location.endswith("in explode")
    assert group.last_request_id == "req-2-abcdefgh"
    assert group.route == "/api/projects/<int:project_id>/explode"
    assert group.method == "GET"
    assert group.user_id == user.pk
    assert group.project_id == project.pk
    assert "KeyError" in group.sample_traceback and not group.handled


def test_log_error_groups_a_caught_exception_with_the_context_given():
    try:
        {}["nope"]
    except KeyError as exc:
        group = log_error(exc, user_id=7, project_id=9)
    assert group.handled and group.user_id == 7 and group.project_id == 9
    try:
        {}["nope again"]
    except KeyError as exc:
        assert log_error(exc).pk == group.pk
    assert ErrorGroup.objects.get().count == 2


def test_fingerprint_ignores_the_message_and_separates_types():
    def raise_it(exc):
        raise exc

    caught = []
    for exc in (ValueError("a"), ValueError("b"), TypeError("a")):
        try:
            raise_it(exc)
        except Exception as e:  # noqa: BLE001
            caught.append(errors.fingerprint(e)[2])
    assert caught[0] == caught[1] != caught[2]


def test_json_log_lines_carry_the_request_context():
    token = context.start(context.RequestContext(request_id="rid-0123456789", route="/api/x/", user_id=5))
    try:
        record = logging.LogRecord("projects", logging.WARNING, __file__, 1, "signup %s", ("dropped",), None)
        ContextFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
    finally:
        context.end(token)
    assert line["message"] == "signup dropped"
    assert line["level"] == "WARNING" and line["logger"] == "projects"
    assert line["request_id"] == "rid-0123456789" and line["route"] == "/api/x/" and line["user_id"] == 5


def test_json_log_line_of_an_exception_has_its_traceback():
    try:
        raise ValueError("bad")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = json.loads(JsonFormatter().format(record))
    assert line["exc_type"] == "ValueError" and "Traceback" in line["traceback"]


# --- slow queries and operations -------------------------------------------------------------


def test_slow_queries_are_grouped_by_shape_with_their_call_site(settings, auth_api_client):
    settings.SLOW_QUERY_THRESHOLD_MS = 0  # every query is "slow"
    for _ in range(2):
        project = ProjectFactory(owner=auth_api_client.user)
        auth_api_client.get(f"/api/projects/{project.pk}/")
    groups = list(SlowQueryGroup.objects.all())
    assert groups
    project_query = next(g for g in groups if 'FROM "projects_project"' in g.sql and "LIMIT" in g.sql)
    assert project_query.count == 2  # two different ids, one shape
    assert project_query.call_site.startswith("projects/")
    assert project_query.max_ms >= project_query.mean_ms >= 0
    assert project_query.last_request_id


def test_fingerprint_collapses_literals_and_in_lists():
    a, fa = queries.fingerprint_sql("SELECT * FROM t WHERE id IN (%s, %s, %s) AND name = 'x' LIMIT 21")
    b, fb = queries.fingerprint_sql("SELECT *  FROM t WHERE id IN (%s) AND name = 'yy' LIMIT 5")
    assert fa != fb  # IN (%s) of one element stays as written
    c, fc = queries.fingerprint_sql("SELECT * FROM t WHERE id IN (%s, %s) AND name = 'zzz' LIMIT 99")
    assert fa == fc and "(...)" in a


@pytest.mark.postgres
def test_a_plan_is_captured_for_a_slow_select_on_postgresql():
    SlowQueryGroup.objects.create(
        fingerprint="f" * 32, sql="SELECT ...", vendor="postgresql", first_seen="2026-01-01T00:00Z",
        last_seen="2026-01-01T00:00Z",
    )  # fmt: skip
    plan = queries.capture_plan("f" * 32, 'SELECT * FROM "projects_project" WHERE "id" = %s', (1,), "default")
    assert "Scan" in plan
    connection.close()


def test_slow_operations_are_grouped(settings):
    settings.SLOW_OPERATION_THRESHOLD_MS = 0
    with operations.timed("projects.something"):
        pass
    with operations.timed("projects.something"):
        pass
    group = SlowOperationGroup.objects.get(kind="service", name="projects.something")
    assert group.count == 2


def test_commands_are_timed_as_operations(settings):
    settings.SLOW_OPERATION_THRESHOLD_MS = 0
    call_command("cache_stats", "--json", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert SlowOperationGroup.objects.filter(kind="command", name="cache_stats").exists()


def test_a_slow_request_is_a_slow_operation(settings, client):
    settings.SLOW_OPERATION_THRESHOLD_MS = 0
    client.get("/api/monitoring/live")
    assert SlowOperationGroup.objects.filter(kind="request", name="GET /api/monitoring/live").exists()


def test_service_calls_are_timed_per_service(settings):
    from projects.services.prototypes import prototype_generate

    settings.SLOW_OPERATION_THRESHOLD_MS = 0
    project = ProjectFactory()
    prototype_generate(project=project)
    from monitoring import metrics

    stats = metrics.group(metrics.read_window(5), "o")[("service", "projects.prototype_generate")]
    assert stats["n"] == 1 and "err" not in stats
    assert SlowOperationGroup.objects.filter(kind="service", name="projects.prototype_generate").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_slow_select_served_over_http_gets_its_plan_in_the_background(settings, auth_api_client, monkeypatch):
    import time

    monkeypatch.setattr(queries, "_last_explain", 0.0)  # earlier tests used this second's EXPLAIN
    settings.SLOW_QUERY_THRESHOLD_MS = 0
    project = ProjectFactory(owner=auth_api_client.user)
    started = time.perf_counter()
    assert auth_api_client.get(f"/api/projects/{project.pk}/").status_code == 200
    deadline = time.monotonic() + 5
    planned = None
    while planned is None and time.monotonic() < deadline:
        planned = SlowQueryGroup.objects.exclude(plan="").first()
        time.sleep(0.05)
    assert planned is not None, "no plan was captured"
    assert planned.sql.startswith("SELECT") and "Scan" in planned.plan and planned.plan_captured_at
    assert time.perf_counter() - started < 5


def test_explains_are_rate_limited_per_fingerprint_and_per_second(monkeypatch):
    ran = []
    monkeypatch.setattr(queries, "capture_plan", lambda *args: ran.append(args[0]) or "plan")
    monkeypatch.setattr(queries, "_last_explain", 0.0)
    first = queries.schedule_explain("a" * 32, "SELECT 1", (), "default")
    assert first is not None and first.result(timeout=5) == "plan"
    assert queries.schedule_explain("b" * 32, "SELECT 2", (), "default") is None  # same second
    monkeypatch.setattr(queries, "_last_explain", 0.0)
    assert queries.schedule_explain("a" * 32, "SELECT 1", (), "default") is None  # same fingerprint
    assert queries.schedule_explain("b" * 32, "SELECT 2", (), "default") is not None


def test_secrets_in_an_exception_never_reach_the_group_or_the_log_line():
    try:
        raise ValueError("upstream said: Authorization: Bearer eyJhbGciOi.secret.part and password=hunter2hunter2")
    except ValueError as exc:
        group = log_error(exc)
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "%s", (str(exc),), (type(exc), exc, exc.__traceback__)
        )
    line = JsonFormatter().format(record)
    for text in (group.message, group.sample_traceback, line):
        assert "eyJhbGciOi" not in text and "hunter2" not in text
        assert "[Filtered]" in text
