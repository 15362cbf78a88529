"""The analytics page: every figure equals the API's for the same project and range, it reads the
rollups and signups only (no query on the events table), its query count does not grow with the
rollups, the date range's errors are beside the fields, and it is the owner's alone."""

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from projects.models import BreakdownRollup, DailyRollup, Experiment, Traffic
from projects.templatetags.analytics import format_percent
from tests.factories import ProjectFactory
from tests.projects.events.test_analytics import signup
from tests.projects.events.test_breakdowns import drive

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]

GROUPS = ("variant", "channel", "referrer", "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term",
          "device")  # fmt: skip
COUNTS = ("views", "visitors", "cta_clicks", "signups", "preorders")
RATES = ("click_rate", "signup_rate", "confirmation_rate", "preorder_rate", "bounce_rate")


def url(project, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/projects/{project.pk}/analytics" + (f"?{query}" if query else "")


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html).strip()


def page_tables(html: str) -> dict[str, list[dict[str, str]]]:
    """Each table's rows (data-testid="table-<group>"), each row's figures by data-figure."""
    tables = {}
    for name, body in re.findall(r'<table[^>]*data-testid="table-([\w-]+)">(.*?)</table>', html, re.S):
        rows = []
        for row in re.findall(r"<tr data-group=[^>]*>(.*?)</tr>", body, re.S):
            rows.append({f: _text(v) for f, v in re.findall(r'data-figure="(\w+)">(.*?)</span>', row, re.S)})
        tables[name] = rows
    return tables


def page_summary(html: str) -> dict[str, str]:
    part = html[html.index('data-testid="summary"') : html.index('data-testid="excluded"') + 2000]
    return {f: _text(v) for f, v in re.findall(r'data-figure="(\w+)">(.*?)</(?:dd|span)>', part, re.S)}


def shown(row: dict) -> dict[str, str]:
    """An API row as the page writes it (the breakdowns, whose signups say no confirmation, without it)."""
    out = {f: str(row[f]) for f in COUNTS}
    out |= {f: format_percent(row[f]) for f in RATES}
    if row["confirmed"] is None:
        del out["confirmation_rate"]
    else:
        out["confirmed"] = str(row["confirmed"])
    return out


@pytest.fixture
def seeded(client, user, project, live_page, auth_api_client):
    """Traffic through the public page (devices, referrers, tags, a bot, a signup confirmed), an
    experiment on the page for a second batch of visitors, all rolled up."""
    drive()
    response = auth_api_client.post(
        f"/api/projects/{project.pk}/experiments",
        {"landing_page_id": live_page.pk, "name": "Headline", "variants": [{"key": "control"}, {"key": "b"}]},
        format="json",
    )
    assert auth_api_client.post(f"/api/experiments/{response.json()['id']}/start").status_code == 200
    from tests.projects.events.test_analytics import browser, visitor_in

    experiment = Experiment.objects.get(pk=response.json()["id"])
    for i in range(4):
        visitor = browser(visitor_in(experiment, i % 2, skip=i // 2))
        visitor.get("/p/chaser/?utm_source=list&utm_medium=email" if i == 3 else "/p/chaser/")
        if i % 2:
            signup(visitor, "chaser", f"v{i}@example.com")
    from projects.models import Signup
    from projects.services.signups import signup_confirm

    signup_confirm(signup=Signup.objects.get(email="v1@example.com"))
    call_command("flush_events")
    client.force_login(user)
    return project


@pytest.mark.parametrize("params", [{}, {"period": "7"}, {"from": "2020-01-01", "to": "2020-12-31"}])
def test_every_figure_equals_the_apis(client, auth_api_client, seeded, params):
    response = client.get(url(seeded, **params))
    assert response.status_code == 200
    html = response.content.decode()
    tables = page_tables(html)
    today = timezone.now().date()
    since = {"7": today - timedelta(days=6)}.get(params.get("period", ""), today - timedelta(days=29))
    api_params = {"from": since.isoformat(), "to": today.isoformat()}
    if "from" in params:
        api_params = {"from": params["from"], "to": params["to"]}
    for group in GROUPS:
        body = auth_api_client.get(f"/api/projects/{seeded.pk}/analytics", {**api_params, "group_by": group}).json()
        assert body["live"]["events_not_rolled_up"] == 0
        assert tables.get(group, []) == [shown(r) for r in body["rows"]], group
        if group == "channel":
            assert tables["traffic"] == [shown(body["traffic"]["cold"]), shown(body["traffic"]["warm"])]
    day = auth_api_client.get(f"/api/projects/{seeded.pk}/analytics", api_params).json()
    summary = page_summary(html)
    assert summary == {
        **{f: str(day["totals"][f]) for f in (*COUNTS, "cta_clicks", "confirmed")},
        "bot_views": str(day["excluded"]["bot_views"]),
        "founder_views": str(day["excluded"]["founder_views"]),
    }
    if "from" not in params:
        # The seeded traffic shows (and would make the comparison above vacuous otherwise).
        assert day["totals"]["visitors"] == 9 and day["totals"]["confirmed"] == 1
        assert len(tables["device"]) == 3 and len(tables["variant"]) == 3
    else:
        assert "No visitors in this range yet." in html


def test_the_page_never_queries_the_events_table(client, seeded):
    # Events waiting to be rolled up are not read either (the page reads rollups only).
    client.get("/p/chaser/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url(seeded)).status_code == 200
    sql = [q["sql"] for q in queries.captured_queries]
    assert not [q for q in sql if re.search(r'"projects_event"', q)], sql
    assert any("projects_breakdownrollup" in q for q in sql) and any("projects_signup" in q for q in sql)


def _rollups(page, *, days: int, variants: int, channels: int) -> None:
    today = timezone.now().date()
    channel_names = ["direct", "paid", "social", "search", "email", "referral"][:channels]
    DailyRollup.objects.bulk_create(
        [
            DailyRollup(page=page, day=today - timedelta(days=d), variant=f"v{v}", channel=c, traffic=Traffic.HUMAN,
                        views=10, visitors=8, signups=1, signed_up_visitors=1)
            for d in range(days) for v in range(variants) for c in channel_names
        ]
    )  # fmt: skip
    BreakdownRollup.objects.bulk_create(
        [
            BreakdownRollup(page=page, day=today - timedelta(days=d), dimension=dim, value=f"x{v}",
                            traffic=Traffic.HUMAN, views=10, visitors=8)
            for d in range(days) for v in range(variants) for dim in ("referrer", "utm_source", "device")
        ]
    )  # fmt: skip


# Session, user, the project, its pages, the daily rollups, the breakdowns, the confirmed
# signups, the experiments' names, the worker's last rollup time.
PAGE_QUERIES = 9


@pytest.mark.parametrize(("days", "variants", "channels"), [(1, 1, 1), (30, 5, 3)])
def test_query_count_is_pinned_whatever_the_rollups(
    client, user, project, live_page, days, variants, channels, django_assert_num_queries
):
    from django.core.cache import cache

    _rollups(live_page, days=days, variants=variants, channels=channels)
    client.force_login(user)
    client.get(url(project))  # the session is warm
    cache.clear()
    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get(url(project))
    assert response.status_code == 200
    assert response.content.decode().count('<tr data-group="') >= variants


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"period": "custom", "from": "2026-03-10", "to": "2026-03-01"}, "from", "on or before the last day"),
        ({"period": "custom", "from": "2024-01-01", "to": "2025-06-01"}, "from", "At most 366 days"),
        ({"period": "custom", "from": "2026-02-30"}, "from", "Enter a valid date"),
        ({"period": "custom", "from": "2026-01-01", "to": "soon"}, "to", "Enter a valid date"),
        ({"period": "custom"}, "from", "Give the first day"),
    ],
)
def test_a_bad_range_is_an_error_beside_its_field(client, user, project, params, field, message):
    client.force_login(user)
    response = client.get(url(project, **params))
    assert response.status_code == 400
    html = response.content.decode()
    error = re.search(rf'id="id_{field}_error">(.*?)</div>', html, re.S)
    assert error and message in error.group(1)
    assert f'aria-describedby="id_{field}_error"' in html
    assert 'id="results-live"' in html and 'data-testid="range-fallback"' in html  # the last 30 days meanwhile


def test_the_live_fragment_is_the_figures_alone(client, user, project):
    client.force_login(user)
    response = client.get(url(project, period="7", fragment="live"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<div id="results-live"')
    assert 'data-live="30"' in html and "period=7" in html and "fragment=live" in html
    assert "<html" not in html


def test_another_founders_project_is_404(client, user):
    client.force_login(user)
    assert client.get(url(ProjectFactory())).status_code == 404


def test_anonymous_is_sent_to_login(client, project):
    response = client.get(url(project))
    assert response.status_code == 302 and "/login" in response["Location"]


def test_post_is_refused(client, user, project):
    client.force_login(user)
    assert client.post(url(project)).status_code == 405


@pytest.mark.parametrize(
    ("params", "selected"),
    [
        ({}, "30"),  # the default range is the last 30 days: the choice shows it
        ({"period": "7"}, "7"),
        ({"from": "2026-11-01", "to": "2026-11-20"}, "custom"),  # dates without a period: "From … to …"
    ],
)
def test_the_period_shown_is_the_period_used(client, user, project, params, selected):
    client.force_login(user)
    html = client.get(url(project, **params)).content.decode()
    select = re.search(r'<select name="period".*?</select>', html, re.S).group(0)
    assert re.findall(r'<option value="([^"]*)" selected', select) == [selected]


def test_the_breakdown_tables_keep_one_line_a_value_on_a_phone(client, seeded):
    """The version and channel tables stack into cards on a phone; the referrer, UTM and device
    tables, which can list dozens of values, keep one line a value and scroll sideways."""
    html = client.get(url(seeded)).content.decode()
    tables = re.findall(r'<table class="([^"]*)" data-testid="table-([a-z_]+)"', html)
    classes = {testid: cls.split() for cls, testid in tables}
    assert "stacked" in classes["variant"] and "stacked" in classes["channel"]
    for testid in ("referrer", "utm_source", "device"):
        assert "stacked" not in classes[testid] and "breakdown" in classes[testid], testid
