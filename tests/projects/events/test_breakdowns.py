"""The device class of every tracked event, and the breakdown rollups (referrer, UTM fields,
device) the worker writes beside the daily rollups: traffic driven through the public page with
distinct user agents, referrers and tags, rolled up in batches of every size."""

import pytest
from django.core.management import call_command
from django.db.models import Sum

from projects.events import buffer
from projects.events.ingest import ingest
from projects.models import BreakdownRollup, DailyRollup, Event, Traffic
from tests.projects.events.test_analytics import browser, signup
from tests.projects.events.test_devices import (
    ANDROID_CHROME_PHONE,
    IPAD_SAFARI,
    IPHONE_SAFARI,
    MACOS_SAFARI,
    WINDOWS_CHROME,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]

BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def drive(slug: str = "chaser") -> None:
    """Five people and a bot, today:
    - an iPhone from a Meta ad (utm_source=meta, medium=paid_social, campaign=launch, content=red) signs up;
    - an Android phone from news.ycombinator.com views twice and clicks;
    - an iPad from a newsletter (utm_source=news, medium=email, campaign=launch, term=invoices) leaves;
    - a Windows desktop comes directly, leaves;
    - a Mac from Google search views, then comes back with a tagged link (its first view's values keep it)
      and clicks;
    - a Googlebot views the page (its device is "other")."""
    iphone = browser("visitor-iphone-0000001", ua=IPHONE_SAFARI)
    iphone.get(f"/p/{slug}/?utm_source=meta&utm_medium=paid_social&utm_campaign=launch&utm_content=red")
    signup(iphone, slug, "iphone@example.com")
    android = browser("visitor-android-000001", ua=ANDROID_CHROME_PHONE)
    android.get(f"/p/{slug}/", HTTP_REFERER="https://news.ycombinator.com/item?id=1")
    android.get(f"/p/{slug}/")
    assert android.post(f"/p/{slug}/e", {"k": "cta_click"}).status_code == 204
    ipad = browser("visitor-ipad-000000001", ua=IPAD_SAFARI)
    ipad.get(f"/p/{slug}/?utm_source=news&utm_medium=email&utm_campaign=launch&utm_term=invoices")
    browser("visitor-windows-000001", ua=WINDOWS_CHROME).get(f"/p/{slug}/")
    mac = browser("visitor-mac-0000000001", ua=MACOS_SAFARI)
    mac.get(f"/p/{slug}/", HTTP_REFERER="https://www.google.com/search?q=invoices")
    mac.get(f"/p/{slug}/?utm_source=later&utm_medium=cpc")
    assert mac.post(f"/p/{slug}/e", {"k": "cta_click"}).status_code == 204
    browser("a-crawler-000000000001", ua=BOT).get(f"/p/{slug}/")


def breakdown(dimension: str, traffic: str = Traffic.HUMAN) -> dict[str, tuple[int, ...]]:
    """value → (views, visitors, bounces, clicks, clicked people, signups, signed-up people)."""
    return {
        r.value: (r.views, r.visitors, r.bounces, r.cta_clicks, r.clicked_visitors, r.signups, r.signed_up_visitors)
        for r in BreakdownRollup.objects.filter(dimension=dimension, traffic=traffic)
    }


EXPECTED = {
    "device": {
        "phone": (3, 2, 0, 1, 1, 1, 1),
        "tablet": (1, 1, 1, 0, 0, 0, 0),
        "desktop": (3, 2, 1, 1, 1, 0, 0),
    },
    "referrer": {
        "": (3, 3, 2, 0, 0, 1, 1),
        "news.ycombinator.com": (2, 1, 0, 1, 1, 0, 0),
        "www.google.com": (2, 1, 0, 1, 1, 0, 0),
    },
    "utm_source": {
        "meta": (1, 1, 0, 0, 0, 1, 1),
        "news": (1, 1, 1, 0, 0, 0, 0),
        "": (5, 3, 1, 2, 2, 0, 0),  # the Mac's later tag does not move it
    },
    "utm_medium": {
        "paid_social": (1, 1, 0, 0, 0, 1, 1),
        "email": (1, 1, 1, 0, 0, 0, 0),
        "": (5, 3, 1, 2, 2, 0, 0),
    },
    "utm_campaign": {"launch": (2, 2, 1, 0, 0, 1, 1), "": (5, 3, 1, 2, 2, 0, 0)},
    "utm_content": {"red": (1, 1, 0, 0, 0, 1, 1), "": (6, 4, 2, 2, 2, 0, 0)},
    "utm_term": {"invoices": (1, 1, 1, 0, 0, 0, 0), "": (6, 4, 1, 2, 2, 1, 1)},
}


def test_every_event_keeps_its_visits_device_class(live_page):
    drive()
    call_command("flush_events")
    devices = dict(Event.objects.filter(kind="view").values_list("visitor_hash", "device").distinct())
    assert sorted(devices.values()) == ["desktop", "desktop", "other", "phone", "phone", "tablet"]
    bot = Event.objects.get(traffic=Traffic.BOT)
    assert bot.device == "other"
    # The events after the view (signup, clicks) carry it too.
    assert set(Event.objects.exclude(kind="view").values_list("device", flat=True)) == {"phone", "desktop"}


@pytest.mark.parametrize("batch", [1, 3, 1000])
def test_breakdowns_count_each_visitor_once_in_their_first_views_values(live_page, batch):
    drive()
    call_command("flush_events", batch=batch)
    for dimension, rows in EXPECTED.items():
        assert breakdown(dimension) == rows, dimension
    assert breakdown("device", Traffic.BOT) == {"other": (1, 1, 1, 0, 0, 0, 0)}


def test_each_dimension_adds_up_to_the_daily_rollups(live_page):
    drive()
    call_command("flush_events", batch=2)
    names = ("views", "visitors", "bounces", "cta_clicks", "signups", "clicked_visitors", "signed_up_visitors")
    daily = DailyRollup.objects.filter(traffic=Traffic.HUMAN).aggregate(**{n: Sum(n) for n in names})
    for dimension in EXPECTED:
        total = BreakdownRollup.objects.filter(dimension=dimension, traffic=Traffic.HUMAN).aggregate(
            **{n: Sum(n) for n in names}
        )
        assert total == daily, dimension


def test_events_rolled_up_again_are_counted_once(live_page):
    drive()
    call_command("flush_events")
    before = {d: breakdown(d) for d in EXPECTED}
    # The same rows delivered again (a worker died between its commit and its acknowledgement).
    again = [
        Event(**{f.attname: getattr(e, f.attname) for f in Event._meta.concrete_fields if f.attname != "id"})
        for e in Event.objects.all()
    ]
    Event.objects.bulk_create(again, ignore_conflicts=True)
    call_command("flush_events")
    assert {d: breakdown(d) for d in EXPECTED} == before


def test_a_buffered_entry_keeps_the_device_and_an_older_one_without_it_ingests_blank(live_page, settings):
    event = buffer.TrackedEvent(
        id="f" * 32, page_id=live_page.pk, kind="view", visitor_hash="a" * 64, device="tablet", at=1700000000.5
    )
    fields = {k.encode(): v.encode() for k, v in event.fields().items()}
    assert buffer.TrackedEvent.from_fields(fields) == event
    older = {k: v for k, v in fields.items() if k != b"d"}
    assert buffer.TrackedEvent.from_fields(older).device == ""
    with pytest.raises(ValueError):
        buffer.TrackedEvent(**{**event.__dict__, "device": "toaster"}).check()
    if not settings.ENABLE_REDIS_CACHE:
        # The database fallback keeps it as well.
        assert buffer.write_direct([event, buffer.TrackedEvent(**{**event.__dict__, "id": "e" * 32, "device": ""})])
        assert sorted(Event.objects.values_list("device", flat=True)) == ["", "tablet"]
        return
    from mvpvalidator.cache.backend import events_redis_client

    client = events_redis_client()
    client.sadd(buffer.active_pages_key(), live_page.pk)
    client.xadd(buffer.stream_key(live_page.pk), event.fields())
    client.xadd(buffer.stream_key(live_page.pk), {k.decode(): v.decode() for k, v in older.items()} | {"i": "e" * 32})
    ingest(consumer="test")
    assert sorted(Event.objects.values_list("device", flat=True)) == ["", "tablet"]


# --- The API's breakdowns, confirmed signups, cold and warm traffic -------------------------------


def api_rows(api, project, group_by: str) -> dict:
    response = api.get(f"/api/projects/{project.pk}/analytics", {"group_by": group_by})
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize("flushed", [False, True], ids=["live", "rolled-up"])
def test_the_api_groups_by_each_dimension(auth_api_client, project, live_page, flushed):
    drive()
    if flushed:
        call_command("flush_events")
    for dimension, expected in EXPECTED.items():
        body = api_rows(auth_api_client, project, dimension)
        got = {
            r[dimension]: (r["views"], r["visitors"], r["bounces"], r["cta_clicks"], r["signups"], r["confirmed"])
            for r in body["rows"]
        }
        want = {(v or "(none)"): (f[0], f[1], f[2], f[3], f[5], None) for v, f in expected.items()}
        assert got == want, dimension
        assert body["totals"]["visitors"] == 5 and body["totals"]["views"] == 7
        assert body["excluded"] == {"bot_views": 1, "founder_views": 0}
        assert body["live"]["events_not_rolled_up"] == (0 if flushed else 11)


def test_confirmed_signups_and_warm_and_cold_traffic(auth_api_client, project, live_page):
    from projects.models import Signup
    from projects.services.signups import signup_confirm

    drive()  # the iPhone's signup came by a paid ad (cold)
    newsletter = browser("visitor-newsletter-01", ua=WINDOWS_CHROME)
    newsletter.get("/p/chaser/?utm_source=list&utm_medium=email")  # warm: the founder's own list
    signup(newsletter, "chaser", "list@example.com")
    call_command("flush_events")
    body = api_rows(auth_api_client, project, "channel")
    assert body["totals"]["signups"] == 2 and body["totals"]["confirmed"] == 0
    signup_confirm(signup=Signup.objects.get(email="list@example.com"))
    body = api_rows(auth_api_client, project, "channel")
    assert body["totals"]["confirmed"] == 1
    confirmed = {r["channel"]: r["confirmed"] for r in body["rows"]}
    assert confirmed["email"] == 1 and sum(confirmed.values()) == 1
    # Warm: the two from email (the iPad's newsletter, the founder's list); cold: the ad, the
    # search, Hacker News (social) and the direct visit.
    assert (body["traffic"]["warm"]["visitors"], body["traffic"]["warm"]["confirmed"]) == (2, 1)
    assert body["traffic"]["cold"]["visitors"] == 4 and body["traffic"]["cold"]["confirmed"] == 0
    assert body["traffic"]["cold"]["signups"] == 1
    day = api_rows(auth_api_client, project, "day")
    assert [r["confirmed"] for r in day["rows"]] == [1]
