import pytest

pytestmark = pytest.mark.django_db


def test_health_is_ok_for_the_public_with_status_only(client):
    response = client.get("/api/monitoring/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert "checks" not in body


def test_health_shows_checks_to_staff(client, staff_user, settings):
    client.force_login(staff_user)
    body = client.get("/api/monitoring/health").json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["cache"]["status"] == "ok"
    expected = "redis" if settings.ENABLE_REDIS_CACHE else "local-memory"
    assert body["checks"]["cache"]["detail"]["backend"] == expected


def test_live_answers_without_touching_services(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/api/monitoring/live")
    assert response.json() == {"status": "ok"}


def test_health_is_503_when_the_database_is_down(client, monkeypatch):
    from django.db import OperationalError, connection

    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/api/monitoring/health")
    assert response.status_code == 503
    assert response.json()["status"] == "down"
