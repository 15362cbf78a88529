"""What the ads cost, through the API: spend divided by what the spend is credited with, as the ad platforms
report it (`projects.analysis.costs`), and no cost at all where nothing was spent."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from projects.models import LandingPage
from tests.projects.conftest import signup_post_data

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36"


def campaign_of(api, project, **overrides):
    body = {"name": "Launch", "platform": "google", "budget": "900.00", "utm_campaign": "launch", **overrides}
    response = api.post(f"/api/projects/{project.pk}/campaigns", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def spend(api, campaign, rows):
    response = api.post(f"/api/campaigns/{campaign['id']}/spend", {"rows": rows}, format="json")
    assert response.status_code == 200, response.content


def paid_visitors(page, n, *, signups, tag="launch"):
    """`n` people who came by the campaign's tagged ad; the first `signups` of them sign up."""
    for i in range(n):
        visitor = Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR=f"10.9.{i // 250}.{i % 250 + 1}")
        visitor.get(f"/p/{page.slug}/?utm_source=google&utm_medium=cpc&utm_campaign={tag}")
        if i < signups:
            data = signup_post_data(visitor, email=f"paid{i}@example.com", utm_source="google", utm_medium="cpc",
                                    utm_campaign=tag)  # fmt: skip
            assert visitor.post(f"/p/{page.slug}/signup", data).status_code == 302


def test_cost_per_signup_is_spend_over_attributed_signups(auth_api_client, project, live_page):
    # The figures: 360 paid clicks, 350 of them reached the page, $504 spent, 34 signups. Cost per signup is
    # 504 / 34 = 14.82 (it was 504 / 360 x 350 / 34 = 14.41: the 10 clicks that never arrived made signups cheaper).
    LandingPage.objects.filter(pk=live_page.pk).update(published_at=timezone.now() - timedelta(days=10))
    campaign = campaign_of(auth_api_client, project)
    today = timezone.localdate()
    spend(
        auth_api_client,
        campaign,
        [
            {"date": str(today - timedelta(days=2)), "spend": "252.00", "clicks": 180},
            {"date": str(today - timedelta(days=1)), "spend": "252.00", "clicks": 180},
        ],
    )
    paid_visitors(live_page, 350, signups=34)
    call_command("flush_events")

    report = auth_api_client.get(f"/api/projects/{project.pk}/report").json()
    assert (report["inputs"]["paid_visitors"], report["inputs"]["paid_signups"]) == (350, 34)
    assert report["inputs"]["spend"] == "504.00"
    assert report["cost_per_click"] == "1.40"  # 504 / 360, as the platform reports it
    assert report["cost_per_visitor"] == "1.44"  # 504 / 350 paid visitors
    assert report["cost_per_signup"] == "14.82"  # 504 / 34
    assert report["cost_per_confirmed_signup"] is None  # nobody confirmed yet: no cost per confirmation
    allowable = float(report["test_card"]["allowable_cost_per_lead"])
    assert report["acquisition_cost_ratio"] == pytest.approx((504 / 34) / allowable, rel=1e-3)
    economics = next(c for c in report["components"] if c["name"] == "unit_economics")
    # Paid signups over paid visitors against the break-even conversion at 504 / 350 per visitor: the rate clears
    # the bar exactly when 504 / 34 is below what the price can carry.
    assert (economics["successes"], economics["trials"]) == (34, 350)
    assert economics["bar"] == pytest.approx((504 / 350) / allowable, rel=1e-3)  # allowable: the rounded 7.73
    assert any("so a signup costs 14.82 USD" in reason for reason in report["reasons"])

    summary = auth_api_client.get(f"/api/campaigns/{campaign['id']}/").json()["summary"]
    assert (summary["spend"], summary["clicks"], summary["signups"]) == ("504.00", 360, 34)
    assert (summary["cost_per_click"], summary["cost_per_signup"]) == ("1.40", "14.82")


def test_without_spend_there_is_no_cost_null_in_json(auth_api_client, project, live_page):
    # A campaign nobody has spent on yet said cost per signup 0.00: signups that cost nothing because nothing was
    # bought. Without spend every cost is null, in the campaign's summary and in the report.
    LandingPage.objects.filter(pk=live_page.pk).update(published_at=timezone.now() - timedelta(days=10))
    campaign = campaign_of(auth_api_client, project, utm_campaign="free")
    paid_visitors(live_page, 4, signups=2, tag="free")
    call_command("flush_events")

    summary = auth_api_client.get(f"/api/campaigns/{campaign['id']}/").json()["summary"]
    assert summary["signups"] == 2 and summary["spend"] == "0.00"
    assert summary["cost_per_signup"] is None
    assert summary["cost_per_click"] is None and summary["cost_per_preorder"] is None
    assert summary["cost_per_confirmed_signup"] is None
    report = auth_api_client.get(f"/api/projects/{project.pk}/report").json()
    assert report["cost_per_signup"] is None and report["cost_per_visitor"] is None


def test_no_cost_is_a_dash_on_pages_never_zero(client, user):
    from django.template import Context, Template

    page = Template("{% load money %}<dd>{{ cost|money:'USD' }}</dd><dd>{{ spent|money:'USD' }}</dd>").render(
        Context({"cost": None, "spent": Decimal("88.6000000000000")})
    )
    assert page == "<dd>—</dd><dd>88.60 USD</dd>"
