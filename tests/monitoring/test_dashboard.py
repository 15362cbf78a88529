"""The staff performance dashboard: who may see it, what each panel shows from seeded data, the
actions taken from it, the request timeline, and its query count at scale."""

import re
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from bench.dashboard_data import seed_large
from monitoring import external, metrics
from monitoring.models import ErrorGroup, SlowQueryGroup
from projects.models import Signup
from security.models import BlockedIP, BlockRule, EventKind, SecurityEvent, Severity
from security.services import ip_block
from tests.factories import ProjectFactory, UserFactory, generate_and_publish

URLS = [
    "/performance-monitor/",
    "/performance-monitor/panels/",
    "/performance-monitor/requests/0123456789abcdef/",
]
PANELS = (
    "health", "performance", "kpis", "platform", "errors", "database", "cache", "security", "external", "requests",
)  # fmt: skip


@pytest.fixture
def staff_client(staff_user):
    client = Client()
    client.force_login(staff_user)
    return client


# --- Access ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("url", URLS)
def test_anonymous_visitors_are_sent_to_sign_in(url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


@pytest.mark.django_db
@pytest.mark.parametrize("url", URLS)
def test_a_signed_in_founder_is_refused_and_it_is_recorded(url, user):
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 403
    assert b"Slow queries" not in response.content and b"Blocked addresses" not in response.content
    event = SecurityEvent.objects.get(kind=EventKind.PERMISSION_DENIED)
    assert event.user == user and event.path == url


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/performance-monitor/unblock/", "/performance-monitor/resolve/"])
def test_actions_are_refused_to_anyone_but_staff(path, user):
    BlockedIP.objects.create(
        ip="203.0.113.9", rule=BlockRule.MANUAL, reason="r", expires_at=timezone.now() + timedelta(hours=1)
    )
    assert Client().post(path, {"ip": "203.0.113.9", "group": 1}).status_code == 302
    founder = Client()
    founder.force_login(user)
    assert founder.post(path, {"ip": "203.0.113.9", "group": 1}).status_code == 403
    assert BlockedIP.objects.get().unblocked_at is None


@pytest.mark.django_db
@pytest.mark.parametrize("url", URLS)
def test_staff_see_it(url, staff_client):
    assert staff_client.get(url).status_code == 200


@pytest.mark.django_db
def test_an_unknown_window_is_a_clear_400(staff_client):
    response = staff_client.get("/performance-monitor/?window=7d")
    assert response.status_code == 400 and b"5m, 1h, 24h" in response.content
    assert staff_client.get("/performance-monitor/panels/?window=x").status_code == 400


# --- Panels from seeded data ------------------------------------------------------------------


def _panel(html: str, name: str) -> str:
    match = re.search(rf'<section class="panel[^"]*" id="{name}".*?</section>', html, re.S)
    assert match, f"panel {name} missing"
    return match.group(0)


@pytest.mark.django_db
def test_every_panel_shows_what_was_seeded(staff_client, staff_user):
    founder = UserFactory()
    page = generate_and_publish(ProjectFactory(owner=founder, name="Dog walking"), slug="dogs")
    visitor = Client()
    for _ in range(3):
        assert visitor.get("/p/dogs/").status_code == 200
    Signup.objects.create(
        landing_page=page, project=page.project, email="a@example.com", consent=True, consent_at=timezone.now()
    )
    ErrorGroup.objects.create(
        fingerprint="f" * 64, exc_type="ValueError", message="bad thing happened", route="/api/x", count=7,
        first_seen=timezone.now(), last_seen=timezone.now(), last_request_id="req-0000000001",
    )  # fmt: skip
    SlowQueryGroup.objects.create(
        fingerprint="q" * 64, sql='SELECT * FROM "projects_project" WHERE id = %s', vendor="sqlite", count=4,
        total_ms=800, max_ms=350, first_seen=timezone.now(), last_seen=timezone.now(),
        call_site="projects/selectors.py:42 project_list", plan="SCAN projects_project",
    )  # fmt: skip
    ip_block(ip="198.51.100.7", rule=BlockRule.SCANNER, reason="probing scanner paths (/.env)")
    SecurityEvent.objects.create(kind=EventKind.LOCKOUT, severity=Severity.MEDIUM, ip="198.51.100.8",
                                 identifier="victim@example.com")  # fmt: skip
    with external.track("openai") as call:
        call.status_code = 503

    html = staff_client.get("/performance-monitor/").content.decode()

    health = _panel(html, "health")
    assert "database" in health and "cache" in health and "migrations" in health and "status-ok" in health
    assert re.search(r"<td class=\"num\">\d+\.\d</td>", health)  # each check's time
    performance = _panel(html, "performance")
    assert "GET /p/&lt;slug:slug&gt;/" in performance and "<svg" in performance
    assert 'href="#kpis"' in performance  # the KPIs are in their own panel
    kpi_panel = _panel(html, "kpis")
    assert "Response time p95" in kpi_panel and "Cache hit rate" in kpi_panel
    # The failed call to openai: external API success fails, named by its service.
    external_row = re.search(r'<tr class="kpi-row" data-testid="kpi-external_success".*?</tr>', kpi_panel, re.S)
    assert external_row and "kpi-badge-fail" in external_row.group(0) and ">0.00%<" in external_row.group(0)
    platform = _panel(html, "platform")
    assert re.search(r'data-testid="live-pages">1<', platform)
    assert re.search(r'data-testid="views-today">3<', platform)
    assert re.search(r'data-testid="signups-today">1<', platform)
    errors = _panel(html, "errors")
    assert "ValueError" in errors and "bad thing happened" in errors and ">7<" in errors
    assert 'href="/performance-monitor/requests/req-0000000001/"' in errors
    database = _panel(html, "database")
    assert "projects_project" in database and "350.0" in database and "project_list" in database
    assert "SCAN projects_project" in database
    cache = _panel(html, "cache")
    assert "<td>page</td>" in cache and "<svg" in cache and "closed" in cache
    security = _panel(html, "security")
    assert "198.51.100.7" in security and "probing scanner paths" in security and "Unblock" in security
    assert "victim@example.com" in security and "lockout" in security
    outside = _panel(html, "external")
    assert "openai" in outside and "HTTP 503" in outside and "100%" in outside
    for name in PANELS:
        _panel(html, name)


@pytest.mark.django_db
def test_hostile_text_in_records_is_escaped(staff_client):
    payload = "<script>alert(1)</script>"
    ErrorGroup.objects.create(
        fingerprint="x" * 64, exc_type=payload, message=payload, route=payload, location=payload,
        first_seen=timezone.now(), last_seen=timezone.now(),
    )  # fmt: skip
    BlockedIP.objects.create(ip="203.0.113.5", rule=BlockRule.MANUAL, reason=payload,
                             expires_at=timezone.now() + timedelta(hours=1))  # fmt: skip
    html = staff_client.get("/performance-monitor/").content.decode()
    assert payload not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- Actions ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_unblock_an_address_with_csrf(staff_user):
    ip_block(ip="198.51.100.7", rule=BlockRule.SCANNER, reason="probing")
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    page = client.get("/performance-monitor/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert client.post("/performance-monitor/unblock/", {"ip": "198.51.100.7"}).status_code == 403  # no token
    assert BlockedIP.objects.get().unblocked_at is None

    response = client.post("/performance-monitor/unblock/", {"ip": "198.51.100.7", "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == "/performance-monitor/#security"
    block = BlockedIP.objects.get()
    assert block.unblocked_at is not None and block.unblocked_by == staff_user
    assert SecurityEvent.objects.filter(kind=EventKind.IP_UNBLOCKED, ip="198.51.100.7").exists()
    after = client.get("/performance-monitor/").content.decode()
    assert "198.51.100.7 is unblocked." in after and 'data-testid="blocked-198.51.100.7"' not in after
    # The address really is served again.
    assert Client(REMOTE_ADDR="198.51.100.7").get("/api/monitoring/live").status_code == 200


@pytest.mark.django_db
def test_unblocking_garbage_is_a_form_error_and_changes_nothing(staff_client):
    ip_block(ip="198.51.100.7", rule=BlockRule.SCANNER, reason="probing")
    response = staff_client.post("/performance-monitor/unblock/", {"ip": "not-an-ip"}, follow=True)
    assert response.status_code == 200 and "Not unblocked: Enter a valid IPv4 or IPv6 address" in response.text
    assert BlockedIP.objects.get().unblocked_at is None
    assert staff_client.get("/performance-monitor/unblock/").status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize("blocked", ["2001:db8:7:7::1", "203.0.113.0/24"])
def test_staff_unblock_a_network_row_from_the_dashboard(commit, staff_client, blocked):
    """An IPv6 client is blocked as its /64 and staff may block networks: the row's button posts
    the network it shows, and lifting it serves the addresses inside again."""
    with commit():
        ip_block(ip=blocked, rule=BlockRule.MANUAL, reason="abuse")
    row = BlockedIP.objects.get().ip
    inside = "2001:db8:7:7::99" if ":" in blocked else "203.0.113.40"
    assert Client(REMOTE_ADDR=inside).get("/api/monitoring/live").status_code == 403
    page = staff_client.get("/performance-monitor/").content.decode()
    assert f'name="ip" value="{row}"' in page
    response = staff_client.post("/performance-monitor/unblock/", {"ip": row}, follow=True)
    assert f"{row} is unblocked." in response.text
    assert BlockedIP.objects.get().unblocked_at is not None
    assert Client(REMOTE_ADDR=inside).get("/api/monitoring/live").status_code == 200


@pytest.mark.django_db
def test_staff_resolve_an_error_group(staff_client):
    group = ErrorGroup.objects.create(fingerprint="e" * 64, exc_type="KeyError", first_seen=timezone.now(),
                                      last_seen=timezone.now())  # fmt: skip
    response = staff_client.post("/performance-monitor/resolve/", {"group": group.pk}, follow=True)
    assert "marked resolved" in response.text
    group.refresh_from_db()
    assert group.resolved_at is not None
    assert "KeyError" not in _panel(response.text, "errors")
    missing = staff_client.post("/performance-monitor/resolve/", {"group": "abc"}, follow=True)
    assert "Not resolved" in missing.text


# --- The request timeline --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_failed_request_has_a_timeline(staff_client, settings):
    settings.TRACE_SAMPLE_RATE = 0
    response = Client(REMOTE_ADDR="198.51.100.20").get("/.env")  # a scanner probe: a security event
    request_id = response["X-Request-ID"]
    ordinary = Client().get("/api/monitoring/live")["X-Request-ID"]

    page = staff_client.get(f"/performance-monitor/requests/{request_id}/").content.decode()
    assert "GET <code>/.env</code>" in page and "404" in page
    assert "scanner_path" in page and "198.51.100.20" in page  # the note and the event row
    assert "Kept because" in page and "security" in page
    # Not kept (sampling off, nothing notable), but still a page saying so.
    unknown = staff_client.get(f"/performance-monitor/requests/{ordinary}/").content.decode()
    assert "No trace was kept" in unknown
    assert staff_client.get("/performance-monitor/requests/bad%0Aid/").status_code == 404
    listing = _panel(staff_client.get("/performance-monitor/").content.decode(), "requests")
    assert request_id[:10] in listing and ordinary[:10] not in listing


@pytest.mark.django_db
def test_the_timeline_shows_cache_lookups_queries_and_external_calls(staff_client, settings, openai_server):
    settings.TRACE_SAMPLE_RATE = 1.0
    founder = UserFactory()
    generate_and_publish(ProjectFactory(owner=founder), slug="seen")
    request_id = Client().get("/p/seen/")["X-Request-ID"]
    page = staff_client.get(f"/performance-monitor/requests/{request_id}/").content.decode()
    assert "sampled" in page and "/p/&lt;slug:slug&gt;/" in page
    # Cold: the page's two entries (the page with its running experiment, and its HTML rendered
    # for the visitor's variant) missed, and were set.
    assert re.search(r"<td>page</td><td>miss × 2 set × 2", page), page


@pytest.mark.django_db
def test_an_error_is_on_its_request_timeline(staff_client):
    from monitoring.errors import log_error

    client = Client()
    client.force_login(UserFactory())
    from monitoring import context

    ctx = context.RequestContext(request_id="req-timeline-1", method="GET", route="/x")
    ctx.started = time.perf_counter()
    token = context.start(ctx)
    try:
        log_error(RuntimeError("the provider said no"))
        from monitoring import traces

        traces.finish(ctx, path="/x", status=200, ms=3.0)
    finally:
        context.end(token)
    page = staff_client.get("/performance-monitor/requests/req-timeline-1/").content.decode()
    assert "RuntimeError: the provider said no" in page and "(handled)" in page
    assert re.search(r"Error <strong>[\w.]*RuntimeError</strong>", page)


# --- At scale --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_costs_a_constant_number_of_queries_at_scale(staff_client, django_assert_num_queries, settings):
    # The health report (its own, bounded, checks; run in threads on PostgreSQL) is reused by
    # both renders, so the count is the page's own.
    settings.HEALTH_CACHE_SECONDS = 3600
    staff_client.get("/performance-monitor/")  # warm: the health report, the session
    with django_assert_num_queries(QUERIES) as empty:
        assert staff_client.get("/performance-monitor/").status_code == 200
    seed_large()
    assert SecurityEvent.objects.count() == 100_000
    # The seed wrote into buckets long settled, which the first render kept: a process re-reads
    # them after SETTLED_KEEP_SECONDS; this one is told to now.
    metrics.forget_settled()
    with django_assert_num_queries(QUERIES) as large:
        response = staff_client.get("/performance-monitor/?window=24h")
    assert response.status_code == 200
    assert len(empty.captured_queries) == len(large.captured_queries)
    performance = _panel(response.content.decode(), "performance")
    assert "/api/route-49/" in performance or "/api/route-0/" in performance
    platform = _panel(response.content.decode(), "platform")
    assert platform.count('data-testid="experiment-') == 10  # the first SHOWN of 20 running
    assert "sample ratio mismatch" in platform and "bot share" in platform
    assert re.search(r'data-testid="unhealthy-experiments">2 unhealthy', platform)


# Session + user (2), KPI counter hours (1), slow queries (1), errors (1), security: by kind and
# severity, offenders, blocks, lockouts, per hour (5), the security KPIs: attacks by kind and per
# hour, blocks in the window and over the week (4), uptime: its first recorded minute, for the
# figure and for the trend (2; with minutes recorded each adds its aggregate), platform: pages,
# signups today, top pages, projects (4), running experiments, their variants (with the people
# counts), bot share (3), request counters read from the store (0); on PostgreSQL the index
# coverage reads the tables' scan statistics and their reset time (2).
QUERIES = 23 + (2 if connection.vendor == "postgresql" else 0)


@pytest.mark.django_db
def test_a_request_with_a_slow_query_is_traced_with_it(staff_client, settings):
    settings.TRACE_SAMPLE_RATE = 0
    settings.SLOW_QUERY_THRESHOLD_MS = 0  # every query is "slow"
    generate_and_publish(ProjectFactory(owner=UserFactory()), slug="slowq")
    request_id = Client().get("/p/slowq/")["X-Request-ID"]
    settings.SLOW_QUERY_THRESHOLD_MS = 10_000
    page = staff_client.get(f"/performance-monitor/requests/{request_id}/").content.decode()
    assert "slow_query" in page and "projects_landingpage" in page


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/performance-monitor/", "/performance-monitor/panels/"])
def test_the_page_renders_every_panel_while_the_counters_cannot_be_read(staff_client, monkeypatch, url):
    """Redis away: the request counters cannot be read (the metric store raises as it does through
    the open breaker), yet the page answers with every panel, health first, and says why the
    figures are empty. It was a 500 in the soak."""
    from mvpvalidator.cache import CacheUnavailable

    def unavailable(*args, **kwargs):
        raise CacheUnavailable("circuit open")

    metrics._settled.clear()  # nothing kept from an earlier read
    monkeypatch.setattr(type(metrics.store()), "read", unavailable)
    response = staff_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    for name in PANELS:
        _panel(html, name)
    assert 'data-testid="counters-unavailable"' in html
