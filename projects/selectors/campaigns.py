"""Reads of campaigns: the owner's, their spend, and the spend against what they brought."""

from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404

from projects.analysis.channels import PAID, campaign_of, click_platforms_of
from projects.analysis.costs import cost_per
from projects.analysis.money import money_decimal
from projects.models import Campaign, CampaignSpend, Event, EventKind, Project, Signup, Traffic
from security.models import User


def campaign_qs_for_user(*, user: User) -> QuerySet[Campaign]:
    return Campaign.objects.filter(project__owner=user).select_related("project")


def campaign_get(*, user: User, pk: int) -> Campaign:
    return get_object_or_404(campaign_qs_for_user(user=user), pk=pk)


def campaign_list(*, project: Project) -> QuerySet[Campaign]:
    return Campaign.objects.filter(project=project).select_related("project").order_by("-created_at", "-id")


def campaign_platforms(*, project: Project) -> frozenset[str]:
    """The ad platforms the project's campaigns run on (which paid channel its traffic is)."""
    return frozenset(Campaign.objects.filter(project=project).values_list("platform", flat=True))


def spend_list(*, campaign: Campaign) -> QuerySet[CampaignSpend]:
    return CampaignSpend.objects.filter(campaign=campaign).order_by("date")


def campaign_summary(*, campaign: Campaign) -> dict[str, Any]:
    """Spend against what the campaign brought (first touch: the visitors its tag or its
    platform's click id tied to it, `_credited`, as the report counts them): cost per click, per
    signup, per confirmed signup and per pre-order, each spend / those results
    (`projects.analysis.costs`; None without spend). Seven queries."""
    totals = CampaignSpend.objects.filter(campaign=campaign).aggregate(
        spend=Sum("spend"), clicks=Sum("clicks"), impressions=Sum("impressions"), days=Count("id")
    )
    spend = totals["spend"] or Decimal(0)
    clicks = totals["clicks"] or 0
    # Counted as paid, as the report counts them (signups stored before the channel was kept: by tag);
    # people's only, as the report's rollups are.
    paid_signups = Signup.objects.filter(
        Q(channel=PAID) | Q(channel=""), project_id=campaign.project_id, traffic=Traffic.HUMAN
    )
    signups = _credited(campaign, paid_signups).count()
    paid_views = Event.objects.filter(page__project_id=campaign.project_id, kind=EventKind.VIEW, channel=PAID)
    tagged_visitors = _credited(campaign, paid_views).values("visitor_hash")
    preorders = (
        Event.objects.filter(
            page__project_id=campaign.project_id,
            kind=EventKind.PREORDER,
            traffic=Traffic.HUMAN,
            visitor_hash__in=tagged_visitors,
        )
        .values("visitor_hash")
        .distinct()
        .count()
    )

    confirmed = (
        _credited(campaign, paid_signups).filter(confirmed_at__isnull=False, unsubscribed_at__isnull=True).count()
    )
    currency = campaign.project.currency

    def per(n: int) -> str | None:
        return money_decimal(cost_per(spend, n), currency)

    return {
        "currency": currency,
        "spend": money_decimal(spend, currency),
        "budget": money_decimal(campaign.budget, currency),
        "budget_left": money_decimal(max(campaign.budget - spend, Decimal(0)), currency),
        "days_with_spend": totals["days"],
        "impressions": totals["impressions"] or 0,
        "clicks": clicks,
        "signups": signups,
        "confirmed_signups": confirmed,
        "preorders": preorders,
        "cost_per_click": per(clicks),
        "cost_per_signup": per(signups),
        "cost_per_confirmed_signup": per(confirmed),
        "cost_per_preorder": per(preorders),
    }


def _credited(campaign: Campaign, rows: QuerySet[Any]) -> QuerySet[Any]:
    """Those of `rows` (signups or page views: their first touch) that `analysis.channels.campaign_of`
    credits to `campaign`, among the project's campaigns: its tag, or a click id of its platform
    that no other campaign's tag or platform claims. Two queries: the campaigns, and the distinct
    (tag, click platform) pairs that could be the campaign's; `rows` then filtered by those."""
    campaigns = list(Campaign.objects.filter(project_id=campaign.project_id).values_list("utm_campaign", "platform"))
    candidates = rows.filter(
        Q(utm_campaign__iexact=campaign.utm_campaign) | Q(click_platform__in=click_platforms_of(campaign.platform))
    )
    pairs = candidates.order_by().values_list("utm_campaign", "click_platform").distinct()
    credited = Q()
    for tag, click in pairs:
        if campaign_of(utm_campaign=tag, click_platform=click, campaigns=campaigns) == campaign.utm_campaign:
            credited |= Q(utm_campaign=tag, click_platform=click)
    return candidates.filter(credited) if credited else rows.none()
