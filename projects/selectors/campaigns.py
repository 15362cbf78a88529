"""Reads of campaigns: the owner's, their spend, and the spend against what they brought."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.shortcuts import get_object_or_404

from projects.analysis.channels import PAID, campaign_of, click_platforms_of
from projects.analysis.costs import CostCheck, cost_check, cost_per, most_per_result
from projects.analysis.money import minor_digits, money_decimal
from projects.models import (
    Campaign,
    CampaignSpend,
    Event,
    EventKind,
    LandingPage,
    PageStatus,
    Project,
    Signup,
    Traffic,
)
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
    paid_signups = _paid_signups(campaign.project_id)
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


def _paid_signups(project_id: int) -> QuerySet[Signup]:
    return Signup.objects.filter(Q(channel=PAID) | Q(channel=""), project_id=project_id, traffic=Traffic.HUMAN)


# --- The founder's screens ---------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignRow:
    """A line of the campaign list: the campaign, its spend so far and its cost per signup, both as
    `campaign_summary` computes them (decimal strings in the project's currency; None: no cost yet)."""

    campaign: Campaign
    spend: str | None
    signups: int
    cost_per_signup: str | None
    has_spend: bool


def campaign_rows(*, project: Project) -> list[CampaignRow]:
    """The project's campaigns, newest first, each with `campaign_summary`'s spend and cost per signup.
    Three queries however many campaigns and days of spend: the campaigns, the spend per campaign,
    and the paid signups per (tag, click platform) pair, each pair credited in Python by
    `analysis.channels.campaign_of` (the rule `_credited` applies one campaign at a time)."""
    campaigns = list(campaign_list(project=project))
    if not campaigns:
        return []
    spent = dict(
        CampaignSpend.objects.filter(campaign__project=project)
        .values("campaign_id")
        .annotate(total=Sum("spend"))
        .order_by()
        .values_list("campaign_id", "total")
    )
    tags = [(c.utm_campaign, c.platform) for c in campaigns]
    by_tag: dict[str, int] = {}
    pairs = (
        _paid_signups(project.pk)
        .values("utm_campaign", "click_platform")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("utm_campaign", "click_platform", "n")
    )
    for tag, click, n in pairs:
        credited = campaign_of(utm_campaign=tag, click_platform=click, campaigns=tags)
        if credited is not None:
            by_tag[credited] = by_tag.get(credited, 0) + n
    rows = []
    for campaign in campaigns:
        spend = spent.get(campaign.pk) or Decimal(0)
        signups = by_tag.get(campaign.utm_campaign, 0)
        rows.append(
            CampaignRow(
                campaign=campaign,
                spend=money_decimal(spend, project.currency),
                signups=signups,
                cost_per_signup=money_decimal(cost_per(spend, signups), project.currency),
                has_spend=spend > 0,
            )
        )
    return rows


@dataclass(frozen=True)
class CampaignDay:
    day: date
    spend: Decimal  # 0 on a day with no spend entered
    signups: int  # credited to the campaign (first touch), that day
    cost_per_signup_so_far: Decimal | None  # spend to date / signups to date


MAX_CHART_DAYS = 366


def campaign_days(*, campaign: Campaign) -> list[CampaignDay]:
    """Every day from the first with spend or a credited signup to the last, oldest first (at most
    the last MAX_CHART_DAYS): the day's spend, its signups, and the cost per signup so far. Four
    queries whatever the number of days."""
    spend = dict(CampaignSpend.objects.filter(campaign=campaign).values_list("date", "spend"))
    signups = dict(
        _credited(campaign, _paid_signups(campaign.project_id))
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("day", "n")
    )
    known = [*spend, *signups]
    if not known:
        return []
    first, last = min(known), max(known)
    # Whatever is stored (a far-past day from before the spend-date rules, `spend_csv.day_error`),
    # the window is at most MAX_CHART_DAYS and never reaches before date.min (no OverflowError).
    if (last - first).days >= MAX_CHART_DAYS:
        first = last - timedelta(days=MAX_CHART_DAYS - 1)
    spent_before = sum((v for d, v in spend.items() if d < first), Decimal(0))
    signed_before = sum(n for d, n in signups.items() if d < first)
    days = []
    total_spend, total_signups = spent_before, signed_before
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        total_spend += spend.get(day, Decimal(0))
        total_signups += signups.get(day, 0)
        days.append(
            CampaignDay(
                day=day,
                spend=spend.get(day, Decimal(0)),
                signups=signups.get(day, 0),
                cost_per_signup_so_far=cost_per(total_spend, total_signups),
            )
        )
    return days


def spend_newest_first(*, campaign: Campaign) -> QuerySet[CampaignSpend]:
    return CampaignSpend.objects.filter(campaign=campaign).order_by("-date")


def published_pages(*, project: Project) -> list[LandingPage]:
    """The project's published pages (what a campaign's link can point at), oldest first."""
    return list(
        LandingPage.objects.filter(project=project, status=PageStatus.PUBLISHED)
        .only("pk", "slug", "headline", "project_id", "status")
        .order_by("published_at", "pk")
    )


# The results a campaign's costs are per, with the summary's field of each.
COST_RESULTS = (
    ("click", "cost_per_click"),
    ("signup", "cost_per_signup"),
    ("confirmed_signup", "cost_per_confirmed_signup"),
    ("preorder", "cost_per_preorder"),
)


def campaign_cost_checks(*, summary: dict[str, Any], card: dict[str, Any] | None) -> dict[str, CostCheck]:
    """Each cost of `summary` (`campaign_summary`) against the most the price can carry, from the
    project's test card (`selectors.reports.project_test_card`; None when the project has no price)."""
    places = minor_digits(summary["currency"])
    spend = Decimal(summary["spend"])
    checks = {}
    for result, field in COST_RESULTS:
        most = None
        if card is not None:
            most = most_per_result(
                result,
                allowable_cost_per_lead=float(card["allowable_cost_per_lead"]),
                allowable_cac=float(card["allowable_cac"]),
                signups=summary["signups"],
                clicks=summary["clicks"],
            )
        cost = Decimal(summary[field]) if summary[field] is not None else None
        checks[result] = cost_check(spend=spend, cost=cost, most=most, places=places)
    return checks
