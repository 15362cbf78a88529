"""Reads of campaigns: the owner's, their spend, and the spend against what they brought."""

from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.shortcuts import get_object_or_404

from projects.analysis.costs import cost_per
from projects.analysis.money import money_decimal
from projects.models import Campaign, CampaignSpend, Event, EventKind, Project, Signup
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
    """Spend against what arrived with the campaign's tag (first touch: the UTM tags of the page
    view that brought the visitor, which the signup form carries along): cost per click, per
    signup, per confirmed signup and per pre-order, each spend / those results
    (`projects.analysis.costs`; None without spend). Four queries."""
    totals = CampaignSpend.objects.filter(campaign=campaign).aggregate(
        spend=Sum("spend"), clicks=Sum("clicks"), impressions=Sum("impressions"), days=Count("id")
    )
    spend = totals["spend"] or Decimal(0)
    clicks = totals["clicks"] or 0
    signups = Signup.objects.filter(project_id=campaign.project_id, utm_campaign=campaign.utm_campaign).count()
    tagged_visitors = Event.objects.filter(
        page__project_id=campaign.project_id, kind=EventKind.VIEW, utm_campaign=campaign.utm_campaign
    ).values("visitor_hash")
    preorders = (
        Event.objects.filter(
            page__project_id=campaign.project_id, kind=EventKind.PREORDER, visitor_hash__in=tagged_visitors
        )
        .values("visitor_hash")
        .distinct()
        .count()
    )

    confirmed = Signup.objects.filter(
        project_id=campaign.project_id,
        utm_campaign=campaign.utm_campaign,
        confirmed_at__isnull=False,
        unsubscribed_at__isnull=True,
    ).count()
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
