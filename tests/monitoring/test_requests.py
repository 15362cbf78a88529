"""Request timing through the HTTP client: request ids, route patterns, per-route figures,
query counts, the performance endpoint and /metrics (including who is refused)."""

import json
import re
import time

import pytest
from django.test import Client
from django.urls import path

from monitoring import metrics
from monitoring.models import RequestMetricHour, SlowOperationGroup
from monitoring.services import rollup_hours
from mvpvalidator.urls import urlpatterns as project_urls
from tests.factories import ProjectFactory, generate_and_publish

pytestmark = pytest.mark.django_db


def boom(request, pk):
    raise RuntimeError(f"boom {pk}")


urlpatterns = [path("boom/<int:pk>/", boom), *project_urls]


def test_a_valid_request_id_is_kept_and_an_invalid_one_replaced(client):
    kept = client.get("/api/monitoring/live", HTTP_X_REQUEST_ID="proxy-abc-12345678")
    assert kept["X-Request-ID"] == "proxy-abc-12345678"
    for bad in ("short", "x" * 200, "evil\nheader-injection", "<script>alert(1)</script>"):
        response = client.get("/api/monitoring/live", HTTP_X_REQUEST_ID=bad)
        assert response["X-Request-ID"] != bad
        assert len(response["X-Request-ID"]) == 32
    assert client.get("/no/such/page/")["X-Request-ID"]  # errors carry one too


def test_requests_are_counted_per_route_pattern_never_the_raw_path(client):
    for pk in (1, 2, 3):
        client.get(f"/p/page-{pk}/")
    window = metrics.read_window(5)
    routes = metrics.group(window, "r")
    assert ("GET", "/p/<slug:slug>/", "4xx") in routes
    assert routes[("GET", "/p/<slug:slug>/", "4xx")]["n"] == 3
    assert not any("page-1" in label for labels in routes for label in labels)
    client.get("/definitely/not/a/route/")
    assert ("GET", "<unmatched>", "4xx") in metrics.group(metrics.read_window(5), "r")


@pytest.mark.urls("tests.monitoring.test_requests")
def test_a_500_counts_as_an_error_of_its_route():
    client = Client(raise_request_exception=False)
    assert client.get("/boom/7/").status_code == 500
    stats = metrics.group(metrics.read_window(5), "r")[("GET", "/boom/<int:pk>/", "5xx")]
    assert stats["n"] == 1 and stats["err"] == 1


def test_query_count_and_time_are_recorded_per_request(auth_api_client):
    project = ProjectFactory(owner=auth_api_client.user)
    auth_api_client.get(f"/api/projects/{project.pk}/")
    stats = metrics.group(metrics.read_window(5), "r")[("GET", "/api/projects/<int:pk>/", "2xx")]
    assert stats["qn"] == 4  # cold: identity + project + prototype + pages
    assert stats["qus"] > 0
    queries = metrics.group(metrics.read_window(5), "q")[("all",)]
    assert queries["n"] >= 4


def test_monitoring_off_still_sets_request_ids_but_counts_nothing(settings):
    settings.ENABLE_PERFORMANCE_MONITORING = False
    client = Client()
    assert client.get("/api/monitoring/live")["X-Request-ID"]
    assert metrics.group(metrics.read_window(5), "r") == {}


def test_performance_endpoint_refuses_anonymous_and_founders(api_client, auth_api_client):
    assert api_client.get("/api/monitoring/performance").status_code == 401
    response = auth_api_client.get("/api/monitoring/performance")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_performance_endpoint_rejects_an_unknown_window(staff_api_client):
    response = staff_api_client.get("/api/monitoring/performance?window=7d")
    assert response.status_code == 400
    assert "window" in response.json()["error"]["fields"]


@pytest.mark.parametrize("window", ["5m", "1h", "24h"])
def test_performance_endpoint_reports_routes_percentiles_and_kpis(staff_api_client, client, window):
    page = generate_and_publish(ProjectFactory(), slug="counted")
    for _ in range(5):
        assert client.get(f"/p/{page.slug}/").status_code == 200
    body = staff_api_client.get(f"/api/monitoring/performance?window={window}").json()
    assert body["window"] == window
    row = next(r for r in body["requests"]["routes"] if r["route"] == "/p/<slug:slug>/")
    assert row["count"] == 5 and row["statuses"] == {"2xx": 5}
    assert row["p50"] is not None and row["p50"] <= row["p95"] <= row["p99"]
    assert row["error_rate"] == 0.0
    ids = [k["id"] for k in body["kpis"]]
    assert ids == ["response_p95", "query_p95", "error_rate", "cache_hit_rate", "health_success"]
    error_kpi = next(k for k in body["kpis"] if k["id"] == "error_rate")
    assert error_kpi["pass"] is True
    assert body["latency_histogram"]["counts"] and len(body["latency_histogram"]["bounds_ms"]) + 1 == len(
        body["latency_histogram"]["counts"]
    )


def test_kpis_fail_when_the_figures_are_bad(staff_api_client):
    for _ in range(50):
        metrics.observe(("r", "GET", "/slow/", "5xx"), 900.0, errors=1)
    body = staff_api_client.get("/api/monitoring/performance?window=5m").json()
    kpis = {k["id"]: k for k in body["kpis"]}
    assert kpis["response_p95"]["pass"] is False
    assert kpis["error_rate"]["pass"] is False
    assert kpis["error_rate"]["value"] > 0.5


def test_metrics_needs_staff_or_the_token(settings, api_client, auth_api_client, staff_api_client):
    settings.METRICS_TOKEN = "scrape-token-0123456789"
    assert api_client.get("/metrics").status_code == 401
    assert auth_api_client.get("/metrics").status_code == 403
    wrong = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer not-the-token")
    assert wrong.status_code == 401
    scraper = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token-0123456789")
    assert scraper.status_code == 200
    assert scraper["Content-Type"].startswith("text/plain; version=0.0.4")
    assert staff_api_client.get("/metrics").status_code == 200


SCRAPE_TOKEN = "scrape-token-0123456789"


@pytest.mark.parametrize(
    "presented",
    [
        pytest.param("tökén", id="latin-1"),
        # What the server hands Django for UTF-8 bytes: each byte read as Latin-1 (PEP 3333).
        pytest.param("令牌".encode().decode("latin-1"), id="utf-8-on-the-wire"),
        pytest.param(SCRAPE_TOKEN + "é", id="the-token-and-more"),
    ],
)
def test_metrics_refuses_a_non_ascii_bearer_token_with_401(settings, presented):
    settings.METRICS_TOKEN = SCRAPE_TOKEN
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {presented}")
    assert response.status_code == 401
    assert set(response.json()["error"]) == {"code", "message", "fields"}


def test_metrics_compares_the_token_as_the_bytes_sent(settings):
    settings.METRICS_TOKEN = "jeton-de-collecte-é-0123456789"
    sent = settings.METRICS_TOKEN.encode().decode("latin-1")  # a scraper sending it as UTF-8
    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {sent}").status_code == 200


@pytest.mark.parametrize(
    "accept",
    [
        "text/plain",
        "text/plain; version=0.0.4",
        "text/plain;charset=utf-8",
        "*/*",
        "text/*",
        None,
        # What Prometheus itself sends.
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
        "text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
    ],
)
def test_metrics_answers_its_text_format_to_every_accept_that_admits_it(settings, accept):
    settings.METRICS_TOKEN = SCRAPE_TOKEN
    headers = {"HTTP_AUTHORIZATION": f"Bearer {SCRAPE_TOKEN}"} | ({"HTTP_ACCEPT": accept} if accept else {})
    response = Client().get("/metrics", **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert response.content.startswith(b"# HELP mvp_http_requests_total")


@pytest.mark.parametrize("accept", ["application/xml", "application/json", "text/html"])
def test_metrics_refuses_an_accept_it_cannot_produce_with_406_in_the_error_shape(settings, accept):
    settings.METRICS_TOKEN = SCRAPE_TOKEN
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {SCRAPE_TOKEN}", HTTP_ACCEPT=accept)
    assert response.status_code == 406
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_acceptable"


def test_metrics_exposition_has_counters_and_cumulative_buckets(settings, client):
    settings.METRICS_TOKEN = "scrape-token-0123456789"
    for _ in range(3):
        client.get("/api/monitoring/live")
    text = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token-0123456789").content.decode()
    assert 'mvp_http_requests_total{method="GET",route="/api/monitoring/live",status="2xx"} 3' in text
    buckets = [
        line
        for line in text.splitlines()
        if line.startswith('mvp_http_request_duration_seconds_bucket{method="GET",route="/api/monitoring/live"')
    ]
    values = [int(line.rsplit(" ", 1)[1]) for line in buckets]
    assert values == sorted(values) and values[-1] == 3 and 'le="+Inf"' in buckets[-1]
    assert "# TYPE mvp_db_query_duration_seconds histogram" in text


_REQUESTS_SAMPLE = re.compile(r'^mvp_http_requests_total\{method="([^"]*)",route="([^"]*)",status="([^"]*)"\} \d+$')


def test_made_up_methods_and_paths_leave_the_metric_labels_bounded(settings):
    settings.METRICS_TOKEN = "scrape-token-0123456789"
    settings.SLOW_OPERATION_THRESHOLD_MS = 0  # every request is filed as a slow operation too
    client = Client()
    made_up = [f"MADEUP{n:02d}" for n in range(20)] + ["BREW", "PROPFIND", "X" * 40]
    for n, method in enumerate(made_up):
        client.generic(method, f"/made/up/{n}/{method.lower()}/")
        client.generic(method, "/api/monitoring/live")
    client.generic("get", "/api/monitoring/live")  # Django reads the method upper-cased
    text = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token-0123456789").content.decode()

    samples = {m.groups() for line in text.splitlines() if (m := _REQUESTS_SAMPLE.match(line))}
    assert {method for method, _, _ in samples} == {"OTHER", "GET"}
    assert {route for _, route, _ in samples} == {"<unmatched>", "/api/monitoring/live"}
    assert len(samples) <= 3
    assert ("OTHER", "<unmatched>", "4xx") in samples
    # Neither the slow-operation groups nor the hourly rollup gain a row per made-up method.
    names = set(SlowOperationGroup.objects.filter(kind="request").values_list("name", flat=True))
    assert names == {"OTHER <unmatched>", "OTHER /api/monitoring/live", "GET /api/monitoring/live", "GET /metrics"}
    rollup_hours(hours=1)
    assert set(RequestMetricHour.objects.values_list("method", flat=True)) == {"OTHER", "GET"}


def test_error_groups_endpoint_is_staff_only(api_client, auth_api_client, staff_api_client):
    assert api_client.get("/api/monitoring/errors").status_code == 401
    assert auth_api_client.get("/api/monitoring/errors").status_code == 403
    body = staff_api_client.get("/api/monitoring/errors").json()
    assert body["count"] == 0 and json.dumps(body)


def test_settled_buckets_are_reused_until_they_are_read_again_and_open_ones_always_fresh():
    now = time.time()
    hour = metrics.minute_of(now) // 60
    old, current = hour - 3, hour
    metrics.record({"r|GET|/x/|2xx|n": 1}, at=old * 3600 + 10)
    metrics.record({"r|GET|/x/|2xx|n": 1}, at=now)

    def counts(at: float) -> list[int]:
        read = metrics.read_hours([old, current], reuse_settled=True, now=at)
        return [fields.get("r|GET|/x/|2xx|n", 0) for _, fields in read]

    assert counts(now) == [1, 1]
    # A late write into the settled hour (a process that was cut off from Redis for a while)...
    metrics.record({"r|GET|/x/|2xx|n": 5}, at=old * 3600 + 20)
    metrics.record({"r|GET|/x/|2xx|n": 5}, at=now)
    assert counts(now + 1) == [1, 6]  # ...is not seen while the kept copy is young; the open hour is
    assert counts(now + metrics.SETTLED_KEEP_SECONDS + 1) == [6, 6]  # re-read once it is old
    assert [f.get("r|GET|/x/|2xx|n", 0) for _, f in metrics.read_hours([old, current])] == [6, 6]  # plain reads: fresh
    # A bucket is kept only once it can no longer change: its end plus the settle margin.
    assert not metrics.settled("h", current, now=now)
    assert not metrics.settled("m", 10, now=11 * 60 + metrics.SETTLE_SECONDS - 1)
    assert metrics.settled("m", 10, now=11 * 60 + metrics.SETTLE_SECONDS)


def test_a_settled_buckets_grouping_is_made_once_and_an_open_ones_every_time(monkeypatch):
    """The dashboard groups each settled hour's fields once per series, not once per figure read;
    a bucket that can still change (or any dict not kept as settled) is grouped afresh."""
    now = time.time()
    hour = metrics.minute_of(now) // 60
    old, current = hour - 3, hour
    metrics.record({"r|GET|/x/|2xx|n": 2, "q|all|n": 7}, at=old * 3600 + 10)
    metrics.record({"r|GET|/x/|2xx|n": 1}, at=now)
    made: list[str] = []
    real = metrics._group
    monkeypatch.setattr(metrics, "_group", lambda fields, series: made.append(series) or real(fields, series))

    (_, settled), (_, open_hour) = metrics.read_hours([old, current], reuse_settled=True, now=now)
    for _ in range(3):
        assert metrics.group(settled, "r") == {("GET", "/x/", "2xx"): {"n": 2}}
        assert metrics.group(settled, "q") == {("all",): {"n": 7}}
        assert metrics.group(open_hour, "r") == {("GET", "/x/", "2xx"): {"n": 1}}
    assert made == ["r", "q", "r", "r", "r"]  # the settled hour once per series, the open one each time
    copy = dict(settled)
    copy["r|GET|/x/|2xx|n"] = 9  # an equal dict that is not the kept one: its own grouping
    assert metrics.group(copy, "r") == {("GET", "/x/", "2xx"): {"n": 9}}
    metrics.forget_settled()
    assert metrics.group(settled, "r") == {("GET", "/x/", "2xx"): {"n": 2}} and made[-1] == "r" and len(made) == 7


def test_a_settled_hours_overall_request_stats_are_summed_once_across_evaluations(monkeypatch):
    """Every dashboard render evaluates the KPIs, whose sparklines read 168 hours: a settled
    hour's overall request stats are summed once for the process, an open hour's once per
    evaluation."""
    from monitoring import kpi_counters, kpi_readers

    now = time.time()
    hour = metrics.minute_of(now) // 60
    old, current = hour - 3, hour
    metrics.record({"r|GET|/x/|2xx|n": 2, "r|GET|/y/|5xx|n": 1, "r|GET|/y/|5xx|err": 1}, at=old * 3600 + 10)
    metrics.record({"r|GET|/x/|2xx|n": 1}, at=now)
    summed: list[int] = []
    real = kpi_readers._requests_of
    monkeypatch.setattr(kpi_readers, "_requests_of", lambda fields: summed.append(len(fields)) or real(fields))

    for _ in range(3):  # three evaluations, each reading both hours twice
        with kpi_counters.reading(4, now=now):
            (_, settled), (_, open_hour) = metrics.read_hours([old, current], reuse_settled=True, now=now)
            for _ in range(2):
                assert kpi_readers.requests_overall(settled) == {"n": 3, "err": 1}
                assert kpi_readers.error_rate(settled) == 1 / 3
                assert kpi_readers.requests_overall(open_hour) == {"n": 1}
    assert len(summed) == 1 + 3  # the settled hour once, the open one once per evaluation


def test_the_sum_of_settled_hours_and_what_is_derived_from_it_are_made_once_across_evaluations(monkeypatch):
    """The sparklines' days are the same settled hours on every evaluation of the hour: their
    sum, and the overall request stats of that sum, are made once; a window with the open hour
    in it is summed once per evaluation."""
    from monitoring import kpi_counters, kpi_readers

    now = time.time()
    hour = metrics.minute_of(now) // 60
    ids = [hour - 4, hour - 3, hour - 2, hour]
    for n, bucket in enumerate(ids, start=1):
        metrics.record({"r|GET|/x/|2xx|n": n}, at=bucket * 3600 + 10 if bucket != hour else now)
    sums: list[int] = []
    overall: list[int] = []
    real_sum, real_requests = metrics.sum_buckets, kpi_readers._requests_of
    monkeypatch.setattr(metrics, "sum_buckets", lambda b: sums.append(len(b)) or real_sum(b))
    monkeypatch.setattr(kpi_readers, "_requests_of", lambda f: overall.append(len(f)) or real_requests(f))

    for _ in range(3):
        with kpi_counters.reading(5, now=now):
            buckets = [fields for _, fields in metrics.read_hours(ids, reuse_settled=True, now=now)]
            for _ in range(2):
                assert kpi_readers.requests_overall(kpi_readers._summed(buckets[:3])) == {"n": 1 + 2 + 3}
                assert kpi_readers.requests_overall(kpi_readers._summed(buckets)) == {"n": 1 + 2 + 3 + 4}
    assert sums == [3] + [4] * 3  # the settled days once, the window with the open hour each time
    assert len(overall) == 1 + 3
    metrics.forget_settled()  # the hours read again: new dicts, summed again
    with kpi_counters.reading(5, now=now):
        buckets = [fields for _, fields in metrics.read_hours(ids, reuse_settled=True, now=now)]
        assert kpi_readers._summed(buckets[:3]) == {"r|GET|/x/|2xx|n": 6}
    assert sums[-1] == 3 and len(sums) == 5


def test_a_read_waits_for_the_flush_in_flight_and_sees_every_count_recorded_before_it(monkeypatch):
    """The background flusher takes this process's tally, then writes it to the store: a read in
    between must not miss those counts (an alert rule judged 30 slow requests from their count
    alone, without their durations, and did not fire)."""
    import threading

    store = metrics.store()
    applying, release = threading.Event(), threading.Event()
    real_apply = store.apply

    def slow_apply(taken):
        applying.set()
        release.wait(5)
        real_apply(taken)

    for _ in range(30):
        metrics.observe(("r", "GET", "/api/slow/", "5xx"), 800.0, errors=1)
    with monkeypatch.context() as patched:
        patched.setattr(store, "apply", slow_apply)
        flusher = threading.Thread(target=metrics.flush)
        flusher.start()
        assert applying.wait(5)
    read: dict[str, int] = {}
    reader = threading.Thread(target=lambda: read.update(metrics.read_window(5)))
    reader.start()
    reader.join(0.3)
    assert reader.is_alive()  # waiting for the flush in flight, not reading the store without it
    release.set()
    flusher.join(5)
    reader.join(5)
    assert read["r|GET|/api/slow/|5xx|n"] == 30
    assert read["r|GET|/api/slow/|5xx|err"] == 30
