"""The project's funnel (`/api/projects/<id>/analytics`) from events made through the public
pages: grouped by day, variant or channel, live before the worker has rolled the events up, the
same after, with bots and the founder's previews counted apart."""

import time
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from projects.analysis.assignment import assign
from projects.events import cookies, worker
from projects.models import DailyRollup, Experiment
from projects.selectors import events as event_selectors
from projects.services.pages import landing_page_update
from tests.factories import ProjectFactory, generate_and_publish
from tests.projects.conftest import visitor_token
from tests.projects.experiments.helpers import BROWSER
from tests.security.test_auth_api import assert_error_shape

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]

BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def visitor_in(experiment: Experiment, index: int, *, skip: int = 0) -> str:
    weights = [v.weight for v in experiment.variants.all()]
    found = 0
    for i in range(100_000):
        vid = f"visitor-{i:012d}"
        if assign(vid, seed=experiment.seed, coverage=1.0, weights=weights) == index:
            if found == skip:
                return vid
            found += 1
    raise AssertionError("no visitor found")


def browser(vid: str, *, ua: str = BROWSER) -> Client:
    client = Client(HTTP_USER_AGENT=ua)
    client.cookies[cookies.VISITOR_COOKIE] = cookies.signed_visitor_id(vid)
    return client


def signup(client: Client, slug: str, email: str, **extra) -> None:
    data = {"email": email, "consent": "on", "website": "", "form_token": visitor_token(client)}
    response = client.post(f"/p/{slug}/signup", {**data, **extra})
    assert response.status_code == 302 and "/thanks" in response["Location"]


def analytics(api, project, **params):
    response = api.get(f"/api/projects/{project.pk}/analytics", params)
    assert response.status_code == 200, response.content
    return response.json()


def figures(views, visitors, bounces, clicks=0, signups=0, preorders=0, confirmed=0) -> dict:
    def rate(n):
        return round(n / visitors, 6) if visitors else None

    return {
        "views": views, "visitors": visitors, "cta_clicks": clicks, "signups": signups, "preorders": preorders,
        "bounces": bounces, "confirmed": confirmed,
        "bounce_rate": rate(bounces), "click_rate": rate(clicks), "signup_rate": rate(signups),
        "preorder_rate": rate(preorders),
        "confirmation_rate": round(confirmed / signups, 6) if signups else None,
    }  # fmt: skip


@pytest.fixture
def experiment(auth_api_client, project, live_page):
    response = auth_api_client.post(
        f"/api/projects/{project.pk}/experiments",
        {"landing_page_id": live_page.pk, "name": "Headline", "variants": [{"key": "control"}, {"key": "b"}]},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert auth_api_client.post(f"/api/experiments/{response.json()['id']}/start").status_code == 200
    return Experiment.objects.get(pk=response.json()["id"])


@pytest.fixture
def traffic(auth_api_client, live_page, experiment):
    """Four people, a bot and the founder on the running experiment's page, today:

    - p1 (control) from a paid ad, signs up through the form that carried the ad's tags;
    - p2 (b) from a Google search, leaves at once (a bounce);
    - p3 (b) comes directly, twice, runs the script and clicks the call to action;
    - p4 (control) comes directly and leaves (a bounce);
    - a Googlebot views the page; the founder opens the preview link, then views it twice."""
    p1 = browser(visitor_in(experiment, 0))
    p1.get("/p/chaser/?utm_source=google&utm_medium=cpc")
    signup(p1, "chaser", "p1@example.com", utm_source="google", utm_medium="cpc")
    browser(visitor_in(experiment, 1)).get("/p/chaser/", HTTP_REFERER="https://www.google.com/search?q=invoices")
    p3 = browser(visitor_in(experiment, 1, skip=1))
    p3.get("/p/chaser/")
    p3.get("/p/chaser/")
    assert p3.post("/p/chaser/e", {"k": "beacon"}).status_code == 204
    assert p3.post("/p/chaser/e", {"k": "cta_click"}).status_code == 204
    browser(visitor_in(experiment, 0, skip=1)).get("/p/chaser/")
    browser("a-crawler-without-cookie-jar", ua=BOT).get("/p/chaser/")
    founder = browser("the-founders-own-browser")
    preview = auth_api_client.get(f"/api/landing-pages/{live_page.pk}/").json()["preview_url"]
    assert founder.get(preview).status_code == 302
    founder.get("/p/chaser/")
    founder.get("/p/chaser/")
    return {"events": 11}  # 6 views + signup + beacon + click of people, 1 bot view, 2 founder views


BY_DAY = figures(views=5, visitors=4, bounces=2, clicks=1, signups=1)
BY_VARIANT = [
    {"variant": "b", **figures(views=3, visitors=2, bounces=1, clicks=1)},
    {"variant": "control", **figures(views=2, visitors=2, bounces=1, signups=1)},
]  # each with the experiment's id
BY_CHANNEL = [
    {"channel": "direct", **figures(views=3, visitors=2, bounces=1, clicks=1)},
    {"channel": "paid", **figures(views=1, visitors=1, bounces=0, signups=1)},
    {"channel": "search", **figures(views=1, visitors=1, bounces=1)},
]


def _check(body, group_by, rows):
    assert body["group_by"] == group_by
    assert body["rows"] == rows
    assert body["totals"] == BY_DAY
    assert body["excluded"] == {"bot_views": 1, "founder_views": 2}


@pytest.mark.parametrize("flushed", [False, True], ids=["live", "rolled-up"])
def test_funnel_by_day_variant_and_channel(auth_api_client, project, experiment, traffic, flushed):
    if flushed:
        call_command("flush_events")
        assert worker.backlog().unrolled == 0
    today = timezone.now().date().isoformat()
    body = analytics(auth_api_client, project)
    _check(body, "day", [{"day": today, **BY_DAY}])
    assert body["project_id"] == project.pk
    assert body["to"] == today
    assert body["from"] == (timezone.now().date() - timedelta(days=29)).isoformat()
    assert body["live"] == {"events_not_rolled_up": 0 if flushed else traffic["events"], "partial": False}
    by_variant = [{"experiment_id": experiment.pk, **row} for row in BY_VARIANT]
    _check(analytics(auth_api_client, project, group_by="variant"), "variant", by_variant)
    _check(analytics(auth_api_client, project, group_by="channel"), "channel", BY_CHANNEL)


def test_live_events_add_to_the_rolled_up_figures(commit, auth_api_client, project, experiment, traffic):
    analytics(auth_api_client, project)  # the rolled-up part cached empty
    with commit():
        call_command("flush_events")
    assert analytics(auth_api_client, project)["totals"] == BY_DAY  # the worker's bump refreshed it
    # p4 comes back: no longer a bounce, still one visitor; p5 is new and bounces.
    browser(visitor_in(experiment, 0, skip=1)).get("/p/chaser/")
    browser(visitor_in(experiment, 1, skip=2)).get("/p/chaser/")
    body = analytics(auth_api_client, project)
    assert body["totals"] == figures(views=7, visitors=5, bounces=2, clicks=1, signups=1)
    assert body["live"] == {"events_not_rolled_up": 2, "partial": False}
    with commit():
        call_command("flush_events")
    assert analytics(auth_api_client, project)["totals"] == body["totals"]


def test_a_click_stays_in_the_channel_the_visitor_came_from(auth_api_client, project, experiment):
    visitor = browser(visitor_in(experiment, 0))
    visitor.get("/p/chaser/?utm_source=newsletter&utm_medium=email")
    visitor.post("/p/chaser/e", {"k": "beacon"})
    visitor.post("/p/chaser/e", {"k": "cta_click"})
    body = analytics(auth_api_client, project, group_by="channel")
    assert body["rows"] == [{"channel": "email", **figures(views=1, visitors=1, bounces=0, clicks=1)}]


def test_a_preorder_and_the_signup_after_it_stay_in_the_visitors_channel(auth_api_client, project, live_page):
    landing_page_update(page=live_page, data={"cta_kind": "preorder", "preorder_price": "15.00"})
    buyer = browser("visitor-from-newsletter")
    buyer.get("/p/chaser/?utm_source=newsletter&utm_medium=email")
    assert (
        buyer.post("/p/chaser/preorder", {"form_token": visitor_token(buyer, issued_at=time.time())}).status_code == 302
    )
    buyer.get("/p/chaser/preorder")
    signup(buyer, "chaser", "buyer@example.com")  # the honest page's form carries no tags
    body = analytics(auth_api_client, project, group_by="channel")
    assert body["rows"] == [{"channel": "email", **figures(views=1, visitors=1, bounces=0, signups=1, preorders=1)}]


def test_preorders_and_pages_without_experiment(commit, auth_api_client, project, live_page):
    landing_page_update(page=live_page, data={"cta_kind": "preorder", "preorder_price": "15.00"})
    buyer, browser_only = browser("visitor-buyer-000001"), browser("visitor-looker-00001")
    buyer.get("/p/chaser/")
    assert (
        buyer.post("/p/chaser/preorder", {"form_token": visitor_token(buyer, issued_at=time.time())}).status_code == 302
    )
    browser_only.get("/p/chaser/")
    for flush in (False, True):
        if flush:
            with commit():
                call_command("flush_events")
        body = analytics(auth_api_client, project, group_by="variant")
        expected = figures(views=2, visitors=2, bounces=1, preorders=1)
        assert body["rows"] == [{"experiment_id": None, "variant": "(none)", **expected}]
        assert body["totals"]["preorder_rate"] == 0.5


def test_variants_of_successive_experiments_are_not_mixed(auth_api_client, project, live_page, experiment):
    """A page's second experiment reuses the keys "control" and "b": other arms, other rows."""
    browser(visitor_in(experiment, 1)).get("/p/chaser/")
    call_command("flush_events")
    assert auth_api_client.post(f"/api/experiments/{experiment.pk}/complete").status_code == 200
    browser("visitor-between-tests").get("/p/chaser/")
    response = auth_api_client.post(
        f"/api/projects/{project.pk}/experiments",
        {"landing_page_id": live_page.pk, "name": "Second", "variants": [{"key": "control"}, {"key": "b"}]},
        format="json",
    )
    second = Experiment.objects.get(pk=response.json()["id"])
    assert auth_api_client.post(f"/api/experiments/{second.pk}/start").status_code == 200
    browser(visitor_in(second, 1)).get("/p/chaser/")
    browser(visitor_in(second, 1, skip=1)).get("/p/chaser/")
    body = analytics(auth_api_client, project, group_by="variant")
    assert [(r["experiment_id"], r["variant"], r["views"]) for r in body["rows"]] == [
        (None, "(none)", 1),
        (experiment.pk, "b", 1),
        (second.pk, "b", 2),
    ]


@pytest.mark.redis
def test_an_event_moved_into_a_row_while_analytics_reads_is_counted_once(
    auth_api_client, project, live_page, monkeypatch
):
    """The worker moves a buffered event into a row between the reads of the buffer and of the
    rows: found once, as a row (neither lost nor counted twice)."""
    from projects.events import ingest

    browser("visitor-racing-00001").get("/p/chaser/")
    read_buffer = ingest.buffered_events

    def worker_runs_right_after(page_ids):
        entries = read_buffer(page_ids)
        assert ingest.ingest(consumer="racing-worker") == 1
        return entries

    # The analytics read takes the buffer through its own binding of `buffered_events`.
    monkeypatch.setattr(event_selectors, "buffered_events", worker_runs_right_after)
    body = analytics(auth_api_client, project)
    assert body["totals"]["views"] == 1 and body["live"] == {"events_not_rolled_up": 1, "partial": False}
    monkeypatch.setattr(event_selectors, "buffered_events", read_buffer)
    assert analytics(auth_api_client, project)["totals"]["views"] == 1


def _rollup(page, day: date, views: int, **fields):
    DailyRollup.objects.create(page=page, day=day, channel="direct", traffic="human", views=views, visitors=views,
                               **fields)  # fmt: skip


def test_from_and_to_select_the_days(auth_api_client, project, live_page):
    today = timezone.now().date()
    for offset, views in ((0, 1), (5, 10), (40, 100), (400, 1000)):
        _rollup(live_page, today - timedelta(days=offset), views)
    assert analytics(auth_api_client, project)["totals"]["views"] == 11  # the last 30 days
    body = analytics(auth_api_client, project, **{"from": (today - timedelta(days=45)).isoformat()})
    assert body["totals"]["views"] == 111
    assert body["from"] == (today - timedelta(days=45)).isoformat()
    window = {"from": (today - timedelta(days=41)).isoformat(), "to": (today - timedelta(days=5)).isoformat()}
    body = analytics(auth_api_client, project, **window)
    assert body["totals"]["views"] == 110
    assert [r["day"] for r in body["rows"]] == [
        (today - timedelta(days=40)).isoformat(),
        (today - timedelta(days=5)).isoformat(),
    ]
    year = {"from": (today - timedelta(days=365)).isoformat(), "to": today.isoformat()}  # 366 days: the most
    assert analytics(auth_api_client, project, **year)["totals"]["views"] == 111


def test_only_the_projects_own_pages_count(auth_api_client, project, live_page):
    other = ProjectFactory(owner=auth_api_client.user)
    other_page = generate_and_publish(other, slug="elsewhere")
    _rollup(other_page, timezone.now().date(), 50)
    browser("visitor-elsewhere-001").get("/p/elsewhere/")
    body = analytics(auth_api_client, project)
    assert body["rows"] == [] and body["totals"]["views"] == 0 and body["live"]["events_not_rolled_up"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2025-03-02", "to": "2025-03-01"}, "from"),
        ({"from": "2025-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2024-01-01", "to": "2025-01-01"}, "from"),  # 367 days
        ({"group_by": "week"}, "group_by"),
        ({"group_by": "utm"}, "group_by"),
    ],
)
def test_bad_parameters_are_field_errors(auth_api_client, project, params, field):
    response = auth_api_client.get(f"/api/projects/{project.pk}/analytics", params)
    error = assert_error_shape(response, 400, "validation_error")
    assert list(error["fields"]) == [field]


def test_another_users_project_is_404(auth_api_client):
    other = ProjectFactory()
    assert_error_shape(auth_api_client.get(f"/api/projects/{other.pk}/analytics"), 404, "not_found")


def test_anonymous_is_401(api_client, project):
    assert_error_shape(api_client.get(f"/api/projects/{project.pk}/analytics"), 401, "not_authenticated")


def _visits(experiment: Experiment, n: int, start: int) -> None:
    for i in range(start, start + n):
        client = browser(f"visitor-count-{i:08d}")
        client.get("/p/chaser/?utm_source=x" if i % 3 else "/p/chaser/")
        if i % 2:
            client.post("/p/chaser/e", {"k": "cta_click"})


@pytest.mark.parametrize("n", [3, 40])
def test_query_count_does_not_grow_with_the_events(auth_api_client, project, experiment, n, django_assert_num_queries):
    _visits(experiment, n, 0)
    call_command("flush_events")
    _visits(experiment, n, n)  # waiting to be rolled up: the live part
    analytics(auth_api_client, project, group_by="channel")  # identity and rolled-up part now cached
    # The project, its pages, the confirmed signups, the rows waiting (with those of the buffered
    # entries, in one query), and the rolled-up events of the same visitors (priors); the identity
    # and the rolled-up part come from the cache.
    with django_assert_num_queries(5):
        body = analytics(auth_api_client, project, group_by="channel")
    assert body["totals"]["views"] == 2 * n
