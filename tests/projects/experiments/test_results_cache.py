"""The results cache across the worker's rollups: a rollup of the experiment's events that changes
nothing the results are computed from keeps them (no recomputation), one that changes their
counts recomputes them; and the fingerprint the worker compares changes exactly when those inputs
do, event kind by event kind, through the public page and the worker as in production."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Q, Sum
from django.test.utils import CaptureQueriesContext

from mvpvalidator import cache as app_cache
from projects.cache import experiment_data_ns, results_inputs_changed
from projects.events import shards
from projects.models import DailyRollup, Event, ExperimentExposure, Traffic
from projects.selectors.experiments import experiment_results_inputs
from tests.projects.conftest import visitor_token
from tests.projects.experiments.helpers import browser, started, visitor_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]

GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def results(api, experiment) -> tuple[dict, bool]:
    """The API's results and whether this request computed them (read the exposures) or not."""
    with CaptureQueriesContext(connection) as queries:
        response = api.get(f"/api/experiments/{experiment.pk}/results")
    assert response.status_code == 200, response.content
    computed = any("projects_experimentexposure" in q["sql"] for q in queries.captured_queries)
    return response.json(), computed


def roll_up(commit) -> None:
    """The worker's pass, its on-commit work (the cache invalidation) included."""
    with commit():
        call_command("flush_events")


def person(experiment, arm: int, *, start: int = 0):
    """A new person's browser, in the experiment's arm `arm`, who opened the page and ran its script."""
    client = browser(visitor_in(experiment, arm, start=start))
    assert client.get("/p/chaser/").status_code == 200
    assert client.post("/p/chaser/e", {"k": "beacon"}).status_code == 204
    return client


def founder(api, page):
    """The founder's browser: opened the page's preview link, so their views are the founder's."""
    client = browser()
    assert client.get(api.get(f"/api/landing-pages/{page.pk}/").json()["preview_url"]).status_code == 302
    return client


def test_a_rollup_that_changes_nothing_of_the_results_keeps_them(commit, auth_api_client, project, live_page):
    experiment = started(auth_api_client, project, live_page)
    someone = person(experiment, 0)
    roll_up(commit)
    first, computed = results(auth_api_client, experiment)
    assert computed and [a["visitors"] for a in first["arms"]] == [1, 0]

    # The founder looks at the page twice, and the person's page runs its script again: events of
    # the experiment, rolled up, and none of them in the results.
    previewer = founder(auth_api_client, live_page)
    for _ in range(2):
        assert previewer.get("/p/chaser/").status_code == 200
    assert someone.post("/p/chaser/e", {"k": "beacon"}).status_code == 204
    roll_up(commit)
    rolled = Event.objects.filter(shards.rolled_up(), experiment=experiment)
    assert rolled.filter(traffic=Traffic.FOUNDER).count() == 2 and rolled.count() == 5

    again, computed = results(auth_api_client, experiment)
    assert not computed and again == first


def test_a_rollup_that_changes_the_counts_recomputes_the_results(commit, auth_api_client, project, live_page):
    experiment = started(auth_api_client, project, live_page)
    someone = person(experiment, 0)
    roll_up(commit)
    before, _ = results(auth_api_client, experiment)
    assert results(auth_api_client, experiment) == (before, False)  # cached

    person(experiment, 1)  # one more person in the variant
    roll_up(commit)
    body, computed = results(auth_api_client, experiment)
    assert computed and [a["visitors"] for a in body["arms"]] == [1, 1]

    assert someone.post("/p/chaser/e", {"k": "cta_click"}).status_code == 204  # a first click
    roll_up(commit)
    body, computed = results(auth_api_client, experiment)
    assert computed and body["secondary"]["control"]["cta_clicks"] == 1

    crawler = browser(ua=GOOGLEBOT)
    assert crawler.get("/p/chaser/").status_code == 200  # a known bot: the bot share moves
    roll_up(commit)
    body, computed = results(auth_api_client, experiment)
    assert computed and body["health"]["bot_share"] == pytest.approx(1 / 3, abs=1e-6)  # 2 people's views, 1 bot's


def test_an_edit_of_the_experiment_still_recomputes_its_results(commit, auth_api_client, project, live_page):
    experiment = started(auth_api_client, project, live_page)
    results(auth_api_client, experiment)
    response = auth_api_client.patch(f"/api/experiments/{experiment.pk}/", {"name": "Renamed"}, format="json")
    assert response.status_code == 200
    body, computed = results(auth_api_client, experiment)
    assert computed and body["name"] == "Renamed"


def _inputs(experiment) -> tuple:
    """What the results read, as they read it: the exposures counted per arm, the people's and
    bots' views."""
    exposures = (
        ExperimentExposure.objects.filter(experiment=experiment)
        .values("variant")
        .annotate(
            visitors=Count("id", filter=Q(confirmed=True)),
            unconfirmed=Count("id", filter=Q(confirmed=False)),
            signups=Count("id", filter=Q(confirmed=True, signed_up=True)),
            clicks=Count("id", filter=Q(confirmed=True, clicked=True)),
            preorders=Count("id", filter=Q(confirmed=True, preordered=True)),
        )
        .order_by("variant")
    )
    views = (
        DailyRollup.objects.filter(experiment=experiment, traffic__in=(Traffic.HUMAN, Traffic.BOT))
        .values("traffic")
        .annotate(views=Sum("views"))
        .order_by("traffic")
    )
    return [tuple(row.values()) for row in exposures], [tuple(row.values()) for row in views]


def test_the_fingerprint_changes_exactly_when_the_results_inputs_do(commit, auth_api_client, project, live_page):
    experiment = started(auth_api_client, project, live_page)
    first = browser(visitor_in(experiment, 0))
    second = browser(visitor_in(experiment, 1))
    previewer = founder(auth_api_client, live_page)
    crawler = browser(ua=GOOGLEBOT)

    def signup(client, n: int) -> None:
        response = client.post(
            "/p/chaser/signup",
            {"email": f"person{n}@example.com", "consent": "on", "website": "", "form_token": visitor_token(client),
             "qualifying_answer": "Spreadsheets"},
        )  # fmt: skip
        assert response.status_code == 302, response.content

    steps = {
        "a new person's view": (lambda: first.get("/p/chaser/"), True),
        "their page's script (confirmed)": (lambda: first.post("/p/chaser/e", {"k": "beacon"}), True),
        "their script again": (lambda: first.post("/p/chaser/e", {"k": "beacon"}), False),
        "the founder's views": (lambda: [previewer.get("/p/chaser/") for _ in range(3)], False),
        "their second view": (lambda: first.get("/p/chaser/"), True),
        "their first click": (lambda: first.post("/p/chaser/e", {"k": "cta_click"}), True),
        "their sign-up": (lambda: signup(first, 1), True),
        "a known bot's view": (lambda: crawler.get("/p/chaser/"), True),
        "another person's view and script": (
            lambda: (second.get("/p/chaser/"), second.post("/p/chaser/e", {"k": "beacon"})),
            True,
        ),
        "the founder again": (lambda: previewer.get("/p/chaser/"), False),
    }
    fingerprint = experiment_results_inputs(experiment_ids=[experiment.pk])[experiment.pk]
    inputs = _inputs(experiment)
    for name, (act, changes) in steps.items():
        act()
        roll_up(commit)
        now_fingerprint = experiment_results_inputs(experiment_ids=[experiment.pk])[experiment.pk]
        now_inputs = _inputs(experiment)
        assert (now_inputs != inputs) is changes, name
        assert (now_fingerprint != fingerprint) is changes, name
        fingerprint, inputs = now_fingerprint, now_inputs


def test_results_inputs_changed_bumps_only_what_changed():
    def generation(experiment_id: int) -> int:
        return app_cache.generations([experiment_data_ns(experiment_id)])[0]

    before = {i: generation(i) for i in (1, 2)}
    assert results_inputs_changed({1: "x", 2: "y"}) == [1, 2]  # never seen: bumped
    seen = {i: generation(i) for i in (1, 2)}
    assert all(seen[i] != before[i] for i in (1, 2))
    assert results_inputs_changed({1: "x", 2: "z"}) == [2]
    assert generation(1) == seen[1] and generation(2) != seen[2]
    assert results_inputs_changed({}) == []
