"""External-call monitoring against the loopback OpenAI server, and alert webhooks against a
loopback receiver (including a dead and a slow one)."""

import json
import socket
import time
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import path

from monitoring import alert_rules, external, metrics
from monitoring.models import AlertDelivery, ErrorGroup
from mvpvalidator import background
from mvpvalidator.urls import urlpatterns as project_urls
from tests.factories import ProjectFactory, UserFactory
from tests.fake_openai import Reply, chat_reply
from tests.projects.prototypes.test_generation import good_draft

pytestmark = pytest.mark.django_db


def crash(request):
    raise ZeroDivisionError("crash")


urlpatterns = [path("crash/", crash), *project_urls]
handler500 = "mvpvalidator.views.server_error"


def wait_for_delivery(timeout: float = 5.0) -> None:
    """Alerts are stored and posted by background threads: wait for the row's outcome."""
    deadline = time.monotonic() + timeout
    while not AlertDelivery.objects.filter(finished_at__isnull=False).exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def external_stats(service="openai"):
    return metrics.group(metrics.read_window(5), "x").get((service,), {})


@pytest.mark.django_db(transaction=True)
def test_provider_calls_are_counted_with_errors_and_last_error(auth_api_client, openai_server):
    from mvpvalidator import background

    openai_server.script(Reply(status=503), chat_reply(json.dumps(good_draft())))
    project = ProjectFactory(owner=auth_api_client.user)
    # With a model configured the generation is a job (202), run in-process here.
    assert auth_api_client.post(f"/api/projects/{project.pk}/generate-prototype").status_code == 202
    background.drain()
    stats = external_stats()
    assert stats["n"] == 2 and stats["err"] == 1
    last = external.last_error("openai")
    assert last["error"] == "HTTP 503" and last["status_code"] == 503 and last["request_id"]

    client = Client()
    client.force_login(UserFactory(is_staff=True))
    performance = client.get("/api/monitoring/performance?window=5m").json()
    row = next(r for r in performance["external"] if r["service"] == "openai")
    assert row["count"] == 2 and row["errors"] == 1 and row["error_rate"] == 0.5 and row["p95"] is not None


def test_timeouts_are_told_apart(openai_server, settings):
    settings.OPENAI_TIMEOUT_SECONDS = 0.2
    openai_server.script(Reply(delay=1.0))
    from projects.generation.drafts import IdeaInput
    from projects.generation.openai_chat import OpenAIChatGenerator, ProviderError

    provider = OpenAIChatGenerator("k", settings.OPENAI_BASE_URL, "m", 0.2)
    idea = IdeaInput(
        name="n",
        idea_description="An idea long enough.",
        target_audience="",
        price_point=Decimal(5),
        currency="USD",
        business_model="saas",
    )
    with pytest.raises(ProviderError):
        provider.generate(idea)
    stats = external_stats()
    assert stats["n"] == 2 and stats["err"] == 2 and stats["to"] == 2
    assert external.last_error("openai")["outcome"] == "timeout"


def test_track_counts_status_codes_and_exceptions():
    with external.track("svc") as call:
        call.status_code = 200
    with external.track("svc") as call:
        call.status_code = 502
    with pytest.raises(ConnectionError), external.track("svc"):
        raise ConnectionError("refused")
    stats = external_stats("svc")
    assert stats["n"] == 3 and stats["err"] == 2 and "to" not in stats
    assert external.last_error("svc")["error"].startswith("ConnectionError")


# --- alerts ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.urls("tests.monitoring.test_external_alerts")
def test_a_new_error_alerts_once_and_is_recorded(settings, webhook):
    settings.ERROR_WEBHOOK_URL = webhook.url
    client = Client(raise_request_exception=False)
    assert client.get("/crash/", HTTP_X_REQUEST_ID="crash-request-0001").status_code == 500
    received = webhook.wait_for(1)
    assert len(received) == 1
    alert = received[0]["json"]
    assert alert["channel"] == "error" and alert["rule"].startswith("new_error:")
    assert "ZeroDivisionError" in alert["title"]
    assert alert["details"]["route"] == "/crash/" and alert["details"]["request_id"] == "crash-request-0001"
    # The alert's row is written by a background thread: the next occurrences come once it is, as
    # they would on a file database, whose writers wait for each other. (The embedded test database
    # is SQLite in memory, shared between threads, which refuses a second writer at once instead:
    # the row and the next occurrence's count would not both be written.)
    background.drain()
    for _ in range(2):
        assert client.get("/crash/", HTTP_X_REQUEST_ID="crash-request-0002").status_code == 500
    time.sleep(0.3)
    assert len(webhook.received) == 1  # the next two occurrences did not alert
    wait_for_delivery()
    delivery = AlertDelivery.objects.get()
    assert delivery.delivered and delivery.response_status == 200
    assert ErrorGroup.objects.get().count == 3


@pytest.mark.django_db(transaction=True)
def test_error_rate_and_p95_rules_fire_once_per_window(settings, webhook):
    settings.ERROR_WEBHOOK_URL = webhook.url
    settings.PERFORMANCE_WEBHOOK_URL = webhook.url
    for _ in range(30):
        metrics.observe(("r", "GET", "/api/slow/", "5xx"), 800.0, errors=1)
    fired = alert_rules.evaluate()
    assert set(fired) == {"error_rate", "p95:GET /api/slow/"}
    received = webhook.wait_for(2)
    assert {r["json"]["channel"] for r in received} == {"error", "performance"}
    assert alert_rules.evaluate() == []  # deduplicated
    time.sleep(0.2)
    assert len(webhook.received) == 2


def test_quiet_traffic_does_not_alert(settings, webhook):
    settings.ERROR_WEBHOOK_URL = webhook.url
    settings.PERFORMANCE_WEBHOOK_URL = webhook.url
    for _ in range(5):  # slow, but fewer than ALERT_MIN_REQUESTS on that route
        metrics.observe(("r", "GET", "/api/slow/", "2xx"), 800.0)
    metrics.observe(("r", "GET", "/api/fast/", "5xx"), 3.0, errors=1)
    for _ in range(200):  # one error in 206 requests: under 1%
        metrics.observe(("r", "GET", "/api/fast/", "2xx"), 3.0)
    assert alert_rules.evaluate() == []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.django_db(transaction=True)
@pytest.mark.urls("tests.monitoring.test_external_alerts")
def test_a_dead_webhook_neither_slows_nor_breaks_a_request(settings):
    settings.ERROR_WEBHOOK_URL = f"http://127.0.0.1:{free_port()}/hook"
    settings.ALERT_DELIVERY_MAX_ATTEMPTS = 1  # retries: tests/monitoring/test_alerts_delivery.py
    started = time.perf_counter()
    assert Client(raise_request_exception=False).get("/crash/").status_code == 500
    assert time.perf_counter() - started < 1.0
    wait_for_delivery()
    delivery = AlertDelivery.objects.get()
    assert delivery.status == "failed" and "ConnectError" in delivery.error


@pytest.mark.django_db(transaction=True)
@pytest.mark.urls("tests.monitoring.test_external_alerts")
def test_a_slow_webhook_is_abandoned_off_the_request_path(settings, webhook):
    webhook.delay = 3.0
    settings.ERROR_WEBHOOK_URL = webhook.url
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    settings.ALERT_DELIVERY_MAX_ATTEMPTS = 1
    started = time.perf_counter()
    assert Client(raise_request_exception=False).get("/crash/").status_code == 500
    assert time.perf_counter() - started < 1.0
    wait_for_delivery()
    assert "Timeout" in AlertDelivery.objects.get().error


@pytest.mark.django_db(transaction=True)
def test_security_events_go_to_the_security_channel(settings, webhook):
    settings.SECURITY_WEBHOOK_URL = webhook.url
    alert_rules.security_event("ip_blocked:203.0.113.9", title="IP blocked", details={"ip": "203.0.113.9"})
    alert_rules.security_event("ip_blocked:203.0.113.9", title="IP blocked", details={"ip": "203.0.113.9"})
    received = webhook.wait_for(1)
    time.sleep(0.2)
    assert len(webhook.received) == 1 and received[0]["json"]["channel"] == "security"


def test_unconfigured_channel_sends_nothing(settings):
    settings.SECURITY_WEBHOOK_URL = ""
    assert alert_rules.security_event("x", title="x") is None
