"""The founder's own visits, signed in, are recognised on the public page (not only through the
preview link) and kept apart in every figure (issue 22, item 8); an anonymous visitor's page view
costs no query more for it (the landing page is the hot path)."""

import time

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from projects.models import Event, EventKind, Traffic
from tests.factories import UserFactory
from tests.projects.conftest import signup_post_data
from tests.projects.events.helpers import event_write_queries
from tests.projects.experiments.helpers import BROWSER, make_running_experiment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]

HEADLESS = "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/131.0 Safari/537.36"  # a screenshot tool


def signed_in(user, *, ua: str = BROWSER) -> Client:
    client = Client(HTTP_USER_AGENT=ua)
    client.force_login(user)
    return client


def look_around(client: Client, slug: str, email: str) -> None:
    """What a founder does on their own page: views it, its script runs, clicks, signs up to try."""
    assert client.get(f"/p/{slug}/").status_code == 200
    client.post(f"/p/{slug}/e", {"k": "beacon"})
    client.post(f"/p/{slug}/e", {"k": "cta_click"})
    response = client.post(f"/p/{slug}/signup", signup_post_data(client, email=email))
    assert response.status_code == 302


def test_the_signed_in_owner_and_staff_are_founder_traffic_in_every_figure(
    user, staff_user, auth_api_client, project, live_page
):
    slug = live_page.slug
    look_around(signed_in(user), slug, "me@example.com")
    look_around(signed_in(staff_user), slug, "staff@example.com")
    signed_in(user, ua=HEADLESS).get(f"/p/{slug}/")  # the founder's screenshots: theirs, not a bot's
    look_around(signed_in(UserFactory()), slug, "other@example.com")  # another user is a visitor
    call_command("flush_events")

    traffic = list(Event.objects.filter(kind=EventKind.VIEW).values_list("traffic", flat=True).order_by("id"))
    assert traffic == [Traffic.FOUNDER, Traffic.FOUNDER, Traffic.FOUNDER, Traffic.HUMAN]
    assert set(Event.objects.filter(kind=EventKind.SIGNUP).values_list("traffic", flat=True)) == {
        Traffic.FOUNDER,
        Traffic.HUMAN,
    }
    funnel = auth_api_client.get(f"/api/projects/{project.pk}/analytics", {"group_by": "channel"}).json()
    assert funnel["excluded"] == {"bot_views": 0, "founder_views": 3}
    assert (funnel["totals"]["views"], funnel["totals"]["signups"], funnel["totals"]["cta_clicks"]) == (1, 1, 1)
    report = auth_api_client.get(f"/api/projects/{project.pk}/report").json()
    assert (report["inputs"]["visitors"], report["inputs"]["signups"]) == (1, 1)
    assert report["inputs"]["bot_share"] == 0  # the headless screenshots are the founder's, not bots


def test_a_session_cookie_that_signs_nobody_in_is_a_visitor(project, live_page):
    client = Client(HTTP_USER_AGENT=BROWSER)
    client.cookies[settings.SESSION_COOKIE_NAME] = "not-a-session"
    assert client.get(f"/p/{live_page.slug}/").status_code == 200
    call_command("flush_events")
    assert Event.objects.get(kind=EventKind.VIEW).traffic == Traffic.HUMAN


def test_recognising_the_founder_adds_no_query_for_anonymous_visitors(
    user, auth_api_client, project, django_assert_num_queries
):
    page, _ = make_running_experiment(auth_api_client, project)
    path = f"/p/{page.slug}/"
    anonymous, owner = Client(HTTP_USER_AGENT=BROWSER), signed_in(project.owner)
    anonymous.get(path)  # warm: the page, its experiment and each variant's render cached
    owner.get(path)
    # As pinned by tests/projects/events/test_worker.py: the event is buffered in Redis (no query) or
    # written as a row.
    event_queries = event_write_queries()
    with django_assert_num_queries(event_queries) as queries:
        assert anonymous.get(path).status_code == 200
    assert not any("session" in q["sql"] for q in queries.captured_queries)
    # Only a request that carries a session cookie looks it up: the session, then its user.
    with django_assert_num_queries(event_queries + 2):
        assert owner.get(path).status_code == 200


def test_the_founders_own_test_signups_are_kept_apart_from_the_counts(user, auth_api_client, project, live_page):
    """The founder signs up on their own page to try it: the row is theirs (traffic "founder"),
    listed as such, and no count of the page, the report or the dashboard takes it in."""
    slug = live_page.slug
    look_around(signed_in(user), slug, "me@example.com")
    look_around(Client(HTTP_USER_AGENT=BROWSER), slug, "person@example.com")
    call_command("flush_events")

    listed = auth_api_client.get(f"/api/projects/{project.pk}/signups").json()["results"]
    assert {s["email"]: s["traffic"] for s in listed} == {"me@example.com": "founder", "person@example.com": "human"}
    export = auth_api_client.get(f"/api/projects/{project.pk}/signups.csv")
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert lines[0].endswith(",traffic") and sum(line.endswith(",founder") for line in lines) == 1

    pages = auth_api_client.get(f"/api/projects/{project.pk}/landing-pages").json()["results"]
    assert [p["signup_count"] for p in pages if p["slug"] == slug] == [1]
    report = auth_api_client.get(f"/api/projects/{project.pk}/report").json()
    assert report["inputs"]["signups"] == 1


def test_the_founders_test_signups_are_not_the_platforms_signups_today(user, staff_user, live_page):
    from monitoring.panels import Buckets
    from projects.dashboard import platform_panel

    look_around(signed_in(user), live_page.slug, "me@example.com")
    look_around(Client(HTTP_USER_AGENT=BROWSER), live_page.slug, "person@example.com")
    panel = platform_panel(Buckets(now=time.time()))
    assert panel["signups_today"] == 1
