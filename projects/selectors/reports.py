"""Reads of the validation report: the demand score and verdict, the test card it judges
against, and the kept snapshots."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from mvpvalidator.exceptions import ConflictError
from projects.analysis.channels import COLD_CHANNELS, DIRECT, PAID, card_channel
from projects.analysis.money import money_fields
from projects.analysis.score import score
from projects.analysis.score_inputs import Inputs
from projects.analysis.test_card import build_test_card
from projects.models import (
    Campaign,
    CampaignSpend,
    CtaKind,
    DailyRollup,
    LandingPage,
    Project,
    ReportSnapshot,
    Signup,
    TestCard,
    Traffic,
)
from projects.selectors.campaigns import campaign_platforms
from projects.selectors.experiments import running_experiments


def _rollups_by_channel(page_ids: list[int]) -> dict[tuple[str, str], dict[str, Any]]:
    """{(channel, traffic): summed figures} of some pages since launch (one query)."""
    return {
        (row["channel"], row["traffic"]): row
        for row in DailyRollup.objects.filter(page_id__in=page_ids)
        .values("channel", "traffic")
        .annotate(views=Sum("views"), visitors=Sum("visitors"), signups=Sum("signups"), preorders=Sum("preorders"))
        .order_by()
    }


@dataclass(frozen=True)
class _Spend:
    spent: float
    clicks: int | None
    platforms: frozenset[str]


def _spend(project: Project) -> _Spend:
    totals = CampaignSpend.objects.filter(campaign__project=project).aggregate(spend=Sum("spend"), clicks=Sum("clicks"))
    return _Spend(float(totals["spend"] or 0), totals["clicks"] or None, campaign_platforms(project=project))


def _card_terms(
    project: Project, *, by: dict[tuple[str, str], dict[str, Any]], platforms: frozenset[str], stored: TestCard | None
) -> dict[str, Any]:
    """The arguments of `build_test_card` for the card as it stands now: the stored one (channel,
    expected cost per click, bars) with, where it leaves the channel open, the main cold channel;
    the project's idea, price (None while there is none), currency and business model. What the
    card keeps when it locks (`TestCard.locked_terms`)."""
    cold = {c: (by.get((c, Traffic.HUMAN)) or {}).get("visitors") or 0 for c in COLD_CHANNELS}
    main = max(cold, key=lambda c: cold[c]) if any(cold.values()) else (PAID if platforms else DIRECT)
    return {
        "idea": project.name,
        "channel": (stored.channel if stored else "") or card_channel(main, platforms=platforms),
        "price": float(project.price_point) if project.price_point > 0 else None,
        "currency": project.currency,
        "business_model": project.business_model,
        "expected_cpc": float(stored.expected_cpc) if stored and stored.expected_cpc else None,
        "overrides": dict(stored.overrides) if stored else None,
    }


def test_card_terms(*, project: Project, stored: TestCard | None) -> dict[str, Any]:
    """The card's terms now (`_card_terms`), read for the lock (`services.reports.test_cards_lock`)."""
    page_ids = list(LandingPage.objects.filter(project=project).values_list("pk", flat=True))
    return _card_terms(
        project, by=_rollups_by_channel(page_ids), platforms=campaign_platforms(project=project), stored=stored
    )


def _test_card(project: Project, *, by: dict[tuple[str, str], dict[str, Any]], spend: _Spend) -> dict[str, Any]:
    """The project's test card as `projects.analysis.test_card` builds it: a locked card from the
    terms it kept when it locked (campaigns, traffic and project edits after that change nothing),
    an open one from its terms now (`_card_terms`). Only what was unknown at the lock is read live:
    the price while none was set, and the observed cost per click when the founder expected none
    (a fact of the run, not a promise). `card` is the analysis' TestCard, `stored` the row (or None)."""

    stored = TestCard.objects.filter(project=project).first()
    if stored is not None and stored.locked_terms:
        terms = dict(stored.locked_terms)
    else:
        terms = _card_terms(project, by=by, platforms=spend.platforms, stored=stored)
    price = terms["price"] if terms["price"] is not None else float(project.price_point)
    if price <= 0:
        raise ConflictError(
            "A demand report needs a price above 0: the unit economics are judged against it.", code="no_price"
        )
    observed_cpc = spend.spent / spend.clicks if spend.clicks else None
    card = build_test_card(**{**terms, "price": price, "expected_cpc": terms["expected_cpc"] or observed_cpc})
    return {"card": card, "stored": stored}


# The money of the card and of the verdict: decimal strings rounded to the currency's minor unit in the JSON.
CARD_MONEY = ("price", "ltv", "allowable_cac", "allowable_cost_per_lead", "expected_cpc")
REPORT_MONEY = (
    "budget_needed",
    "cost_per_click",
    "cost_per_visitor",
    "cost_per_signup",
    "cost_per_preorder",
    "cost_per_confirmed_signup",
)


def _card_dict(built: dict[str, Any]) -> dict[str, Any]:
    stored = built["stored"]
    locked_by = None
    if stored is not None and stored.locked_by_event:
        # Which visit locked the card: no personal data (an event key, the visitor's HMAC, a channel).
        locked_by = {
            "event": stored.locked_by_event,
            "visitor": stored.locked_by_visitor,
            "channel": stored.locked_by_channel,
        }
    card = built["card"]
    return {
        **money_fields(card.to_dict(), CARD_MONEY, card.currency),
        "written_at": stored.written_at if stored else None,
        "locked_at": stored.locked_at if stored else None,
        "locked_by": locked_by,
    }


def project_test_card(*, project: Project) -> dict[str, Any]:
    """The test card the report judges against (without computing the report)."""
    page_ids = list(LandingPage.objects.filter(project=project).values_list("pk", flat=True))
    return _card_dict(_test_card(project, by=_rollups_by_channel(page_ids), spend=_spend(project)))


def project_report(*, project: Project) -> dict[str, Any]:
    """The demand score and verdict of a project (`projects.analysis.score`) from its pages' rollups, its
    signups, its campaigns' spend and its experiments' health. Live; a handful of queries."""

    pages = list(LandingPage.objects.filter(project=project).values("pk", "published_at", "double_opt_in", "cta_kind"))
    page_ids = [p["pk"] for p in pages]
    launched = min((p["published_at"] for p in pages if p["published_at"]), default=None)
    now = timezone.now()
    by = _rollups_by_channel(page_ids)

    def total(channels: tuple[str, ...], field: str) -> int:
        return sum((by.get((c, Traffic.HUMAN)) or {}).get(field) or 0 for c in channels)

    spend = _spend(project)
    built = _test_card(project, by=by, spend=spend)
    confirmed_signups = Signup.objects.filter(
        project=project, confirmed_at__isnull=False, unsubscribed_at__isnull=True
    ).filter(traffic=Traffic.HUMAN)
    confirmed = confirmed_signups.count()
    cold_signups = total(COLD_CHANNELS, "signups")
    # What the spend is credited with: the paid channel's people, and the confirmed signups whose first touch was
    # paid (the costs divide the spend by these, projects.analysis.costs). Signups stored before the channel was
    # kept count by their campaign tag.
    paid_signups = total((PAID,), "signups")
    double_opt_in = any(p["double_opt_in"] for p in pages)
    preorder_page = any(p["cta_kind"] == CtaKind.PREORDER for p in pages)
    paid_confirmed = (
        confirmed_signups.filter(
            Q(channel=PAID)
            | Q(channel="", utm_campaign__in=Campaign.objects.filter(project=project).values("utm_campaign"))
        ).count()
        if double_opt_in and spend.spent
        else 0
    )
    # The bot share of the traffic the verdict would count: cold views of people and known bots
    # (the founder's own looks, preview or signed in, are neither; warm channels are not judged).
    bots = sum((r.get("views") or 0) for (c, t), r in by.items() if t == Traffic.BOT and c in COLD_CHANNELS)
    people = sum((r.get("views") or 0) for (c, t), r in by.items() if t == Traffic.HUMAN and c in COLD_CHANNELS)
    srm = any("sample ratio mismatch" in e["flags"] for e in running_experiments(limit=1000, project=project))
    inputs = Inputs(
        days=(now - launched).total_seconds() / 86400 if launched else 0.0,
        visitors=total(COLD_CHANNELS, "visitors"),
        signups=cold_signups,
        confirmed=min(confirmed, cold_signups) if double_opt_in else None,
        preorders=total(COLD_CHANNELS, "preorders") if preorder_page else None,
        warm_visitors=total(("email", "referral"), "visitors"),
        warm_signups=total(("email", "referral"), "signups"),
        referred_visitors=total(("referral",), "visitors"),
        spend=spend.spent,
        clicks=spend.clicks,
        srm_unhealthy=srm,
        bot_share=bots / (bots + people) if bots + people else 0.0,
        traffic_views=bots + people,
        paid_visitors=total((PAID,), "visitors"),
        paid_signups=paid_signups,
        paid_preorders=total((PAID,), "preorders") if preorder_page else None,
        paid_confirmed=min(paid_confirmed, paid_signups) if double_opt_in else None,
    )
    verdict = score(built["card"], inputs)
    return {
        "project_id": project.pk,
        "project_name": project.name,
        "computed_at": now,
        "test_card": _card_dict(built),
        "inputs": money_fields(
            {name: getattr(inputs, name) for name in inputs.__dataclass_fields__}, ("spend",), project.currency
        ),
        **money_fields(verdict.to_dict(), REPORT_MONEY, project.currency),
    }


def report_snapshots(*, project: Project) -> QuerySet[ReportSnapshot]:
    return ReportSnapshot.objects.filter(project=project).order_by("-created_at", "-id")


def report_snapshot_list(*, project: Project, limit: int = 50) -> list[ReportSnapshot]:
    """The kept reports a page lists (date, verdict, score), newest first, without their data: one query."""
    return list(report_snapshots(project=project).defer("data")[:limit])


def report_snapshot_get(*, project: Project, pk: int) -> ReportSnapshot:
    """One kept report of the project (the caller got the project through `project_get`): another
    project's, or none, is a 404."""
    return get_object_or_404(ReportSnapshot.objects.filter(project=project), pk=pk)


def report_snapshot_pair(*, project: Project, a: int, b: int) -> tuple[ReportSnapshot, ReportSnapshot]:
    """Two kept reports of the project, older first (one query); a 404 unless both are the project's."""
    found = {s.pk: s for s in ReportSnapshot.objects.filter(project=project, pk__in=[a, b])}
    if a not in found or b not in found:
        raise Http404("No such kept report.")
    first, second = found[a], found[b]
    return (first, second) if (first.created_at, first.pk) <= (second.created_at, second.pk) else (second, first)


def test_card_stored(*, project: Project) -> TestCard | None:
    """The project's stored test card row (None until its first launch or the founder's first edit)."""
    return TestCard.objects.filter(project=project).first()
