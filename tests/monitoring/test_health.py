import threading
import time

import pytest

from monitoring import health, metrics
from monitoring.health import CheckResult
from mvpvalidator import background

pytestmark = pytest.mark.django_db

HEALTH = "/api/monitoring/health"


@pytest.fixture(autouse=True)
def _fresh_health():
    """No test sees a report (or a migration answer) cached by another."""
    health.reset_cache()
    yield
    health.reset_cache()


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def counted(monkeypatch):
    """Replace check functions by name; returns {name: calls}."""
    calls: dict[str, int] = {}

    def replace(name: str, result: CheckResult | None = None, *, effect=None):
        original = getattr(health, f"check_{name}")
        calls[name] = 0

        def check() -> CheckResult:
            calls[name] += 1
            if effect is not None:
                effect()
            return result if result is not None else original()

        monkeypatch.setattr(health, f"check_{name}", check)

    return calls, replace


@pytest.fixture
def kpi_samples(monkeypatch):
    """The health KPI counts recorded during the test (other series, e.g. requests, left out)."""
    recorded: list[dict[str, int]] = []
    monkeypatch.setattr(metrics, "record", recorded.append)
    n = metrics.field("h", "all", "n")
    return lambda: [counts for counts in recorded if n in counts]


@pytest.fixture
def hung():
    """A check effect that blocks until the test ends (then lets the thread go)."""
    release = threading.Event()
    yield lambda: release.wait(10)
    release.set()


def test_health_is_ok_for_the_public_with_status_only(client):
    response = client.get(HEALTH)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body) == {"status", "checked_at"}


def test_health_shows_checks_to_staff(staff_client, settings):
    body = staff_client.get(HEALTH).json()
    assert body["status"] == "ok"
    assert body["cached"] is False
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["cache"]["status"] == "ok"
    assert body["checks"]["migrations"]["status"] == "ok"
    assert body["checks"]["migrations"]["detail"] == {"unapplied": 0}
    assert body["checks"]["pool"]["status"] == "ok"
    expected = "redis" if settings.ENABLE_REDIS_CACHE else "local-memory"
    assert body["checks"]["cache"]["detail"]["backend"] == expected


def test_live_answers_without_touching_services(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/api/monitoring/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_is_503_when_the_database_is_down(client, monkeypatch, settings):
    from django.db import OperationalError, connection

    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    # The broken cursor is this thread's connection: run the checks here, not in the pool.
    settings.HEALTH_CHECK_TIMEOUT_SECONDS = 0
    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get(HEALTH)
    assert response.status_code == 503
    assert set(response.json()) == {"status", "checked_at"}
    assert response.json()["status"] == "down"


def test_staff_see_why_the_database_is_down(staff_client, counted):
    _, replace = counted
    replace("database", CheckResult("down", 1.0, {"vendor": "postgresql", "error": "OperationalError"}))
    response = staff_client.get(HEALTH)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["checks"]["database"]["detail"]["error"] == "OperationalError"
    assert body["checks"]["cache"]["status"] == "ok"


def test_two_calls_within_the_window_run_the_checks_once(staff_client, counted, kpi_samples):
    calls, replace = counted
    for name in ("database", "pool", "cache", "migrations"):
        replace(name)

    first = staff_client.get(HEALTH).json()
    second = staff_client.get(HEALTH).json()

    assert calls == {"database": 1, "pool": 1, "cache": 1, "migrations": 1}
    assert (first["cached"], second["cached"]) == (False, True)
    assert second["checked_at"] == first["checked_at"]
    # One evaluation, one KPI sample: the cached answer is not counted again.
    assert kpi_samples() == [{metrics.field("h", "all", "n"): 1, metrics.field("h", "all", "ok"): 1}]


def test_the_cached_answer_touches_no_database(client, django_assert_num_queries):
    client.get(HEALTH)
    with django_assert_num_queries(0):
        assert client.get(HEALTH).status_code == 200


def test_checks_run_again_once_the_window_has_passed(client, counted, settings, kpi_samples):
    calls, replace = counted
    replace("database")
    settings.HEALTH_CACHE_SECONDS = 0.05
    client.get(HEALTH)
    time.sleep(0.1)
    client.get(HEALTH)
    assert calls["database"] == 2
    assert len(kpi_samples()) == 2


def test_a_down_evaluation_counts_as_a_failed_health_check(client, counted, kpi_samples):
    _, replace = counted
    replace("database", CheckResult("down", 1.0, {"error": "OperationalError"}))
    client.get(HEALTH)
    assert kpi_samples() == [{metrics.field("h", "all", "n"): 1, metrics.field("h", "all", "ok"): 0}]


def test_a_hung_check_times_out_and_the_answer_stays_bounded(staff_client, counted, hung, settings):
    _, replace = counted
    settings.HEALTH_CHECK_TIMEOUT_SECONDS = 0.3
    replace("cache", effect=hung)

    started = time.monotonic()
    response = staff_client.get(HEALTH)
    elapsed = time.monotonic() - started

    assert elapsed < 0.3 + 1.0
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["cache"]["status"] == "degraded"
    assert body["checks"]["cache"]["detail"] == {"error": "timeout after 0.3s"}
    assert body["checks"]["database"]["status"] == "ok"


def test_a_check_still_hanging_is_not_started_twice(counted, hung, settings):
    calls, replace = counted
    settings.HEALTH_CHECK_TIMEOUT_SECONDS = 0.1
    replace("pool", effect=hung)
    first = health.run_checks()
    second = health.run_checks()
    assert first["checks"]["pool"]["detail"] == second["checks"]["pool"]["detail"] == {"error": "timeout after 0.1s"}
    assert calls["pool"] == 1


@pytest.mark.postgres
def test_a_hung_database_check_is_down(client, counted, hung, settings):
    # On PostgreSQL the database check runs in the pool (in-memory SQLite runs it inline).
    _, replace = counted
    settings.HEALTH_CHECK_TIMEOUT_SECONDS = 0.3
    replace("database", effect=hung)
    started = time.monotonic()
    response = client.get(HEALTH)
    assert time.monotonic() - started < 0.3 + 1.0
    assert response.status_code == 503
    assert response.json()["status"] == "down"


def test_a_crashing_check_is_reported_not_raised(staff_client, counted):
    _, replace = counted

    def crash():
        raise RuntimeError("bug")

    replace("pool", effect=crash)
    response = staff_client.get(HEALTH)
    assert response.status_code == 200
    assert response.json()["checks"]["pool"] == {
        "status": "degraded",
        "latency_ms": 0.0,
        "detail": {"error": "RuntimeError"},
    }


def test_only_the_database_can_take_the_platform_down(client, counted):
    _, replace = counted
    replace("cache", CheckResult("down", 1.0, {"error": "ConnectionError"}))
    response = client.get(HEALTH)
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"


def test_unapplied_migrations_degrade_and_are_listed_to_staff(client, staff_user, monkeypatch):
    pending = [f"projects.{n:04d}_change" for n in range(1, 13)]
    monkeypatch.setattr(health, "_unapplied_migrations", lambda: pending)

    public = client.get(HEALTH)
    assert public.status_code == 200
    assert public.json() == {"status": "degraded", "checked_at": public.json()["checked_at"]}

    health.reset_cache()
    client.force_login(staff_user)
    migrations = client.get(HEALTH).json()["checks"]["migrations"]
    assert migrations["status"] == "degraded"
    assert migrations["detail"] == {"unapplied": 12, "migrations": pending[:10]}


def test_the_migration_answer_is_kept_for_a_minute(monkeypatch, settings):
    calls = []
    monkeypatch.setattr(health, "_unapplied_migrations", lambda: calls.append(1) or [])
    settings.HEALTH_CACHE_SECONDS = 0
    health.report()
    health.report()
    assert len(calls) == 1


@pytest.fixture
def breaker():
    from mvpvalidator import cache as app_cache

    app_cache.breaker.reset()
    yield app_cache.breaker
    app_cache.breaker.reset()


def test_a_breaker_change_ends_the_window_early(staff_client, breaker, monkeypatch, settings):
    monkeypatch.setattr(breaker, "reset_after_seconds", 60)
    assert staff_client.get(HEALTH).json()["status"] == "ok"
    for _ in range(3):
        breaker.record_failure(OSError("down"))

    body = staff_client.get(HEALTH).json()
    assert body["cached"] is False
    assert body["checks"]["cache"]["detail"]["breaker"] == "open"
    # Only a shared cache goes through the breaker; the local memory keeps answering.
    assert body["status"] == ("degraded" if settings.ENABLE_REDIS_CACHE else "ok")
    assert staff_client.get(HEALTH).json()["cached"] is True

    breaker.reset()
    body = staff_client.get(HEALTH).json()
    assert (body["cached"], body["status"]) == (False, "ok")


def test_a_probe_that_closes_the_breaker_during_the_round_is_not_hidden_by_the_window(
    staff_client, breaker, monkeypatch
):
    """Another thread holds the half-open probe while the cache check runs: the check reports
    the circuit open, the probe then succeeds. The next call must check again, not serve that
    `degraded` for the whole window (it did, after a Redis restart under load)."""
    with background.quiet():  # no flush of the background thread settles the breaker meanwhile
        _probe_closes_the_breaker_during_the_round(staff_client, breaker, monkeypatch)


def _probe_closes_the_breaker_during_the_round(staff_client, breaker, monkeypatch) -> None:
    monkeypatch.setattr(breaker, "reset_after_seconds", 0.0)
    for _ in range(3):
        breaker.record_failure(OSError("down"))
    assert breaker.state == "half_open"
    assert breaker.allow()  # the other thread's probe is in flight

    def through_the_breaker() -> CheckResult:
        """The cache check's round trip as app_cache.call makes it on Redis (the embedded
        default's local memory has no breaker)."""
        if not breaker.allow():
            return CheckResult("degraded", 0.1, {"error": "circuit open"})
        breaker.record_success()
        return CheckResult("ok", 0.1)

    def check_while_the_probe_succeeds() -> CheckResult:
        result = through_the_breaker()
        breaker.record_success()  # the other thread's probe comes back
        return result

    monkeypatch.setattr(health, "check_cache", check_while_the_probe_succeeds)
    assert staff_client.get(HEALTH).json()["status"] == "degraded"
    monkeypatch.setattr(health, "check_cache", through_the_breaker)

    body = staff_client.get(HEALTH).json()
    assert (body["cached"], body["status"]) == (False, "ok")
    assert staff_client.get(HEALTH).json()["cached"] is True


def test_two_processes_probing_the_cache_at_once_both_read_their_own_answer(monkeypatch):
    """Another process's probe lands between this probe's write and its read (as two gunicorn
    workers answering health checks at once do): neither takes the other's value for a fault."""
    from mvpvalidator import cache as app_cache

    real_call = app_cache.call
    interleaved: list[str] = []
    other_started = False

    def another_probe_between_set_and_get(operation, *args, **kwargs):
        nonlocal other_started
        result = real_call(operation, *args, **kwargs)
        if operation.__name__ == "set" and not other_started:
            other_started = True
            interleaved.append(health.check_cache().status)  # the other process, start to end
        return result

    monkeypatch.setattr(app_cache, "call", another_probe_between_set_and_get)
    assert health.check_cache().status == "ok"
    assert interleaved == ["ok"]
