"""The `jobs` health check: in-process it is ok and says so; with a broker it reports whether
the broker answers, the default queue's depth and the oldest waiting job, and degrades when the
broker is away or a job has waited too long, within the check timeout."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from bench.servers import free_port
from jobs.models import Job
from monitoring import health

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_health():
    health.reset_cache()
    yield
    health.reset_cache()


def jobs_check(staff_api_client):
    return staff_api_client.get("/api/monitoring/health").json()["checks"]["jobs"]


def test_in_process_jobs_are_ok_and_say_so(staff_api_client):
    check = jobs_check(staff_api_client)
    assert check["status"] == "ok"
    assert check["detail"] == {
        "mode": "in-process",
        "queued": 0,
        "unsent": 0,
        "stuck_running": 0,
        "oldest_waiting_seconds": None,
    }


# Committed: on PostgreSQL the check reads on its own connection, from the health thread.
@pytest.mark.django_db(transaction=True)
def test_a_job_waiting_longer_than_the_setting_degrades(staff_api_client, settings):
    settings.JOBS_BACKLOG_WARN_SECONDS = 60
    job = Job.objects.create(kind="test.echo", task="tests.jobs.tasks.echo_job")
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(seconds=90))

    check = jobs_check(staff_api_client)

    assert check["status"] == "degraded"
    assert check["detail"]["queued"] == 1 and check["detail"]["unsent"] == 1
    assert 89 < check["detail"]["oldest_waiting_seconds"] < 120
    assert staff_api_client.get("/api/monitoring/health").json()["status"] == "degraded"


@pytest.mark.parametrize("scheme", ["amqp://guest:guest@", "redis://"])
def test_an_unreachable_broker_degrades_quickly(staff_api_client, settings, scheme):
    settings.CELERY_BROKER_URL = f"{scheme}127.0.0.1:{free_port()}/0"
    settings.JOBS_IN_PROCESS = False

    started = time.monotonic()
    check = jobs_check(staff_api_client)

    assert time.monotonic() - started < settings.HEALTH_CHECK_TIMEOUT_SECONDS + 0.5
    assert check["status"] == "degraded"
    assert check["detail"]["mode"] == "broker" and check["detail"]["broker_reachable"] is False
    assert "refused" in check["detail"]["error"].lower()


@pytest.mark.rabbitmq
def test_a_reachable_rabbitmq_reports_the_queue_depth(staff_api_client, settings, rabbitmq_vhost):
    from kombu import Connection

    settings.CELERY_BROKER_URL = rabbitmq_vhost
    settings.JOBS_IN_PROCESS = False
    # Two messages waiting in the default queue, as a worker-less deployment would leave them.
    with Connection(rabbitmq_vhost) as connection:
        queue = connection.SimpleQueue("celery")
        queue.put({"n": 1})
        queue.put({"n": 2})
        queue.close()

    check = jobs_check(staff_api_client)

    assert check["status"] == "ok"
    assert check["detail"]["broker_reachable"] is True and check["detail"]["transport"] == "amqp"
    assert check["detail"]["queue"] == "celery" and check["detail"]["queue_depth"] == 2


@pytest.mark.redis
def test_a_redis_broker_reports_the_queue_length(staff_api_client, settings):
    import redis

    # The test Redis stands in for a broker's own (the cache's keys are under their prefix).
    url = settings.REDIS_URL
    client = redis.Redis.from_url(url)
    client.delete("celery")
    client.lpush("celery", "a", "b", "c")
    settings.CELERY_BROKER_URL = url
    settings.JOBS_IN_PROCESS = False
    try:
        check = jobs_check(staff_api_client)
    finally:
        client.delete("celery")

    assert check["status"] == "ok"
    assert check["detail"]["transport"] == "redis" and check["detail"]["queue_depth"] == 3
