"""The funnel's rates are shares of people: who clicked (signed up, pre-ordered) / who visited, through
`/api/projects/<id>/analytics`, live and after the worker's rollup. A visitor who clicks twice is one clicker; the
channel said `click_rate: 2.0`."""

import pytest
from django.core.management import call_command
from django.test import Client

from projects.events import cookies
from tests.projects.experiments.helpers import BROWSER

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]


def browser(vid: str) -> Client:
    client = Client(HTTP_USER_AGENT=BROWSER)
    client.cookies[cookies.VISITOR_COOKIE] = cookies.signed_visitor_id(vid)
    return client


def by_channel(api, project) -> dict:
    response = api.get(f"/api/projects/{project.pk}/analytics", {"group_by": "channel"})
    assert response.status_code == 200, response.content
    return {row["channel"]: row for row in response.json()["rows"]}


def test_a_visitor_clicking_twice_is_one_clicker(commit, auth_api_client, project, live_page):
    eager, idle = browser("visitor-eager-000001"), browser("visitor-idle-0000001")
    for visitor in (eager, idle):
        visitor.get(f"/p/{live_page.slug}/?utm_source=newsletter&utm_medium=email")
        visitor.post(f"/p/{live_page.slug}/e", {"k": "beacon"})
    for _ in range(4):  # one person, four clicks
        assert eager.post(f"/p/{live_page.slug}/e", {"k": "cta_click"}).status_code == 204
    live = by_channel(auth_api_client, project)["email"]
    assert (live["visitors"], live["cta_clicks"], live["click_rate"]) == (2, 4, 0.5)  # was 4 / 2 = 2.0
    with commit():
        call_command("flush_events")
    rolled_up = by_channel(auth_api_client, project)["email"]
    assert (rolled_up["visitors"], rolled_up["cta_clicks"], rolled_up["click_rate"]) == (2, 4, 0.5)

    eager.post(f"/p/{live_page.slug}/e", {"k": "cta_click"})  # the same person again, in a later batch
    with commit():
        call_command("flush_events")
    again = by_channel(auth_api_client, project)["email"]
    assert (again["cta_clicks"], again["click_rate"]) == (5, 0.5)
    assert all(0.0 <= again[rate] <= 1.0 for rate in ("click_rate", "signup_rate", "preorder_rate", "bounce_rate"))
