"""The registries the apps plug into: health checks and dashboard panels, in registration order
after the platform's own, replaced in place when registered again."""

import pytest

from monitoring import health, panels
from monitoring.health import CheckResult

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_registries(monkeypatch):
    """Each test registers into copies: the apps' registrations are back afterwards."""
    monkeypatch.setattr(health, "_registered", dict(health._registered))
    monkeypatch.setattr(panels, "_registered", dict(panels._registered))
    health.reset_cache()
    yield
    health.reset_cache()


def test_the_domain_checks_follow_the_platforms_own_in_the_report():
    assert list(health.run_checks()["checks"]) == [
        "database",
        "pool",
        "cache",
        "migrations",
        "jobs",
        "events",
        "event_buffer",
        "emails",
    ]


def test_a_registered_check_is_reported_last_and_replaced_in_place():
    health.register("queue", lambda: CheckResult("degraded", 1.0, {"waiting": 3}), uses_db=False)
    health.register("events", lambda: CheckResult("ok", 1.0, {"replaced": True}), uses_db=False)

    report = health.run_checks()

    assert list(report["checks"]) == [
        "database",
        "pool",
        "cache",
        "migrations",
        "jobs",
        "events",
        "event_buffer",
        "emails",
        "queue",
    ]
    assert report["checks"]["events"]["detail"] == {"replaced": True}
    assert report["checks"]["queue"]["status"] == "degraded" and report["status"] == "degraded"


def test_a_registered_check_cannot_replace_the_platforms_own():
    with pytest.raises(ValueError, match="database"):
        health.register("database", lambda: CheckResult("ok", 1.0), uses_db=True)


def test_a_registered_panel_is_built_under_its_name_and_drawn_in_order():
    panels.register("extra", "dashboard/panels/platform.html", lambda buckets: {"seen": bool(buckets.hours)})

    built = panels.build("1h")

    # Monitoring's own KPI panel first (its app is loaded before projects), then the projects'.
    assert [p["template"] for p in built["registered"]] == [
        "dashboard/panels/kpis.html",
        "dashboard/panels/platform.html",
        "dashboard/panels/platform.html",
    ]
    assert built["extra"] == {"seen": True} and built["registered"][2]["data"] is built["extra"]
    assert built["registered"][0]["data"] is built["kpis"]
    assert built["registered"][1]["data"] is built["platform"]
