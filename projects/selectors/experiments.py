"""Reads of experiments: the owner's, their results with the statistics, and the running ones
with their health (sample ratio, bot share)."""

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Min, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone

from mvpvalidator import cache as app_cache
from projects import cache as keys
from projects.analysis.experiments import Arm, analyse
from projects.analysis.planning import Plan, plan_experiment, srm_test
from projects.analysis.thresholds import BOT_SHARE_LIMIT, CHANNELS, SRM_ALPHA, value_of
from projects.analysis.traffic_quality import UNHEALTHY, traffic_quality
from projects.models import (
    DailyRollup,
    Experiment,
    ExperimentExposure,
    ExperimentStatus,
    LandingPage,
    PageStatus,
    Project,
    TestCard,
    Traffic,
    Variant,
)
from security.models import User


def experiment_qs_for_user(*, user: User) -> QuerySet[Experiment]:
    return Experiment.objects.filter(page__project__owner=user).select_related("page", "page__project")


def experiment_get(*, user: User, pk: int) -> Experiment:
    return get_object_or_404(experiment_qs_for_user(user=user).prefetch_related("variants"), pk=pk)


def experiment_list(*, project: Project) -> QuerySet[Experiment]:
    return (
        Experiment.objects.filter(page__project=project)
        .select_related("page")
        .prefetch_related("variants")
        .order_by("-created_at", "-id")
    )


def _days_running(experiment: Experiment, now: datetime) -> float:
    """From the first start to now, or to the pause that stopped the traffic (a paused
    experiment's clock stops; `paused_at` is cleared on resuming) or to the completion."""
    if experiment.started_at is None:
        return 0.0
    end = experiment.paused_at or experiment.completed_at or now
    return max((end - experiment.started_at).total_seconds() / 86400, 0.0)


def _traffic_shares(experiment_ids: list[int]) -> dict[int, dict[str, int]]:
    """Views per kind of traffic of each experiment, from the rollups (one query)."""
    shares: dict[int, dict[str, int]] = {i: {} for i in experiment_ids}
    rows = (
        DailyRollup.objects.filter(experiment_id__in=experiment_ids)
        .values("experiment_id", "traffic")
        .annotate(views=Sum("views"))
        .order_by()
    )
    for row in rows:
        shares[row["experiment_id"]][row["traffic"]] = row["views"] or 0
    return shares


def _judged_views(views: dict[str, int]) -> int:
    """The views the bot-share gate judges: people and known bots, never the founder's."""
    return views.get(Traffic.HUMAN, 0) + views.get(Traffic.BOT, 0)


def _bot_share(views: dict[str, int]) -> float | None:
    people_and_bots = _judged_views(views)
    return views.get(Traffic.BOT, 0) / people_and_bots if people_and_bots else None


def experiment_results_inputs(*, experiment_ids: Collection[int]) -> dict[int, str]:
    """A fingerprint of what each experiment's results are computed from, which changes whenever
    a rollup changes them (two queries, whatever the traffic; the worker's, not a reader's).

    The results read the exposures (confirmed people, sign-ups, clicks, pre-orders, people not
    confirmed yet) and the people's and bots' views. The worker changes an exposure only with an
    event of a person in the experiment: a person confirmed or a sign-up moves the variant's
    `people` or `converted`, a new person who has not run the page's script yet is a view, a
    first click or pre-order adds a click or a pre-order, all three in the people's rollups. So
    the variants' counters and the people's views, clicks and pre-orders and the bots' views
    change exactly when the results' inputs do; the founder's views are left out, as the
    results leave them out. Every one of them only grows: a fingerprint never comes back."""
    ids = set(experiment_ids)
    parts: dict[int, list[tuple[Any, ...]]] = {i: [] for i in ids}
    for experiment_id, key, people, converted in (
        Variant.objects.filter(experiment_id__in=ids)
        .order_by("experiment_id", "key")
        .values_list("experiment_id", "key", "people", "converted")
    ):
        parts[experiment_id].append((key, people, converted))
    for row in (
        DailyRollup.objects.filter(experiment_id__in=ids, traffic__in=(Traffic.HUMAN, Traffic.BOT))
        .values("experiment_id", "traffic")
        .annotate(views=Sum("views"), clicks=Sum("cta_clicks"), preorders=Sum("preorders"))
        .order_by("experiment_id", "traffic")
    ):
        parts[row["experiment_id"]].append((row["traffic"], row["views"], row["clicks"], row["preorders"]))
    return {i: hashlib.blake2b(repr(rows).encode(), digest_size=12).hexdigest() for i, rows in parts.items()}


def experiment_results(*, experiment: Experiment) -> dict[str, Any]:
    """Per-variant figures and the statistics (`projects.analysis`) from the exposures the worker
    wrote, cached under the experiment's namespaces: its own (bumped by its edits) and its data's
    (bumped by the worker when a rollup changed what the results are computed from, see
    `experiment_results_inputs`), so a rollup that changes nothing of them keeps them. Only
    confirmed people count: known bots, the founder's previews and visitors that neither ran the
    page's script nor interacted are left out."""

    def compute() -> dict[str, Any]:
        now = timezone.now()
        variants = list(experiment.variants.all())
        counts = {
            row["variant"]: row
            for row in ExperimentExposure.objects.filter(experiment=experiment)
            .values("variant")
            .annotate(
                visitors=Count("id", filter=Q(confirmed=True)),
                unconfirmed=Count("id", filter=Q(confirmed=False)),
                signups=Count("id", filter=Q(confirmed=True, signed_up=True)),
                clicks=Count("id", filter=Q(confirmed=True, clicked=True)),
                preorders=Count("id", filter=Q(confirmed=True, preordered=True)),
            )
            .order_by()
        }
        empty = {"visitors": 0, "unconfirmed": 0, "signups": 0, "clicks": 0, "preorders": 0}
        arms = [
            Arm(
                key=v.key,
                weight=float(v.weight),
                visitors=counts.get(v.key, empty)["visitors"],
                conversions=counts.get(v.key, empty)["signups"],
                is_control=v.is_control,
            )
            for v in variants
        ]
        days = round(_days_running(experiment, now), 4)  # as shown: the statistics use the figure printed
        total = sum(a.visitors for a in arms)
        analysis = analyse(
            arms,
            days_running=days,
            visitors_per_day=total / days if days >= 1 else None,
            mde_relative=float(experiment.minimum_detectable_effect),
        ).to_dict()
        shares = _traffic_shares([experiment.pk])[experiment.pk]
        bot_share = _bot_share(shares)
        quality = traffic_quality(bot_share=bot_share, views=_judged_views(shares))
        too_many_bots = quality.status == UNHEALTHY
        secondary = {
            v.key: {
                "cta_clicks": counts.get(v.key, empty)["clicks"],
                "preorders": counts.get(v.key, empty)["preorders"],
                "unconfirmed_visitors": counts.get(v.key, empty)["unconfirmed"],
            }
            for v in variants
        }
        health = {
            "srm": analysis.get("srm"),
            "bot_share": round(bot_share, 6) if bot_share is not None else None,
            "bot_share_limit": BOT_SHARE_LIMIT,
            "too_many_bots": too_many_bots,
            "traffic_quality": quality.to_dict(),
        }
        decision = analysis.get("decision", {})
        if too_many_bots:
            decision = {
                **decision,
                "status": "unhealthy",
                "winner": None,
                "reason": f"{bot_share:.0%} of the views are known bots (over {BOT_SHARE_LIMIT:.0%}): "
                "the figures may not describe people; no verdict.",
            }
        return {
            "experiment_id": experiment.pk,
            "name": experiment.name,
            "status": experiment.status,
            "started_at": experiment.started_at,
            "days_running": days,
            "metric": "signup",
            **analysis,
            "decision": decision,
            "health": health,
            "secondary": secondary,
            "computed_at": now,
        }

    namespaces = [keys.experiment_ns(experiment.pk), keys.experiment_data_ns(experiment.pk)]
    return app_cache.get_or_set(app_cache.ANALYTICS, ("results", experiment.pk), compute, namespaces=namespaces)


def running_experiments(*, limit: int = 20, project: Project | None = None) -> list[dict[str, Any]]:
    """The running experiments (of one project, or all for the staff dashboard) with their
    health: SRM from the variants' people counts (kept by the worker), bot share from the
    rollups. Three queries, whether none or many are running (each filters on the running status
    rather than on a list of ids, which an empty list would skip)."""
    scope = Q(status=ExperimentStatus.RUNNING) & (Q(page__project=project) if project else Q())
    experiments = list(Experiment.objects.filter(scope).select_related("page").order_by("started_at", "id")[:limit])
    variants: dict[int, list[Variant]] = {}
    for variant in Variant.objects.filter(experiment__in=Experiment.objects.filter(scope)).order_by("position", "id"):
        variants.setdefault(variant.experiment_id, []).append(variant)
    views: dict[int, dict[str, int]] = {}
    for row in (
        DailyRollup.objects.filter(experiment__in=Experiment.objects.filter(scope))
        .values("experiment_id", "traffic")
        .annotate(views=Sum("views"))
        .order_by()
    ):
        views.setdefault(row["experiment_id"], {})[row["traffic"]] = row["views"] or 0
    now = timezone.now()
    out = []
    for experiment in experiments:
        arms = variants.get(experiment.pk, [])
        observed = [v.people for v in arms]
        _, p_value = srm_test(observed, [float(v.weight) for v in arms]) if arms else (0.0, 1.0)
        bot_share = _bot_share(views.get(experiment.pk, {}))
        srm = p_value < SRM_ALPHA
        judged = _judged_views(views.get(experiment.pk, {}))
        bots = traffic_quality(bot_share=bot_share, views=judged).status == UNHEALTHY
        out.append(
            {
                "id": experiment.pk,
                "name": experiment.name,
                "page_slug": experiment.page.slug,
                "days_running": round(_days_running(experiment, now), 1),
                "visitors": sum(observed),
                "split": dict(zip([v.key for v in arms], observed, strict=True)),
                "srm_p": p_value,
                "bot_share": bot_share,
                "unhealthy": srm or bots,
                "flags": [f for f, on in (("sample ratio mismatch", srm), ("bot share", bots)) if on],
            }
        )
    return out


# --- The founder's experiment screens ------------------------------------------------------------

# The days of rollups the planner reads for a page's current traffic and sign-up rate.
PLANNER_DAYS = 14


def experiment_pages(*, project: Project) -> QuerySet[LandingPage]:
    """The project's pages an experiment can run on (drafts and published ones), each with its
    number of page variants (`variant_count`): one query."""
    return (
        LandingPage.objects.filter(project=project, status__in=(PageStatus.DRAFT, PageStatus.PUBLISHED))
        .annotate(variant_count=Count("variants"))
        .order_by("-created_at", "-id")
    )


def experiment_newest_page_pk(*, project: Project) -> int | None:
    """The newest page of the project an experiment can run on that has page variants."""
    pages = LandingPage.objects.filter(
        project=project, status__in=(PageStatus.DRAFT, PageStatus.PUBLISHED), variants__isnull=False
    )
    return pages.order_by("-created_at", "-id").values_list("pk", flat=True).first()


def experiment_page_get(*, project: Project, pk: int) -> LandingPage:
    """One of the project's pages an experiment can run on, with its page variants prefetched;
    404 for any other page (another project's, an archived one)."""
    pages = LandingPage.objects.filter(project=project, status__in=(PageStatus.DRAFT, PageStatus.PUBLISHED))
    page = get_object_or_404(pages.prefetch_related("variants"), pk=pk)
    page.project = project  # the caller's (owner-checked) copy
    return page


@dataclass(frozen=True)
class PageTraffic:
    """A page's people over the last days of rollups (bots and the founder's own visits left out)."""

    visitors: int
    signups: int
    days: int  # the days the figures cover: PLANNER_DAYS, or fewer for a page live since less long

    @property
    def rate(self) -> float | None:
        return self.signups / self.visitors if self.visitors and self.signups else None

    @property
    def per_day(self) -> float:
        return self.visitors / self.days if self.days else 0.0


def page_traffic(*, page: LandingPage, today: date | None = None) -> PageTraffic:
    """Visitors and sign-ups of the page's people over the last PLANNER_DAYS days (one query)."""
    today = today or timezone.localdate()
    since = today - timedelta(days=PLANNER_DAYS - 1)
    row = DailyRollup.objects.filter(page=page, day__gte=since, day__lte=today, traffic=Traffic.HUMAN).aggregate(
        visitors=Sum("visitors"), signups=Sum("signed_up_visitors"), first=Min("day")
    )
    first = row["first"]
    days = (today - first).days + 1 if first else 0
    return PageTraffic(visitors=row["visitors"] or 0, signups=row["signups"] or 0, days=days)


# The sign-up rate the planner assumes for a page with no test card and no sign-ups yet.
DEFAULT_BAR_KEY = "signup_bar.direct"


@dataclass(frozen=True)
class PlannerFigures:
    plan: Plan | None  # None: no rate can be planned (a lift past 100 %)
    traffic: PageTraffic
    rate: float
    # Where the rate comes from: "traffic" (the page's own), "test_card" or "default".
    rate_source: str
    error: str = ""


def _bar_rate(project: Project) -> tuple[float, str]:
    """The test card's sign-up bar (its override, or the benchmark of its channel), else the
    benchmark for direct visitors."""
    card = TestCard.objects.filter(project=project).only("channel", "overrides").first()
    if card is not None:
        override = (card.overrides or {}).get("signup_bar")
        if isinstance(override, int | float) and 0 < override < 1:
            return float(override), "test_card"
        if card.channel in CHANNELS:
            return value_of(f"signup_bar.{card.channel}"), "test_card"
    return value_of(DEFAULT_BAR_KEY), "default"


def experiment_planner(
    *, page: LandingPage, mde_relative: float, coverage: float, arms: int, today: date | None = None
) -> PlannerFigures:
    """The planner shown before an experiment starts: the visitors it needs for the lift the
    founder hopes to detect, and the days at the page's current traffic (two queries at most)."""
    traffic = page_traffic(page=page, today=today)
    if traffic.rate is not None:
        rate, source = traffic.rate, "traffic"
    else:
        rate, source = _bar_rate(page.project)
    try:
        plan = plan_experiment(
            baseline_rate=rate,
            mde_relative=mde_relative,
            arms=arms,
            coverage=coverage,
            visitors_per_day=traffic.per_day,
        )
    except ValueError as exc:
        return PlannerFigures(plan=None, traffic=traffic, rate=rate, rate_source=source, error=str(exc))
    if plan.per_arm is None:
        error = f"A lift of {mde_relative:.0%} on a {rate:.1%} sign-up rate would pass 100%: choose a smaller lift."
        return PlannerFigures(plan=None, traffic=traffic, rate=rate, rate_source=source, error=error)
    return PlannerFigures(plan=plan, traffic=traffic, rate=rate, rate_source=source)
