"""The campaign list's figures (`selectors.campaigns.campaign_rows`, three queries for every
campaign at once) equal each campaign's `campaign_summary` (the API's), whatever ties a signup to a
campaign: its tag in any letter case, a click id of a platform one campaign runs on, a click id of a
platform several run on (nobody's), a bot's or a warm channel's signup (nobody's); and the daily
series (`campaign_days`) adds up to the summary."""

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest

from projects.models import CampaignSpend, Signup
from projects.selectors.campaigns import campaign_days, campaign_rows, campaign_summary
from projects.services.campaigns import campaign_create, spend_today
from tests.factories import ProjectFactory, generate_and_publish

pytestmark = pytest.mark.django_db


_emails = itertools.count()


def _signups(page, n, **fields):
    Signup.objects.bulk_create(
        Signup(landing_page=page, project=page.project, email=f"p{next(_emails)}@x.io", **{"channel": "paid", **fields})
        for _ in range(n)
    )


def test_the_lists_figures_are_each_campaigns_summary(user):
    project = ProjectFactory(owner=user)
    page = generate_and_publish(project, slug="rows")
    google = campaign_create(project=project, name="G", platform="google", budget="100", utm_campaign="autumn")
    meta_a = campaign_create(project=project, name="M1", platform="meta", budget="100", utm_campaign="meta-a")
    meta_b = campaign_create(project=project, name="M2", platform="meta", budget="100", utm_campaign="meta-b")
    quiet = campaign_create(project=project, name="Q", platform="reddit", budget="100", utm_campaign="quiet")
    today = spend_today()[0]
    for campaign, amount in ((google, "40.00"), (meta_a, "9.99"), (meta_b, "30")):
        CampaignSpend.objects.create(campaign=campaign, date=today - timedelta(days=1), spend=Decimal(amount))
    _signups(page, 3, utm_campaign="AUTUMN")  # the tag, another letter case
    _signups(page, 2, click_platform="google")  # gclid: the one Google campaign
    _signups(page, 4, click_platform="meta")  # fbclid: two Meta campaigns, so nobody's
    _signups(page, 1, utm_campaign="meta-a", click_platform="google")  # the tag wins over the click id
    _signups(page, 2, utm_campaign="meta-b", channel="")  # stored before the channel was kept
    _signups(page, 5, utm_campaign="autumn", traffic="bot")  # a bot's
    _signups(page, 5, utm_campaign="autumn", channel="email")  # warm
    rows = {row.campaign.pk: row for row in campaign_rows(project=project)}
    assert [row.campaign.pk for row in campaign_rows(project=project)] == [quiet.pk, meta_b.pk, meta_a.pk, google.pk]
    for campaign in (google, meta_a, meta_b, quiet):
        summary = campaign_summary(campaign=campaign)
        row = rows[campaign.pk]
        assert (row.spend, row.signups, row.cost_per_signup) == (
            summary["spend"],
            summary["signups"],
            summary["cost_per_signup"],
        ), campaign.utm_campaign
    assert [rows[c.pk].signups for c in (google, meta_a, meta_b, quiet)] == [5, 1, 2, 0]
    assert rows[quiet.pk].has_spend is False and rows[google.pk].cost_per_signup == "8.00"

    days = campaign_days(campaign=google)
    assert sum(d.signups for d in days) == 5 and sum(d.spend for d in days) == Decimal("40.00")
    assert days[-1].cost_per_signup_so_far == Decimal("8")
    assert [d.day for d in days] == [days[0].day + timedelta(days=i) for i in range(len(days))]  # no gaps
