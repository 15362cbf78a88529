"""The event buffer and the worker: entries round-trip, and the rollups (unique visitors,
bounces) are computed exactly whatever the batches and however many workers."""

import threading
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from projects.events import buffer, ingest, shards, worker
from projects.models import DailyRollup, Event, EventKind, EventWorkerState, Traffic
from tests.projects.events.helpers import event_write_queries
from tests.projects.experiments.helpers import BROWSER, make_running_experiment


def test_a_buffered_entry_round_trips_and_bad_ones_are_refused():
    event = buffer.TrackedEvent(
        id="e" * 32, page_id=7, kind="view", visitor_hash="a" * 64, traffic="human", channel="paid", experiment_id=3,
        variant="b", utm=("google", "cpc", "launch", "", ""), referrer_host="www.google.com", at=1700000000.5,
    )  # fmt: skip
    assert buffer.TrackedEvent.from_fields({k.encode(): v.encode() for k, v in event.fields().items()}) == event
    for bad in ({"kind": "purchase"}, {"traffic": "alien"}, {"visitor_hash": ""}, {"variant": "x" * 40}):
        with pytest.raises(ValueError):
            buffer.TrackedEvent(**{**event.__dict__, **bad}).check()


# --- The rollups -------------------------------------------------------------------------------


def _visit(client_factory, slug, i, *, ua=BROWSER):
    return client_factory(HTTP_USER_AGENT=ua, REMOTE_ADDR=f"10.9.{i // 250}.{i % 250 + 1}")


@pytest.mark.django_db
def test_unique_visitors_and_bounces_are_exact_across_batches(client_factory, live_page):
    slug = live_page.slug
    bouncer, returner, clicker = (_visit(client_factory, slug, i) for i in range(3))
    bouncer.get(f"/p/{slug}/")
    returner.get(f"/p/{slug}/")
    clicker.get(f"/p/{slug}/")
    call_command("flush_events", batch=1)  # one event per batch: every visit spans batches
    row = DailyRollup.objects.get(page=live_page, traffic=Traffic.HUMAN)
    assert (row.views, row.visitors, row.bounces) == (3, 3, 3)
    returner.get(f"/p/{slug}/")  # a second view the same day: no longer a bounce
    clicker.post(f"/p/{slug}/e", {"k": "cta_click"})
    clicker.post(f"/p/{slug}/e", {"k": "beacon"})  # the script ran: not an interaction
    call_command("flush_events", batch=2)
    row.refresh_from_db()
    assert (row.views, row.visitors, row.bounces, row.cta_clicks) == (4, 3, 1, 1)
    assert worker.backlog().unrolled == 0
    state = EventWorkerState.objects.get(shard=shards.shard_of(live_page.pk))
    assert state.events_rolled_up == Event.objects.count() == 6
    assert state.rolled_up_to == max(Event.objects.values_list("seq", flat=True))


@pytest.mark.django_db
def test_a_batch_delivered_twice_is_counted_once(client_factory, live_page):
    for i in range(5):
        _visit(client_factory, live_page.slug, i).get(f"/p/{live_page.slug}/")
    call_command("flush_events")
    rows = list(Event.objects.values_list("key", flat=True))
    # The same events again, as a restarted worker would be handed the entries it had stored
    # but not acknowledged before it died: the rows are single, the rollup unchanged.
    again = [Event(**{f.attname: getattr(e, f.attname) for f in Event._meta.concrete_fields if f.attname != "id"})
             for e in Event.objects.all()]  # fmt: skip
    Event.objects.bulk_create(again, ignore_conflicts=True)
    call_command("flush_events")
    assert sorted(Event.objects.values_list("key", flat=True)) == sorted(rows)
    assert DailyRollup.objects.get(page=live_page).views == 5


# Committed data: on PostgreSQL the health checks run in threads, on their own connections.
@pytest.mark.django_db(transaction=True)
def test_health_reports_a_worker_that_falls_behind(client, staff_user, live_page, settings):
    settings.HEALTH_CACHE_SECONDS = 0
    client.get(f"/p/{live_page.slug}/", HTTP_USER_AGENT=BROWSER)
    client.force_login(staff_user)  # the checks' details are for staff
    Event.objects.update(occurred_at=timezone.now() - timedelta(seconds=settings.EVENT_BACKLOG_WARN_SECONDS + 60))
    if settings.ENABLE_REDIS_CACHE:
        call_command("flush_events", max_batches=0)
        ingest.ingest(consumer="health-test")  # stored, not rolled up: the age is the row's
        Event.objects.update(occurred_at=timezone.now() - timedelta(seconds=settings.EVENT_BACKLOG_WARN_SECONDS + 60))
    body = client.get("/api/monitoring/health").json()
    events = body["checks"]["events"]
    assert events["status"] == "degraded" and events["detail"]["not_rolled_up"] == 1
    assert body["status"] == "degraded"
    call_command("flush_events")
    body = client.get("/api/monitoring/health").json()
    assert body["checks"]["events"]["status"] == "ok" and body["checks"]["events"]["detail"]["not_rolled_up"] == 0


@pytest.mark.django_db
def test_prune_drops_old_raw_events_and_keeps_the_rollups(client_factory, live_page, settings):
    for i in range(3):
        _visit(client_factory, live_page.slug, i).get(f"/p/{live_page.slug}/")
    call_command("flush_events")
    Event.objects.update(occurred_at=timezone.now() - timedelta(days=settings.EVENT_RETENTION_DAYS + 1))
    assert worker.prune() == 3
    assert Event.objects.count() == 0 and DailyRollup.objects.get(page=live_page).views == 3


# --- The hot path ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_landing_view_writes_no_row_with_redis_and_one_without(
    auth_api_client, project, client_factory, django_assert_num_queries, settings
):
    page, _ = make_running_experiment(auth_api_client, project)
    visitor = _visit(client_factory, page.slug, 1)
    visitor.get(f"/p/{page.slug}/")  # warm: the page, its experiment and this variant's render cached
    # The event: buffered in Redis (no query), or a row (`event_write_queries`: one more query than
    # before the events were written once, the shard's sequence number, for no UPDATE later).
    with django_assert_num_queries(event_write_queries()):
        assert visitor.get(f"/p/{page.slug}/").status_code == 200
    call_command("flush_events")
    assert Event.objects.filter(kind=EventKind.VIEW).count() == 2


# --- Several workers ---------------------------------------------------------------------------


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_workers_running_at_once_count_every_event_once(auth_api_client, project, client_factory):
    page, experiment = make_running_experiment(auth_api_client, project)
    served = 0
    for i in range(300):
        visitor = _visit(client_factory, page.slug, i)
        for _ in range(1 + i % 3):
            assert visitor.get(f"/p/{page.slug}/").status_code == 200
            served += 1
        visitor.post(f"/p/{page.slug}/e", {"k": "beacon"})
    assert ingest.buffered() == served + 300
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            for _ in range(200):
                result = worker.flush(consumer=name, batch=37)  # small batches: many claims each
                idle = not result.ingested and not result.rolled_up and not ingest.buffered()
                if idle and not worker.backlog().unrolled:
                    return
                time.sleep(0.001)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not errors, errors
    assert Event.objects.filter(kind=EventKind.VIEW).count() == served
    rows = DailyRollup.objects.filter(page=page, traffic=Traffic.HUMAN)
    assert sum(r.views for r in rows) == served
    assert sum(r.visitors for r in rows) == 300
    assert experiment.exposures.filter(confirmed=True).count() == 300
    assert sum(v.people for v in experiment.variants.all()) == 300  # the counts the worker keeps


# --- Hostile input -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_control_characters_in_a_url_never_reach_the_database(client_factory, live_page):
    visitor = _visit(client_factory, live_page.slug, 1)
    assert visitor.get(f"/p/{live_page.slug}/?utm_source=ads%00x&utm_term=%01%7f").status_code == 200
    call_command("flush_events")
    event = Event.objects.get(kind=EventKind.VIEW)
    assert (event.utm_source, event.utm_term) == ("adsx", "")


@pytest.mark.redis
@pytest.mark.django_db
def test_a_poisoned_buffer_entry_is_dropped_and_the_queue_moves_on(client_factory, live_page):
    from mvpvalidator.cache import redis_client

    for i in range(3):
        _visit(client_factory, live_page.slug, i).get(f"/p/{live_page.slug}/")
    buffer.flush_outbox()
    good = buffer.TrackedEvent(id="f" * 32, page_id=live_page.pk, kind="view", visitor_hash="b" * 64, at=time.time())
    bad = {**good.fields(), "i": "g" * 32, "u": "x\x00y\x1f\x1f\x1f\x1f"}  # a NUL byte, as only a forged entry has
    redis_client().xadd(buffer.stream_key(live_page.pk), bad)
    redis_client().xadd(buffer.stream_key(live_page.pk), {**good.fields(), "k": "purchase"})  # unknown kind
    call_command("flush_events")
    assert Event.objects.count() == 3
    assert ingest.buffered() == 0  # acknowledged and deleted, not retried for ever


@pytest.mark.redis
@pytest.mark.django_db
def test_one_pass_reads_at_most_a_batch_whatever_the_number_of_pages(auth_api_client, project, client_factory):
    from projects.services.pages import landing_page_create, landing_page_publish
    from projects.services.prototypes import prototype_generate

    prototype_generate(project=project)
    pages = [landing_page_publish(page=landing_page_create(project=project, slug=f"p{n}"))
             for n in range(5)]  # fmt: skip
    for n, page in enumerate(pages):
        for i in range(40):
            _visit(client_factory, page.slug, n * 40 + i).get(f"/p/{page.slug}/")
    assert ingest.buffered() == 200
    assert ingest.ingest(consumer="one", batch=50) <= 50
    call_command("flush_events")
    assert Event.objects.count() == 200


@pytest.mark.django_db
def test_a_direct_write_that_meets_a_lock_waits_for_it_instead_of_losing_the_event(live_page, monkeypatch, caplog):
    # SQLite answers a write meeting another transaction's lock at once ("database table is
    # locked"); the direct write waits a little and tries again. Any other error loses the event.
    from django.db import OperationalError

    real = buffer.insert_events
    refusals = iter([OperationalError("database table is locked"), OperationalError("database is locked")])

    def insert(rows):
        error = next(refusals, None)
        if error is not None:
            raise error
        return real(rows)

    monkeypatch.setattr(buffer, "insert_events", insert)
    event = buffer.TrackedEvent(id="c" * 32, page_id=live_page.pk, kind="view", visitor_hash="a" * 64, at=1700000000.5)
    assert buffer.write_direct([event])
    assert Event.objects.filter(key="c" * 32).count() == 1
    assert "event lost" not in caplog.text

    monkeypatch.setattr(buffer, "insert_events", lambda rows: (_ for _ in ()).throw(OperationalError("disk I/O error")))
    assert not buffer.write_direct([buffer.TrackedEvent(**{**event.__dict__, "id": "d" * 32})])
    assert "event lost" in caplog.text
