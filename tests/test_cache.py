"""The cache module: generations, stampede protection, counters, the breaker, rate limits."""

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings

from mvpvalidator import cache as app_cache
from mvpvalidator.cache import ratelimit, stats
from mvpvalidator.cache.operators import clear_all, clear_family, count_pattern

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _fresh_cache_state():
    stats.reset()
    app_cache.breaker.reset()
    app_cache.local_tier.clear()
    yield
    app_cache.breaker.reset()


@pytest.fixture
def no_flusher():
    """The background flusher's own Redis calls go through the same breaker: one in flight while
    a test stages the breaker's state would open or close it under the test (seen under load).
    Held off for the test, after the tick in progress has finished."""
    from mvpvalidator import background

    with background.quiet():
        app_cache.breaker.reset()  # whatever the last tick recorded
        yield


class Counter:
    def __init__(self, value="v"):
        self.calls = 0
        self.value = value
        self.lock = threading.Lock()

    def __call__(self):
        with self.lock:
            self.calls += 1
        return f"{self.value}{self.calls}"


def test_get_or_set_computes_once_then_serves_the_cached_value():
    compute = Counter()
    first = app_cache.get_or_set(app_cache.QUERY, ("a",), compute)
    second = app_cache.get_or_set(app_cache.QUERY, ("a",), compute)
    assert first == second == "v1"
    assert compute.calls == 1


def test_bumping_a_namespace_hides_every_key_derived_from_it():
    computes = {name: Counter(name) for name in ("detail", "summary", "other")}
    spaces = {"detail": ["user:1", "project:7"], "summary": ["project:7"], "other": ["project:8"]}
    for name, compute in computes.items():
        app_cache.get_or_set(app_cache.PROJECT, (name,), compute, namespaces=spaces[name])

    app_cache.bump("project:7")
    values = {
        name: app_cache.get_or_set(app_cache.PROJECT, (name,), compute, namespaces=spaces[name])
        for name, compute in computes.items()
    }
    assert values == {"detail": "detail2", "summary": "summary2", "other": "other1"}


def test_bumping_a_parent_namespace_hides_its_children():
    compute = Counter()
    app_cache.get_or_set(app_cache.PROJECT, ("x",), compute, namespaces=["user:1", "project:7"])
    app_cache.bump("user:1")
    assert app_cache.get_or_set(app_cache.PROJECT, ("x",), compute, namespaces=["user:1", "project:7"]) == "v2"


def test_read_together_reads_each_generation_once_and_sees_its_own_bumps_even_nested():
    compute = Counter()
    reads: list[list[str]] = []
    real = app_cache._read_generations

    def counted(keys):
        reads.append(list(keys))
        return real(keys)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(app_cache, "_read_generations", counted)
        with app_cache.read_together(["project:7"]):
            assert app_cache.get_or_set(app_cache.PROJECT, ("x",), compute, namespaces=["user:1"]) == "v1"
            with app_cache.read_together(["project:8"]):  # joins the outer block
                assert app_cache.get_or_set(app_cache.PROJECT, ("x",), compute, namespaces=["user:1"]) == "v1"
                app_cache.bump("user:1")
            # The bump inside the inner block is seen by the outer one.
            assert app_cache.get_or_set(app_cache.PROJECT, ("x",), compute, namespaces=["user:1"]) == "v2"
    assert reads[0] == ["gen:family:project", "gen:user:1", "gen:project:7"]
    # After the bump, one read: the bumped namespace with the one the inner block announced.
    assert reads[1:] == [["gen:user:1", "gen:project:8"]], reads


def _shared_generation(name: str) -> int:
    """What another process reads for `name` (its own read is this MGET's)."""
    return int(cache.get(app_cache.GENERATION_PREFIX + name))


@pytest.mark.redis
def test_bump_soon_is_seen_here_at_once_and_by_other_processes_once_sent(no_flusher):
    compute = Counter()
    assert app_cache.get_or_set(app_cache.PROJECT, ("x",), compute, namespaces=["project:5"]) == "v1"
    shared = _shared_generation("project:5")
    app_cache.bump_soon("project:5")
    # This process: a provisional generation, so its own write shows at once.
    assert app_cache.get_or_set(app_cache.PROJECT, ("x",), compute, namespaces=["project:5"]) == "v2"
    assert app_cache.get_or_set(app_cache.PROJECT, ("x",), compute, namespaces=["project:5"]) == "v2"
    assert _shared_generation("project:5") == shared  # not sent yet: no round trip on the write
    app_cache._send_soon()
    assert _shared_generation("project:5") == shared + 1
    # Sent: the shared generation again, under which nothing was cached from before the write.
    assert app_cache.generations(["project:5"]) == [shared + 1]
    assert app_cache.get_or_set(app_cache.PROJECT, ("x",), compute, namespaces=["project:5"]) == "v3"
    app_cache._send_soon()  # nothing queued: nothing sent
    assert _shared_generation("project:5") == shared + 1


@pytest.mark.redis
def test_every_bump_soon_hides_what_was_cached_after_the_one_before(no_flusher):
    compute = Counter()
    app_cache.bump_soon("project:5")
    assert app_cache.get_or_set(app_cache.PROJECT, ("x",), compute, namespaces=["project:5"]) == "v1"
    app_cache.bump_soon("project:5")  # a second write in the same tick
    assert app_cache.get_or_set(app_cache.PROJECT, ("x",), compute, namespaces=["project:5"]) == "v2"
    shared = _shared_generation("project:5")
    app_cache._send_soon()
    assert _shared_generation("project:5") == shared + 1  # one increment for the tick's two bumps


@pytest.mark.redis
def test_a_bump_soon_queued_while_the_tick_sends_waits_for_the_next_tick(no_flusher, monkeypatch):
    real = app_cache._bump_shared
    app_cache.generations(["project:5"])
    shared = _shared_generation("project:5")
    app_cache.bump_soon("project:5")

    def send_with_a_write_meanwhile(keys):
        app_cache.bump_soon("project:5")  # a write whose bump the round trip in flight does not carry
        real(keys)

    monkeypatch.setattr(app_cache, "_bump_shared", send_with_a_write_meanwhile)
    app_cache._send_soon()
    monkeypatch.setattr(app_cache, "_bump_shared", real)
    assert _shared_generation("project:5") == shared + 1
    # Still provisional here until that second bump is sent.
    assert app_cache.generations(["project:5"]) != [shared + 1]
    app_cache._send_soon()
    assert _shared_generation("project:5") == shared + 2
    assert app_cache.generations(["project:5"]) == [shared + 2]


@pytest.mark.redis
def test_a_plain_bump_after_a_queued_one_stands_for_both(no_flusher):
    compute = Counter()
    app_cache.bump_soon("project:5")
    assert app_cache.get_or_set(app_cache.PROJECT, ("x",), compute, namespaces=["project:5"]) == "v1"
    shared = _shared_generation("project:5")
    app_cache.bump("project:5")
    assert _shared_generation("project:5") == shared + 1
    assert app_cache.get_or_set(app_cache.PROJECT, ("x",), compute, namespaces=["project:5"]) == "v2"
    app_cache._send_soon()
    assert _shared_generation("project:5") == shared + 1  # nothing left to send


@pytest.mark.redis
def test_a_plain_bump_during_a_tick_leaves_a_later_bump_soon_queued(no_flusher, monkeypatch):
    real = app_cache._bump_shared
    app_cache.generations(["project:5"])
    shared = _shared_generation("project:5")
    app_cache.bump_soon("project:5")  # a first signup

    def tick_with_writes_meanwhile(keys):
        monkeypatch.setattr(app_cache, "_bump_shared", real)
        real(keys)  # the tick's increment, for the first signup
        app_cache.bump("project:5")  # the owner edits the project: it stands for that signup
        app_cache.bump_soon("project:5")  # then another signup, after both increments

    monkeypatch.setattr(app_cache, "_bump_shared", tick_with_writes_meanwhile)
    app_cache._send_soon()
    assert _shared_generation("project:5") == shared + 2
    assert app_cache.generations(["project:5"]) != [shared + 2]  # the second signup: still queued
    app_cache._send_soon()
    assert _shared_generation("project:5") == shared + 3


@pytest.mark.redis
def test_a_queued_bump_that_cannot_be_sent_stays_queued_until_redis_answers(no_flusher, monkeypatch):
    app_cache.generations(["project:5"])
    shared = _shared_generation("project:5")
    app_cache.bump_soon("project:5")
    (provisional,) = app_cache.generations(["project:5"])
    for _ in range(3):
        app_cache.breaker.record_failure(OSError("down"))
    app_cache._send_soon()  # the breaker is open: nothing sent, nothing forgotten
    assert _shared_generation("project:5") == shared
    monkeypatch.setattr(app_cache.breaker, "reset_after_seconds", 0)
    assert app_cache.generations(["project:5"]) == [provisional]  # still this process's own
    app_cache._send_soon()  # the next tick, Redis answering
    assert _shared_generation("project:5") == shared + 1
    assert app_cache.generations(["project:5"]) == [shared + 1]


@pytest.mark.redis
def test_a_forked_worker_starts_with_no_queued_bump(no_flusher):
    from mvpvalidator import background

    app_cache.bump_soon("project:5")
    (task,) = [t for t in background.tasks() if t.name == "cache.bump_soon"]
    task.forked()  # what the child of a preloaded parent runs first
    assert app_cache._queued_entries() == {}


@override_settings(
    CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "bump-soon"}},
    ENABLE_REDIS_CACHE=False,
)
def test_bump_soon_without_redis_is_a_bump():
    compute = Counter()
    app_cache.get_or_set(app_cache.PROJECT, ("x",), compute, namespaces=["project:5"])
    (before,) = app_cache.generations(["project:5"])
    app_cache.bump_soon("project:5")
    assert app_cache.generations(["project:5"]) == [before + 1]
    assert app_cache.get_or_set(app_cache.PROJECT, ("x",), compute, namespaces=["project:5"]) == "v2"


def test_bump_is_one_increment_without_any_scan(monkeypatch):
    calls = []
    for name in ("iter_keys", "delete_pattern", "keys"):
        if hasattr(cache, name):
            monkeypatch.setattr(cache, name, lambda *a, _n=name, **k: calls.append(_n))
    app_cache.generations(["project:1"])
    app_cache.bump("project:1")
    assert calls == []


def test_clearing_a_family_invalidates_only_that_family():
    project, page = Counter("p"), Counter("g")
    app_cache.get_or_set(app_cache.PROJECT, ("k",), project)
    app_cache.get_or_set(app_cache.PAGE, ("k",), page)
    clear_family("project")
    assert app_cache.get_or_set(app_cache.PROJECT, ("k",), project) == "p2"
    assert app_cache.get_or_set(app_cache.PAGE, ("k",), page) == "g1"


def test_a_lost_generation_comes_back_larger_so_old_keys_stay_unreachable():
    compute = Counter()
    app_cache.get_or_set(app_cache.PROJECT, ("x",), compute, namespaces=["project:9"])
    (before,) = app_cache.generations(["project:9"])
    cache.delete(app_cache.GENERATION_PREFIX + "project:9")  # evicted, or Redis restarted
    (after,) = app_cache.generations(["project:9"])
    assert after > before
    assert app_cache.get_or_set(app_cache.PROJECT, ("x",), compute, namespaces=["project:9"]) == "v2"


def test_stampede_many_threads_one_recomputation():
    calls = []

    def slow():
        calls.append(1)
        time.sleep(0.3)
        return "fresh"

    results: list[str] = []
    barrier = threading.Barrier(16)

    def reader():
        barrier.wait()
        results.append(app_cache.get_or_set(app_cache.QUERY, ("hot",), slow))

    threads = [threading.Thread(target=reader) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["fresh"] * 16
    assert len(calls) == 1


def test_an_expired_hot_key_is_refreshed_by_one_caller_while_others_get_the_stale_value(monkeypatch):
    app_cache.get_or_set(app_cache.QUERY, ("hot",), lambda: "old", ttl=1)
    app_cache.local_tier.clear()
    real_time = time.time
    monkeypatch.setattr(app_cache.time, "time", lambda: real_time() + 2)  # past the TTL, within grace
    started, release = threading.Event(), threading.Event()

    def slow_refresh():
        started.set()
        release.wait(5)
        return "new"

    refresher_result = []
    refresher = threading.Thread(
        target=lambda: refresher_result.append(app_cache.get_or_set(app_cache.QUERY, ("hot",), slow_refresh, ttl=1))
    )
    refresher.start()
    assert started.wait(5)
    # While one caller refreshes, another gets the stale value at once instead of waiting.
    assert app_cache.get_or_set(app_cache.QUERY, ("hot",), lambda: "should not run", ttl=1) == "old"
    release.set()
    refresher.join()
    assert refresher_result == ["new"]
    assert stats.snapshot()["families"]["query"]["stale"] == 1


def test_counters_and_hit_rate_per_family_and_overall():
    compute = Counter()
    for _ in range(3):
        app_cache.get_or_set(app_cache.QUERY, ("k",), compute)
    app_cache.get_or_set(app_cache.PAGE, ("k",), compute)
    snapshot = stats.snapshot()
    query = snapshot["families"]["query"]
    assert query["miss"] == 1 and query["set"] == 1
    assert query["hit"] + query["local_hit"] == 2
    assert query["hit_rate"] == pytest.approx(2 / 3, abs=1e-3)
    assert snapshot["overall"]["miss"] == 2
    assert snapshot["overall"]["hit_rate"] == pytest.approx(0.5)


def test_stats_say_whether_their_counts_are_shared_or_per_process():
    snapshot = stats.snapshot()
    if settings.ENABLE_REDIS_CACHE:
        assert snapshot["scope"] == "shared"
    else:
        assert snapshot["scope"] == "process"
        assert "this process only" in snapshot["note"]


_WORKER = """
import django, sys
django.setup()
from mvpvalidator import cache as c
for i in range(int(sys.argv[1])):
    c.get_or_set(c.QUERY, ("shared", i % 5), lambda: i)
c.stats.flush()
"""


@pytest.mark.redis
def test_hit_and_miss_counters_are_shared_across_processes():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "mvpvalidator.test_settings"}
    for runs in ("10", "10"):
        subprocess.run([sys.executable, "-c", _WORKER, runs], cwd=ROOT, env=env, check=True, timeout=60)
    query = stats.snapshot()["families"]["query"]
    # 5 distinct keys: the first process misses each once, every other lookup hits.
    assert query["miss"] == 5
    assert query["hit"] + query["local_hit"] == 15
    assert stats.snapshot()["scope"] == "shared"


# --- Redis going away --------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dead_redis():
    port = _closed_port()
    caches = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "KEY_PREFIX": "mvptest",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.25, "SOCKET_TIMEOUT": 0.25},
        }
    }
    with override_settings(CACHES=caches, ENABLE_REDIS_CACHE=True):
        yield port


def test_breaker_opens_after_failures_and_calls_stop_touching_the_socket(no_flusher, dead_redis, monkeypatch):
    from django_redis.client import DefaultClient

    attempts = []
    original_get_client = DefaultClient.get_client

    def counting_get_client(self, *args, **kwargs):
        attempts.append(1)
        return original_get_client(self, *args, **kwargs)

    monkeypatch.setattr(DefaultClient, "get_client", counting_get_client)
    compute = Counter()
    for _ in range(3):
        assert app_cache.get_or_set(app_cache.PROJECT, ("x",), compute).startswith("v")
    assert app_cache.breaker.state == "open"
    touched = len(attempts)
    started = time.perf_counter()
    for _ in range(50):
        app_cache.get_or_set(app_cache.PROJECT, ("x",), compute)
    assert len(attempts) == touched  # no socket while open
    assert time.perf_counter() - started < 0.25  # fifty reads cost less than one socket timeout
    assert compute.calls == 53  # every read answered from the source


def test_breaker_probes_again_after_the_pause(no_flusher, dead_redis, monkeypatch):
    monkeypatch.setattr(app_cache.breaker, "reset_after_seconds", 0.2)
    for _ in range(3):
        app_cache.get_or_set(app_cache.PROJECT, ("x",), Counter())
    assert app_cache.breaker.state == "open"
    time.sleep(0.25)
    assert app_cache.breaker.state == "half_open"
    app_cache.get_or_set(app_cache.PROJECT, ("x",), Counter())  # the probe fails: open again
    assert app_cache.breaker.state == "open"


@pytest.mark.django_db
def test_health_is_degraded_not_down_while_redis_is_away(no_flusher, dead_redis, client):
    for _ in range(3):
        app_cache.get_or_set(app_cache.PROJECT, ("x",), Counter())
    response = client.get("/api/monitoring/health")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"


@pytest.mark.redis
def test_a_bump_during_an_outage_is_replayed_when_the_cache_answers_again(no_flusher, monkeypatch):
    compute = Counter()
    app_cache.get_or_set(app_cache.PROJECT, ("x",), compute, namespaces=["project:3"])
    for _ in range(3):
        app_cache.breaker.record_failure(OSError("down"))
    assert app_cache.breaker.state == "open"
    app_cache.bump("project:3")  # cannot reach Redis: remembered, not lost
    monkeypatch.setattr(app_cache.breaker, "reset_after_seconds", 0)
    app_cache.generations(["anything"])  # the first successful call replays it
    assert app_cache.breaker.state == "closed"
    app_cache.local_tier.clear()
    assert app_cache.get_or_set(app_cache.PROJECT, ("x",), compute, namespaces=["project:3"]) == "v2"


# --- Rate-limit counters -----------------------------------------------------------------------


def test_fixed_window_allows_the_limit_then_refuses_with_retry_after():
    results = [ratelimit.fixed_window("ip:1", limit=3, window_seconds=60) for _ in range(4)]
    assert [r.allowed for r in results] == [True, True, True, False]
    assert [r.remaining for r in results] == [2, 1, 0, 0]
    assert 0 < results[-1].retry_after <= 60
    assert ratelimit.fixed_window("ip:2", limit=3, window_seconds=60).allowed  # per key


def test_gcra_allows_a_burst_then_one_per_interval():
    results = [ratelimit.gcra("login:a", limit=5, period_seconds=10) for _ in range(6)]
    assert [r.allowed for r in results] == [True] * 5 + [False]
    assert results[-1].retry_after == 2  # one request every 10/5 = 2 seconds
    ratelimit.reset("login:a")
    assert ratelimit.gcra("login:a", limit=5, period_seconds=10).allowed


@pytest.mark.parametrize("algorithm", ["fixed", "gcra"])
def test_rate_limits_are_atomic_under_concurrency(algorithm):
    allowed = []
    barrier = threading.Barrier(20)

    def hit():
        barrier.wait()
        if algorithm == "fixed":
            result = ratelimit.fixed_window("burst", limit=5, window_seconds=60)
        else:
            result = ratelimit.gcra("burst", limit=5, period_seconds=60)
        allowed.append(result.allowed)

    threads = [threading.Thread(target=hit) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert allowed.count(True) == 5


@pytest.mark.parametrize("fail_open", [True, False])
def test_rate_limit_policy_when_redis_is_away_is_explicit(dead_redis, fail_open):
    result = ratelimit.gcra("k", limit=1, period_seconds=60, fail_open=fail_open)
    assert result.backend == "unavailable"
    assert result.allowed is fail_open


# --- Operators ---------------------------------------------------------------------------------


def test_count_and_delete_by_pattern_and_clear_all_touch_only_this_prefix():
    for n in range(3):
        app_cache.get_or_set(app_cache.QUERY, (f"n{n}",), lambda: 1)
    assert count_pattern("query:*") == 3
    deleted = clear_all()
    assert deleted >= 3
    assert count_pattern("query:*") == 0


@pytest.mark.redis
def test_a_probe_that_raises_an_application_error_still_closes_the_breaker(no_flusher, monkeypatch):
    for _ in range(3):
        app_cache.breaker.record_failure(OSError("down"))
    monkeypatch.setattr(app_cache.breaker, "reset_after_seconds", 0)
    app_cache.bump("project:never-seen-before")  # the probe: INCR of a missing key raises ValueError
    assert app_cache.breaker.state == "closed"
    assert app_cache.breaker.allow()


# --- What "clear all" may not reach --------------------------------------------------------------


@pytest.mark.django_db
def test_clearing_the_whole_cache_keeps_blocks_lockouts_and_unflushed_events(commit, settings, staff_api_client):
    """Clear-all deletes cache families only: the block list, the lockout counters and the events
    still waiting for the worker are state, not cache, and outlive it (shown from outside: the
    blocked address, the locked account and the counted view)."""
    from django.core.management import call_command
    from django.test import Client

    from projects.events import buffer
    from projects.models import DailyRollup
    from projects.services.pages import landing_page_create, landing_page_publish
    from projects.services.prototypes import prototype_generate
    from security import blocklist, services
    from tests.factories import ProjectFactory, UserFactory

    project = ProjectFactory()
    prototype_generate(project=project)
    live_page = landing_page_publish(page=landing_page_create(project=project, slug="kept", qualifying_question="Why?"))
    settings.MAX_LOGIN_ATTEMPTS = 2
    settings.API_THROTTLES = {**settings.API_THROTTLES, "register": {"rate": "2/hour", "key": "ip"}}
    blocked, guesser, busy = "203.0.113.70", "203.0.113.71", "203.0.113.72"
    with commit():
        services.ip_block(ip=blocked, rule="manual", reason="abuse")
    victim = UserFactory()
    guessing = Client(REMOTE_ADDR=guesser)
    for _ in range(2):
        response = guessing.post(
            "/api/auth/token", {"email": victim.email, "password": "wrong-guess-1"}, content_type="application/json"
        )
        assert response.status_code == 401
    Client(REMOTE_ADDR="198.51.100.80").get(f"/p/{live_page.slug}/")
    buffer.flush_outbox()  # in the shared buffer (Redis), not yet read by the worker

    registering = Client(REMOTE_ADDR=busy)
    for _ in range(2):
        assert registering.post("/api/auth/register", {}, content_type="application/json").status_code == 400
    cleared = staff_api_client.post("/api/monitoring/clear-cache", {"all": True}, format="json")
    assert cleared.status_code == 200 and cleared.json()["cleared"] == "all"
    # Another process's view: its mirror reloaded from the shared list (this process would
    # still re-apply its own block of a few seconds ago over the reload).
    blocklist.reset()
    blocklist.sync()

    assert Client(REMOTE_ADDR=blocked).get("/api/monitoring/live").status_code == 403
    listed = staff_api_client.get("/api/monitoring/blocked-ips").json()
    assert blocked in str(listed)
    locked = guessing.post(
        "/api/auth/token", {"email": victim.email, "password": "wrong-guess-1"}, content_type="application/json"
    )
    call_command("flush_events")
    assert DailyRollup.objects.get(page=live_page).views == 1
    assert locked.status_code == 429
    # The registration limit's count outlives the clear too: the third attempt is over it.
    assert registering.post("/api/auth/register", {}, content_type="application/json").status_code == 429
