"""`GET /api/monitoring/kpis` (staff only, the error shape on a bad window), the `/metrics`
gauges of each KPI, and the KPIs driven from outside: requests that fail move the error rate,
cache lookups move a family's hit rate, a failing external call moves external API success."""

import httpx
import pytest
from django.test import Client

from monitoring import external, kpi_readers, kpis
from monitoring.kpi_catalog import CATALOG
from mvpvalidator import cache as app_cache

pytestmark = pytest.mark.django_db


def kpi(client, kpi_id: str, hours: int = 24) -> dict:
    response = client.get(f"/api/monitoring/kpis?hours={hours}")
    assert response.status_code == 200, response.content
    return next(k for k in response.json()["kpis"] if k["id"] == kpi_id)


# --- Access and shape --------------------------------------------------------------------------


def test_anonymous_and_founders_are_refused(api_client, auth_api_client):
    assert api_client.get("/api/monitoring/kpis").status_code in (401, 403)
    assert auth_api_client.get("/api/monitoring/kpis").status_code == 403


def test_staff_get_every_kpi_of_the_catalog(staff_api_client):
    response = staff_api_client.get("/api/monitoring/kpis")
    assert response.status_code == 200
    body = response.json()
    assert body["hours"] == 24
    assert [k["id"] for k in body["kpis"]] == [spec.id for spec in CATALOG]
    first = body["kpis"][0]
    assert first["group"] == "performance" and first["target"] == "< 200 ms" and first["unit"] == "ms"
    assert first["source"].startswith("Performance KPIs: Response Time")
    assert len(first["spark"]) == 7 and first["failing_since"] is None


@pytest.mark.parametrize("hours", ["0", "721", "abc", "1.5"])
def test_a_bad_window_is_a_400_in_the_error_shape(staff_api_client, hours):
    response = staff_api_client.get(f"/api/monitoring/kpis?hours={hours}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error" and list(error["fields"]) == ["hours"]


def test_the_window_bounds_are_accepted(staff_api_client):
    assert staff_api_client.get("/api/monitoring/kpis?hours=1").json()["hours"] == 1
    assert staff_api_client.get("/api/monitoring/kpis?hours=720").json()["hours"] == 720


# --- Driven from outside -------------------------------------------------------------------------


@pytest.mark.urls("tests.monitoring.urls_raise")
def test_failing_requests_move_the_error_rate(staff_api_client):
    visitor = Client(raise_request_exception=False)
    for _ in range(20):
        assert visitor.get("/ok/").status_code == 200
    healthy = kpi(staff_api_client, "error_rate")
    assert healthy["pass"] is True and healthy["value"] == 0.0
    for n in range(5):
        assert visitor.get(f"/boom/{n}/").status_code == 500
    failing = kpi(staff_api_client, "error_rate")
    assert failing["pass"] is False and failing["value"] > 0.1
    assert failing["detail"]["errors"] == 5


def test_cache_lookups_move_their_familys_hit_rate(staff_api_client):
    for n in range(kpi_readers.BUSY_LOOKUPS):  # every one a miss
        app_cache.get_or_set(app_cache.PAGE, ("kpi-test", n), lambda: "value")
    cold = kpi(staff_api_client, "cache_hit_rate")
    assert cold["pass"] is False and cold["value"] == 0.0
    assert cold["detail"]["worst"] == "page"
    assert cold["detail"]["per"]["page"]["lookups"] >= kpi_readers.BUSY_LOOKUPS
    for _ in range(400):  # the same key again: hits
        app_cache.get_or_set(app_cache.PAGE, ("kpi-test", 0), lambda: "value")
    warm = kpi(staff_api_client, "cache_hit_rate")
    assert warm["pass"] is True and warm["value"] > 0.8
    assert warm["detail"]["per"]["page"]["rate"] == warm["value"]


def test_a_family_with_few_lookups_is_listed_but_not_judged(staff_api_client):
    app_cache.get_or_set(app_cache.PROJECT, ("kpi-test",), lambda: "value")  # one miss
    row = kpi(staff_api_client, "cache_hit_rate")
    assert row["value"] is None and row["pass"] is None
    assert row["detail"]["per"]["project"] == {"lookups": 1, "rate": 0.0, "busy": False}
    assert "no family" in row["note"]


def test_a_failing_external_call_moves_external_success(staff_api_client):
    for _ in range(3):
        with external.track("mailer") as call:
            call.status_code = 200
    assert kpi(staff_api_client, "external_success")["value"] == 1.0
    with pytest.raises(httpx.ConnectError), external.track("openai"):
        raise httpx.ConnectError("refused")
    row = kpi(staff_api_client, "external_success")
    assert row["pass"] is False and row["value"] == 0.0
    assert row["detail"]["worst"] == "openai"
    assert row["detail"]["per"] == {"mailer": {"calls": 3, "rate": 1.0}, "openai": {"calls": 1, "rate": 0.0}}


def test_health_checks_move_health_success(staff_api_client, client):
    assert client.get("/api/monitoring/health").status_code == 200
    row = kpi(staff_api_client, "health_success")
    assert row["value"] == 1.0 and row["pass"] is True and row["detail"]["checks"] >= 1


# --- /metrics ----------------------------------------------------------------------------------


def test_metrics_exports_each_kpi_with_a_figure_as_gauges(staff_api_client, monkeypatch):
    monkeypatch.setitem(kpis._readers, "uptime", lambda hours: kpis.Reading(None, note="no data"))
    for _ in range(3):
        with external.track("openai") as call:
            call.status_code = 503
    text = staff_api_client.get("/metrics").content.decode()
    assert "# TYPE mvp_kpi_value gauge" in text and "# TYPE mvp_kpi_pass gauge" in text
    assert 'mvp_kpi_value{kpi="external_success"} 0.0' in text
    assert 'mvp_kpi_pass{kpi="external_success"} 0' in text
    # No figure, no line: nothing pretends a missing KPI is zero.
    assert 'kpi="uptime"' not in text


def test_metrics_gauges_say_pass_when_the_kpi_passes(staff_api_client):
    with external.track("mailer") as call:
        call.status_code = 200
    text = staff_api_client.get("/metrics").content.decode()
    assert 'mvp_kpi_value{kpi="external_success"} 1.0' in text
    assert 'mvp_kpi_pass{kpi="external_success"} 1' in text


def test_the_schema_documents_the_endpoint_as_it_answers(staff_api_client, client):
    document = client.get("/api/schema/?format=json").json()
    operation = document["paths"]["/api/monitoring/kpis"]["get"]
    hours = next(p for p in operation["parameters"] if p["name"] == "hours")
    assert hours["schema"]["minimum"] == 1 and hours["schema"]["maximum"] == 720
    documented = set(document["components"]["schemas"]["Kpi"]["properties"])
    answered = staff_api_client.get("/api/monitoring/kpis").json()["kpis"]
    assert all(set(k) == documented for k in answered)
