"""The event buffer's Redis stops during a burst of page views (a test-owned redis-server on its
own port, with an append-only file as production runs it): every view is answered, views
during the outage go straight to the database, the buffer comes back with Redis, and after
`flush_events` the views counted equal the views served, none twice."""

import sqlite3
import threading
import time

import httpx
import pytest

from projects.demo import DEMO_PAGE_PATH
from tests.faults.conftest import Platform, RedisServer, manage

# It starts its own redis-server and gunicorn and stops the one on purpose, like the other fault tests.
pytestmark = pytest.mark.faults

BURST_THREADS = 4
BEFORE_SECONDS = 2.0
OUTAGE_SECONDS = 3.0
AFTER_SECONDS = 7.0  # the breaker lets Redis back in within its 5 s reset time
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


@pytest.fixture
def redis_persistent() -> bool:
    return True


@pytest.fixture
def platform_settings() -> dict[str, str]:
    # One address sends the whole burst: the per-address page limit is not what is tested here.
    return {"ENABLE_RATE_LIMITING": "false"}


def test_views_during_a_redis_stop_are_all_counted_once(platform: Platform, redis_server: RedisServer):
    served: list[int] = []
    failed: list[str] = []
    stop = threading.Event()
    lock = threading.Lock()

    def burst() -> None:
        # A new browser each time (no cookie): every view is a new visitor.
        with httpx.Client(base_url=platform.base_url, timeout=10, headers={"User-Agent": BROWSER}) as client:
            while not stop.is_set():
                client.cookies.clear()
                try:
                    response = client.get(DEMO_PAGE_PATH)
                except httpx.HTTPError as exc:
                    failed.append(repr(exc))
                    continue
                with lock:
                    (served if response.status_code == 200 else failed).append(response.status_code)

    # The demo data's own history (seed_demo): what the burst adds is counted against it.
    with sqlite3.connect(platform.database) as db:
        history_all, history_human = db.execute(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE traffic = 'human') FROM projects_event WHERE kind = 'view'"
        ).fetchone()
        history_rolled = db.execute(
            "SELECT COALESCE(SUM(views), 0) FROM projects_dailyrollup WHERE traffic = 'human'"
        ).fetchone()[0]
    threads = [threading.Thread(target=burst) for _ in range(BURST_THREADS)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(BEFORE_SECONDS)
        before = len(served)
        redis_server.stop()  # SIGTERM: Redis exits; its append-only file has every buffered entry
        time.sleep(OUTAGE_SECONDS)
        during = len(served) - before
        redis_server.start()
        time.sleep(AFTER_SECONDS)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert not failed, f"views not answered: {failed[:5]} ({len(failed)}); log:\n{platform.log_tail()}"
    assert before > 20 and during > 20, (before, during)  # the burst ran on both sides of the stop

    with sqlite3.connect(platform.database) as db:
        written_directly = db.execute("SELECT COUNT(*) FROM projects_event WHERE kind = 'view'").fetchone()[0]
    assert written_directly > history_all  # the outage's views went to the database

    manage(platform.env, "flush_events")
    with sqlite3.connect(platform.database) as db:
        views, distinct = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT key) FROM projects_event WHERE kind = 'view' AND traffic = 'human'"
        ).fetchone()
        rolled = db.execute(
            "SELECT COALESCE(SUM(views), 0) FROM projects_dailyrollup WHERE traffic = 'human'"
        ).fetchone()[0]
        waiting = db.execute(
            "SELECT COUNT(*) FROM projects_event e"
            " LEFT JOIN projects_eventworkerstate s ON s.shard = e.shard"
            " WHERE e.seq > COALESCE(s.rolled_up_to, 0)"
        ).fetchone()[0]
    views, distinct, rolled = views - history_human, distinct - history_human, rolled - history_rolled
    assert views == distinct == len(served), (views, distinct, len(served))
    assert rolled == len(served) and waiting == 0
