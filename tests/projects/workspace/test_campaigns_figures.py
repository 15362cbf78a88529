"""The campaign screens show the API's figures: every figure of the campaign screen equals the API's
campaign summary (GET /api/campaigns/<id>/ and its spend) field by field, on campaigns with spend,
paid visitors, signups, confirmed signups and pre-orders brought through the public page; the list's
spend and cost per signup equal each campaign's summary; and the screens' query counts are pinned and
do not grow with the days of spend or the number of campaigns."""

import html as html_lib
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from projects.analysis.money import format_money
from projects.models import CampaignSpend, Signup
from projects.services.campaigns import campaign_create, spend_today
from projects.services.pages import landing_page_create, landing_page_publish
from projects.services.prototypes import prototype_generate
from tests.projects.conftest import signup_post_data, visitor_token

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36"
MONEY = ("spend", "budget", "budget_left")
COUNTS = ("days_with_spend", "impressions", "clicks", "signups", "confirmed_signups", "preorders")
COSTS = ("cost_per_click", "cost_per_signup", "cost_per_confirmed_signup", "cost_per_preorder")


@pytest.fixture
def founder(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def api(auth_api_client):
    return auth_api_client


@pytest.fixture
def preorder_page(project):
    prototype_generate(project=project)
    page = landing_page_create(project=project, slug="chaser", cta_kind="preorder", preorder_price=Decimal("19"))
    return landing_page_publish(page=page)


def _campaign(project, tag, platform="google", budget="500"):
    return campaign_create(project=project, name=f"Campaign {tag}", platform=platform, budget=budget, utm_campaign=tag)


def _spend(campaign, days, *, start=1):
    today = spend_today()[0]
    CampaignSpend.objects.bulk_create(
        CampaignSpend(
            campaign=campaign,
            date=today - timedelta(days=start + i),
            spend=Decimal("12.35") + i,
            clicks=30 + i,
            impressions=1000,
        )
        for i in range(days)
    )


def _people(page, tag, n, *, signups, preorders, offset=0):
    for i in range(n):
        visitor = Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR=f"10.{offset}.{i // 250}.{i % 250 + 1}")
        visitor.get(f"/p/{page.slug}/?utm_source=google&utm_medium=cpc&utm_campaign={tag}")
        if i < signups:
            data = signup_post_data(visitor, email=f"{tag}{i}@example.com", utm_campaign=tag, utm_source="google",
                                    utm_medium="cpc")  # fmt: skip
            assert visitor.post(f"/p/{page.slug}/signup", data).status_code == 302
        if i < preorders:
            visitor.post(f"/p/{page.slug}/preorder", {"form_token": visitor_token(visitor)})


def _screen_figures(html: str) -> dict[str, str]:
    return {
        name: html_lib.unescape(re.sub(r"<[^>]+>", "", value)).strip()
        for name, value in re.findall(r'data-field="(\w+)"[^>]*>(.*?)</(?:dd|td)>', html, re.S)
    }


def _shown(value, currency):
    return "—" if value is None else format_money(value, currency)


def test_every_figure_on_the_campaign_screen_equals_the_apis_summary(founder, api, project, preorder_page):
    autumn = _campaign(project, "autumn")
    other = _campaign(project, "spring", platform="meta")
    _spend(autumn, 5)
    _spend(other, 2)
    _people(preorder_page, "autumn", 12, signups=5, preorders=3)
    _people(preorder_page, "spring", 4, signups=2, preorders=0, offset=1)
    Signup.objects.filter(email__in=["autumn0@example.com", "autumn1@example.com"]).update(confirmed_at=timezone.now())
    call_command("flush_events")

    for campaign in (autumn, other):
        body = api.get(f"/api/campaigns/{campaign.pk}/").json()
        summary = body["summary"]
        spend = api.get(f"/api/campaigns/{campaign.pk}/spend").json()
        assert spend["summary"] == summary
        html = founder.get(reverse("campaign-detail", args=[project.pk, campaign.pk])).content.decode()
        shown = _screen_figures(html)
        assert set(shown) == {*MONEY, *COUNTS, *COSTS}
        for name in (*MONEY, *COSTS):
            assert shown[name] == _shown(summary[name], summary["currency"]), name
        for name in COUNTS:
            assert shown[name] == str(summary[name]), name
        # The table by day: the API's rows, newest first.
        cells = r'<time datetime="([\d-]+)">.*?</time></td><td[^>]*>([^<]*)</td><td[^>]*>(\d+)</td><td[^>]*>(\d+)</td>'
        days = re.findall(cells, html)
        api_rows = [
            (r["date"], format_money(r["spend"], "USD"), str(r["clicks"]), str(r["impressions"])) for r in spend["rows"]
        ]
        assert days == list(reversed(api_rows))

    summary = api.get(f"/api/campaigns/{autumn.pk}/").json()["summary"]
    # The case is not a trivial one: spend, signups, confirmations and pre-orders all present.
    assert summary["signups"] == 5 and summary["confirmed_signups"] == 2 and summary["preorders"] == 3
    assert all(summary[name] is not None for name in COSTS)


def test_the_list_shows_each_campaigns_summary_spend_and_cost_per_signup(founder, api, project, preorder_page):
    campaigns = [_campaign(project, "autumn"), _campaign(project, "spring", platform="meta"), _campaign(project, "x")]
    _spend(campaigns[0], 3)
    _spend(campaigns[1], 4)
    _people(preorder_page, "autumn", 6, signups=4, preorders=0)
    _people(preorder_page, "spring", 2, signups=1, preorders=0, offset=1)
    call_command("flush_events")
    html = founder.get(reverse("campaign-list", args=[project.pk])).content.decode()
    for campaign in campaigns:
        summary = api.get(f"/api/campaigns/{campaign.pk}/").json()["summary"]
        spend = re.search(rf'data-testid="spend-{campaign.pk}">([^<]*)<', html)[1]
        cps = re.search(rf'data-testid="cps-{campaign.pk}">([^<]*)', html)[1].strip()
        assert spend == format_money(summary["spend"], "USD")
        assert cps == _shown(summary["cost_per_signup"], "USD")
    assert "no spend yet" in html  # the third has none


def test_costs_are_set_against_what_the_price_can_carry(founder, api, project, preorder_page):
    campaign = _campaign(project, "autumn")
    _spend(campaign, 2)
    _people(preorder_page, "autumn", 4, signups=2, preorders=1)
    call_command("flush_events")
    card = api.get(f"/api/projects/{project.pk}/test-card").json()
    html = founder.get(reverse("campaign-detail", args=[project.pk, campaign.pk])).content.decode()
    signup_row = re.search(r'<tr data-cost="cost_per_signup">(.*?)</tr>', html, re.S)[1]
    assert format_money(card["allowable_cost_per_lead"], "USD") in signup_row
    preorder_row = re.search(r'<tr data-cost="cost_per_preorder">(.*?)</tr>', html, re.S)[1]
    assert format_money(card["allowable_cac"], "USD") in preorder_row
    summary = api.get(f"/api/campaigns/{campaign.pk}/").json()["summary"]
    over = Decimal(summary["cost_per_signup"]) > Decimal(card["allowable_cost_per_lead"])
    assert ("Too dear" if over else "Within") in signup_row
    assert "<svg" in html and "Daily spend and cost per signup (USD)" in html
    assert f"{reverse('glossary')}#g-cost-per-signup" in html and f"{reverse('glossary')}#g-allowable-cost" in html


def test_without_price_or_spend_the_screen_says_so_plainly(founder, project):
    project.price_point = Decimal("0")
    project.save()
    campaign = _campaign(project, "autumn")
    html = founder.get(reverse("campaign-detail", args=[project.pk, campaign.pk])).content.decode()
    assert 'data-testid="no-price"' in html and "no price yet" in html
    assert 'data-testid="no-spend"' in html and "No spend entered yet" in html
    assert "<svg" not in html


# --- Query counts --------------------------------------------------------------------------------


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


LIST_QUERIES = 6  # session, user, project, campaigns, spend per campaign, paid signups per tag
DETAIL_QUERIES = 24  # session, user, campaign; the summary (API), the test card, the days, pages, the table


def test_the_list_costs_a_fixed_number_of_queries(founder, project, preorder_page, django_assert_num_queries):
    url = reverse("campaign-list", args=[project.pk])
    _spend(_campaign(project, "a"), 3)
    _people(preorder_page, "a", 2, signups=1, preorders=0)
    call_command("flush_events")
    with django_assert_num_queries(LIST_QUERIES):
        founder.get(url)
    for i in range(9):
        _spend(_campaign(project, f"more-{i}", platform=["google", "meta", "reddit"][i % 3]), 30)
    with django_assert_num_queries(LIST_QUERIES):
        html = founder.get(url).content.decode()
    assert html.count('data-testid="spend-') == 10


def test_the_campaign_screen_costs_a_fixed_number_of_queries(
    founder, project, preorder_page, django_assert_num_queries
):
    campaign = _campaign(project, "a")
    url = reverse("campaign-detail", args=[project.pk, campaign.pk])
    _spend(campaign, 1)
    _people(preorder_page, "a", 2, signups=1, preorders=1)
    call_command("flush_events")
    with django_assert_num_queries(DETAIL_QUERIES):
        founder.get(url)
    _spend(campaign, 60, start=2)
    for i in range(3):
        _spend(_campaign(project, f"more-{i}"), 30)
    _people(preorder_page, "a", 6, signups=4, preorders=2, offset=2)
    call_command("flush_events")
    with django_assert_num_queries(DETAIL_QUERIES):
        html = founder.get(url).content.decode()
    assert html.count("<time datetime=") == 61
