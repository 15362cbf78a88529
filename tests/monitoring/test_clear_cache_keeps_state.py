""" "Clear all cache" (the staff API behind the dashboard's action) deletes cache entries only: the
event buffer, the block list and the lockout counters are state, and outlive it on real Redis,
whether the events wait on the cache's server or on a server of their own (EVENTS_REDIS_URL)."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.core.management import call_command
from django.test import Client

from bench.servers import RedisServer
from mvpvalidator import cache as app_cache
from projects.events import buffer
from projects.models import DailyRollup
from projects.services.pages import landing_page_create, landing_page_publish
from projects.services.prototypes import prototype_generate
from security import blocklist, services
from tests.factories import ProjectFactory, UserFactory
from tests.services import require

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


@pytest.fixture(params=["cache's server", "own server"])
def events_server(request, settings, tmp_path: Path) -> Iterator[redis.Redis]:
    """The client of the server the event buffer is on."""
    if request.param == "cache's server":
        yield app_cache.redis_client()
        return
    require(None if shutil.which("redis-server") else "redis-server is not installed (apt-get install redis-server)")
    server = RedisServer(tmp_path, persistent=True)
    server.start()
    try:
        settings.EVENTS_REDIS_URL = server.url
        yield redis.Redis.from_url(server.url)
    finally:
        server.stop()


@pytest.fixture
def live_page():
    project = ProjectFactory()
    prototype_generate(project=project)
    return landing_page_publish(page=landing_page_create(project=project, slug="kept", qualifying_question="Why?"))


def test_clear_all_keeps_the_event_buffer_the_block_list_and_the_lockouts(
    events_server, settings, commit, staff_api_client, live_page
):
    settings.MAX_LOGIN_ATTEMPTS = 2
    blocked, guesser = "203.0.113.90", "203.0.113.91"
    with commit():
        services.ip_block(ip=blocked, rule="manual", reason="abuse")
    victim = UserFactory()
    guessing = Client(REMOTE_ADDR=guesser)
    for _ in range(2):
        wrong = {"email": victim.email, "password": "wrong-guess-1"}
        assert guessing.post("/api/auth/token", wrong, content_type="application/json").status_code == 401
    for i in range(2):
        assert Client(REMOTE_ADDR=f"198.51.100.{i + 1}").get(f"/p/{live_page.slug}/").status_code == 200
    buffer.flush_outbox()  # waiting in the buffer, not read by the worker yet
    app_cache.get_or_set(app_cache.QUERY, ("filler",), lambda: 1)  # a cache entry the clear must delete
    state_before = sorted(app_cache.redis_client().scan_iter(app_cache.state_key("*")))

    cleared = staff_api_client.post("/api/monitoring/clear-cache", {"all": True}, format="json")
    assert cleared.status_code == 200 and cleared.json()["cleared"] == "all"
    assert cleared.json()["deleted_keys"] >= 1

    # The buffer as it was: both views, on the server they were sent to.
    assert events_server.xlen(buffer.stream_key(live_page.pk)) == 2
    # The security state's keys all kept.
    assert sorted(app_cache.redis_client().scan_iter(app_cache.state_key("*"))) == state_before
    # And as seen from outside: another process's block-list mirror reloaded from Redis...
    blocklist.reset()
    blocklist.sync()
    assert Client(REMOTE_ADDR=blocked).get("/api/monitoring/live").status_code == 403
    # ...the guesser still locked out (a third wrong guess over a limit of two)...
    wrong = {"email": victim.email, "password": "wrong-guess-1"}
    assert guessing.post("/api/auth/token", wrong, content_type="application/json").status_code == 429
    # ...and the views counted once the worker runs.
    call_command("flush_events")
    assert DailyRollup.objects.get(page=live_page).views == 2
