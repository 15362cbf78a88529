"""The event buffer on a Redis server of its own (EVENTS_REDIS_URL), and the health check that
warns when that server may drop what waits in it (an evicting policy, nothing kept on disk).

Each test starts a private redis-server on a free loopback port with the configuration it is
about; the shared Redis (REDIS_URL) is only read, to show it holds none of the events."""

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.core.management import call_command

from bench.servers import free_port, kill_group
from monitoring import health
from mvpvalidator.cache import redis_client
from projects.events import buffer
from projects.models import DailyRollup
from tests.services import require

HEALTH = "/api/monitoring/health"
NO_DISK = ("--save", "", "--appendonly", "no")


@pytest.fixture
def events_redis(tmp_path: Path) -> Iterator:
    """`events_redis(*args)`: a redis-server started with these arguments; its URL."""
    require(None if shutil.which("redis-server") else "redis-server is not installed (apt-get install redis-server)")
    started: list[subprocess.Popen] = []

    def start(*args: str) -> str:
        port = free_port()
        workdir = tmp_path / f"redis-{port}"
        workdir.mkdir()
        proc = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir), *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(proc)
        client = redis.Redis(port=port, socket_timeout=0.5)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server {args} did not start") from None
                time.sleep(0.05)
        return f"redis://127.0.0.1:{port}/0"

    yield start
    for proc in started:
        kill_group(proc)


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def _buffer_check(staff_client) -> dict:
    health.reset_cache()
    try:
        return staff_client.get(HEALTH).json()["checks"]["event_buffer"]
    finally:
        health.reset_cache()


@pytest.mark.redis
@pytest.mark.django_db
def test_views_wait_on_the_events_server_and_the_worker_rolls_them_up(settings, events_redis, client, live_page):
    settings.EVENTS_REDIS_URL = events_redis("--appendonly", "yes")
    events = redis.Redis.from_url(settings.EVENTS_REDIS_URL)
    for i in range(3):
        assert client.get(f"/p/{live_page.slug}/", REMOTE_ADDR=f"198.51.100.{i + 1}").status_code == 200
    buffer.flush_outbox()

    # On the events server, under the buffer's keys; the cache's server has none of them.
    assert events.xlen(buffer.stream_key(live_page.pk)) == 3
    assert events.smembers(buffer.active_pages_key()) == {str(live_page.pk).encode()}
    assert redis_client().exists(buffer.stream_key(live_page.pk), buffer.active_pages_key()) == 0
    assert not DailyRollup.objects.filter(page=live_page).exists()  # nothing written around the buffer

    call_command("flush_events")
    assert DailyRollup.objects.get(page=live_page).views == 3
    assert events.xlen(buffer.stream_key(live_page.pk)) == 0  # acknowledged and deleted


@pytest.mark.django_db
def test_a_dead_events_server_sends_views_to_the_database_and_leaves_the_cache_alone(settings, client, live_page):
    from mvpvalidator.cache.backend import breaker, events_breaker

    settings.EVENTS_REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    events_breaker.reset()
    try:
        for i in range(4):
            assert client.get(f"/p/{live_page.slug}/", REMOTE_ADDR=f"198.51.100.{i + 1}").status_code == 200
            buffer.flush_outbox()
        call_command("flush_events")
        assert DailyRollup.objects.get(page=live_page).views == 4
        # Its own breaker opened; the cache's did not (the cache's server is fine).
        assert events_breaker.state == "open"
        assert breaker.state == "closed"
    finally:
        events_breaker.reset()


@pytest.mark.django_db
def test_an_evicting_server_that_keeps_nothing_on_disk_is_warned_about(settings, events_redis, staff_client):
    settings.EVENTS_REDIS_URL = events_redis(*NO_DISK, "--maxmemory-policy", "allkeys-lru")
    check = _buffer_check(staff_client)
    assert check["status"] == "degraded"
    detail = check["detail"]
    assert (detail["server"], detail["maxmemory_policy"], detail["persistence"]) == ("own", "allkeys-lru", "none")
    assert [w.split(":")[0] for w in detail["warnings"]] == [
        "maxmemory-policy is allkeys-lru",
        "nothing kept on disk",
    ]


@pytest.mark.django_db
def test_a_non_evicting_server_without_a_disk_is_warned_about_but_not_degraded(settings, events_redis, staff_client):
    settings.EVENTS_REDIS_URL = events_redis(*NO_DISK)
    check = _buffer_check(staff_client)
    assert check["status"] == "ok"
    assert check["detail"]["maxmemory_policy"] == "noeviction"
    assert check["detail"]["warnings"] == [
        "nothing kept on disk: a restart of Redis loses the views not stored yet (appendonly yes)"
    ]


@pytest.mark.django_db
def test_a_non_evicting_server_with_an_append_only_file_has_no_warning(settings, events_redis, staff_client):
    settings.EVENTS_REDIS_URL = events_redis("--save", "", "--appendonly", "yes", "--maxmemory-policy", "noeviction")
    check = _buffer_check(staff_client)
    assert check["status"] == "ok"
    assert check["detail"] == {"server": "own", "maxmemory_policy": "noeviction", "persistence": "append-only file"}


@pytest.mark.django_db
def test_a_server_that_refuses_config_says_unknown_not_an_error(settings, events_redis, staff_client):
    # A managed Redis: CONFIG renamed away. INFO still tells the policy, not the save points.
    settings.EVENTS_REDIS_URL = events_redis(*NO_DISK, "--rename-command", "CONFIG", "")
    check = _buffer_check(staff_client)
    assert check["status"] == "ok"
    assert check["detail"] == {"server": "own", "maxmemory_policy": "noeviction", "persistence": "unknown"}
    assert "error" not in check["detail"]


@pytest.mark.django_db
def test_without_redis_events_go_to_the_database_and_the_check_says_so(settings, staff_client):
    if settings.ENABLE_REDIS_CACHE:
        pytest.skip("the embedded default (no REDIS_URL) only")
    check = _buffer_check(staff_client)
    assert check == {**check, "status": "ok"}
    assert check["detail"] == {"buffer": "none: events are written straight to the database"}
