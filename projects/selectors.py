"""Reads of the projects domain. Every object a user reaches goes through an owner-scoped
queryset, so another user's id answers 404 (never 403: ids cannot be probed)."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from mvpvalidator import cache as app_cache
from mvpvalidator.exceptions import ConflictError
from projects import cache as keys
from projects import stats, tracking
from projects.models import (
    Campaign,
    CampaignSpend,
    CtaKind,
    DailyRollup,
    Event,
    EventKind,
    Experiment,
    ExperimentExposure,
    ExperimentStatus,
    LandingPage,
    PageStatus,
    Project,
    Prototype,
    ReportSnapshot,
    Signup,
    TestCard,
    Traffic,
    Variant,
)
from security.models import User


def project_qs_for_user(*, user: User) -> QuerySet[Project]:
    return Project.objects.for_owner(user)


def project_list(*, user: User, status: str | None = None) -> QuerySet[Project]:
    qs = project_qs_for_user(user=user)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def project_get(*, user: User, pk: int) -> Project:
    return get_object_or_404(project_qs_for_user(user=user), pk=pk)


@dataclass(frozen=True)
class ProjectPage:
    count: int
    items: list[Project]


def project_list_page(*, user: User, status: str | None, limit: int, offset: int) -> ProjectPage:
    """One page of the owner's list, cached under the owner's namespaces (any project write
    of theirs bumps it)."""

    def compute() -> ProjectPage:
        qs = project_list(user=user, status=status)
        return ProjectPage(count=qs.count(), items=list(qs[offset : offset + limit]))

    return app_cache.get_or_set(
        app_cache.PROJECT_LIST,
        ("list", user.pk, status or "", limit, offset),
        compute,
        namespaces=keys.list_namespaces(user_id=user.pk),
    )


def _landing_pages_with_counts() -> QuerySet[LandingPage]:
    return LandingPage.objects.annotate(
        signup_count=Count("signups"),
        confirmed_count=Count(
            "signups", filter=Q(signups__confirmed_at__isnull=False, signups__unsubscribed_at__isnull=True)
        ),
    ).order_by("-created_at", "-id")


def project_detail(*, user: User, pk: int) -> Project:
    """The project with its current prototype and its pages with signup counts: three
    queries however many prototypes, pages and signups it has."""
    qs = project_qs_for_user(user=user).prefetch_related(
        Prefetch("prototypes", queryset=Prototype.objects.filter(is_current=True), to_attr="current_prototypes"),
        Prefetch("landing_pages", queryset=_landing_pages_with_counts(), to_attr="pages_with_counts"),
    )
    return get_object_or_404(qs, pk=pk)


def project_detail_data(*, user: User, pk: int, represent: Callable[[Project], dict[str, Any]]) -> dict[str, Any]:
    """The project's detail as `represent` shapes it (the API's serializer), cached under the
    owner's and the project's namespaces. The representation is cached rather than the model,
    so a hit costs neither queries nor serialisation. A missing or foreign project raises 404
    and is not cached."""
    return app_cache.get_or_set(
        app_cache.PROJECT,
        ("detail", pk, user.pk),
        lambda: represent(project_detail(user=user, pk=pk)),
        namespaces=keys.detail_namespaces(user_id=user.pk, project_id=pk),
    )


def prototype_list(*, project: Project) -> QuerySet[Prototype]:
    return project.prototypes.order_by("-version")


def prototype_current(*, project: Project) -> Prototype | None:
    return project.prototypes.filter(is_current=True).first()


def landing_page_qs_for_user(*, user: User) -> QuerySet[LandingPage]:
    return LandingPage.objects.filter(project__owner=user).select_related("project")


def landing_page_get(*, user: User, pk: int) -> LandingPage:
    return get_object_or_404(landing_page_qs_for_user(user=user), pk=pk)


def landing_page_of_project(*, project: Project, pk: int) -> LandingPage:
    """One of the project's pages; a 400 (field error) rather than a 404 when it is not, since
    the id came in a request body."""
    page = LandingPage.objects.filter(project=project, pk=pk).select_related("project").first()
    if page is None:
        raise ValidationError({"landing_page_id": ["No landing page of this project has this id."]})
    return page


def landing_page_list(*, project: Project) -> QuerySet[LandingPage]:
    return _landing_pages_with_counts().filter(project=project)


@dataclass(frozen=True)
class LiveVariant:
    key: str
    weight: int
    is_control: bool
    headline: str
    subheadline: str
    cta_text: str
    preorder_price: Decimal | None


@dataclass(frozen=True)
class LiveExperiment:
    """The running experiment of a public page: what assignment and rendering need."""

    id: int
    seed: str
    coverage: float
    variants: tuple[LiveVariant, ...]

    def variant_for(self, visitor: str) -> LiveVariant | None:
        index = tracking.assign(
            visitor, seed=self.seed, coverage=self.coverage, weights=[v.weight for v in self.variants]
        )
        return None if index is None else self.variants[index]


def _live_experiment(page: LandingPage) -> LiveExperiment | None:
    experiment = (
        Experiment.objects.filter(page=page, status=ExperimentStatus.RUNNING).prefetch_related("variants").first()
    )
    if experiment is None:
        return None
    return LiveExperiment(
        id=experiment.pk,
        seed=experiment.seed,
        coverage=float(experiment.coverage),
        variants=tuple(
            LiveVariant(v.key, v.weight, v.is_control, v.headline, v.subheadline, v.cta_text, v.preorder_price)
            for v in experiment.variants.all()
        ),
    )


# How late a public page may show a change made through another process: its namespace's
# generation is re-read from Redis at most this often per process, so a busy page costs no
# round trip for it (the process that made the change shows it at once).
PUBLIC_PAGE_MAX_AGE_SECONDS = 1.0


@dataclass(frozen=True)
class PublicPage:
    """What /p/<slug>/ serves, as one cache entry: the page, its running experiment, and the
    page rendered once per variant (key "" for the page's own copy), with slots for what differs
    per request (`SLOT_*`)."""

    page: LandingPage
    experiment: LiveExperiment | None
    html: dict[str, str]
    path: str  # /p/<slug>/

    def assignment(self, visitor: str) -> tuple[int | None, LiveVariant | None]:
        """(experiment id, variant) of a visitor; (None, None) outside any experiment."""
        if self.experiment is None:
            return None, None
        variant = self.experiment.variant_for(visitor)
        return (self.experiment.id, variant) if variant is not None else (None, None)


def public_page(*, slug: str) -> PublicPage:
    """The public page at /p/<slug>/ (drafts and archived pages do not exist for the public),
    cached under the page's namespace, which every change of the page or of its experiments
    bumps: the hot path costs one cache read, no query and no template rendering."""

    def compute() -> PublicPage:
        page = get_object_or_404(
            LandingPage.objects.select_related("project"), slug__iexact=slug, status=PageStatus.PUBLISHED
        )
        experiment = _live_experiment(page)
        variants = [None, *(experiment.variants if experiment else ())]
        return PublicPage(
            page=page,
            experiment=experiment,
            html={(v.key if v else ""): _render_landing(page, v) for v in variants},
            path=reverse("public:landing", kwargs={"slug": page.slug}),
        )

    return app_cache.get_or_set(
        app_cache.PAGE,
        ("public", slug.lower()),
        compute,
        namespaces=[keys.page_ns(slug)],
        max_age=PUBLIC_PAGE_MAX_AGE_SECONDS,
    )


def landing_page_get_published(*, slug: str) -> LandingPage:
    return public_page(slug=slug).page


# Stand-ins for what differs per request in a cached landing page (filled in by the view).
SLOT_TOKEN = "mvp-slot-token-4f1c9a"  # noqa: S105 - a placeholder, not a secret
SLOT_HIDDEN = "mvp-slot-hidden-4f1c9a"


def page_content(page: LandingPage, variant: LiveVariant | None) -> dict[str, Any]:
    """The copy a visitor sees: the page's, with the variant's overrides."""
    content = {
        "headline": page.headline,
        "subheadline": page.subheadline,
        "cta_text": page.cta_text,
        "preorder_price": page.preorder_price,
    }
    if variant is not None:
        for name in content:
            value = getattr(variant, name)
            if value not in ("", None):
                content[name] = value
    return content


def _render_landing(page: LandingPage, variant: LiveVariant | None) -> str:
    from projects.forms import SignupForm

    return render_to_string(
        "projects/landing.html",
        {
            "page": page,
            "content": page_content(page, variant),
            "form": SignupForm(),
            "form_token": SLOT_TOKEN,
            "hidden_inputs": mark_safe(SLOT_HIDDEN),  # noqa: S308 - a constant, replaced by escaped inputs
        },
    )


def signup_list(*, project: Project) -> QuerySet[Signup]:
    """Newest first, each with `landing_page_slug`: the one field of its page a list shows (a
    joined page would bring its whole content, copy and styles, once per row)."""
    return (
        Signup.objects.filter(project=project)
        .annotate(landing_page_slug=F("landing_page__slug"))
        .order_by("-created_at", "-id")
    )


def signup_export_rows(*, project: Project, chunk_size: int = 2000) -> Iterator[Signup]:
    """All signups for a CSV export, streamed from the database in chunks."""
    return signup_list(project=project).iterator(chunk_size=chunk_size)


# --- Experiments and analytics ---------------------------------------------------------------

# An experiment whose traffic is more than this share known bots is flagged unhealthy (its
# visitors may not be the people the founder wants to hear from).
BOT_SHARE_LIMIT = 0.30
# Monte Carlo draws for "chance to be best" with more than two variants: a standard error under
# 0.003, for about 0.1 s of CPU per variant (the results are cached until new events roll up).
RESULTS_MC_DRAWS = 50_000


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


def _bot_share(views: dict[str, int]) -> float | None:
    people_and_bots = views.get(Traffic.HUMAN, 0) + views.get(Traffic.BOT, 0)
    return views.get(Traffic.BOT, 0) / people_and_bots if people_and_bots else None


def experiment_results(*, experiment: Experiment) -> dict[str, Any]:
    """Per-variant figures and the statistics (`projects.stats`) from the exposures the worker
    wrote, cached under the experiment's namespace (the worker bumps it after each rollup that
    touches the experiment). Only confirmed people count: known bots, the founder's previews and
    visitors that neither ran the page's script nor interacted are left out."""

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
            stats.Arm(
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
        analysis = stats.analyse(
            arms,
            days_running=days,
            visitors_per_day=total / days if days >= 1 else None,
            mde_relative=float(experiment.minimum_detectable_effect),
            draws=RESULTS_MC_DRAWS,
        ).to_dict()
        bot_share = _bot_share(_traffic_shares([experiment.pk])[experiment.pk])
        too_many_bots = bot_share is not None and bot_share > BOT_SHARE_LIMIT
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

    return app_cache.get_or_set(
        app_cache.ANALYTICS, ("results", experiment.pk), compute, namespaces=[keys.experiment_ns(experiment.pk)]
    )


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
        _, p_value = stats.srm_test(observed, [float(v.weight) for v in arms]) if arms else (0.0, 1.0)
        bot_share = _bot_share(views.get(experiment.pk, {}))
        srm = p_value < stats.SRM_ALPHA
        bots = bot_share is not None and bot_share > BOT_SHARE_LIMIT
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


GROUPINGS = ("day", "variant", "channel")
ANALYTICS_FIGURES = ("views", "visitors", "cta_clicks", "signups", "preorders", "bounces")


def _rates(row: dict[str, Any]) -> dict[str, Any]:
    visitors = row["visitors"]

    def rate(n: int) -> float | None:
        return round(n / visitors, 6) if visitors else None

    return {
        **{name: row[name] for name in ANALYTICS_FIGURES},
        "bounce_rate": rate(row["bounces"]),
        "click_rate": rate(row["cta_clicks"]),
        "signup_rate": rate(row["signups"]),
        "preorder_rate": rate(row["preorders"]),
    }


def _group_key(group_by: str, row: dict[str, Any]) -> tuple[Any, ...]:
    """The group of a row, in the order groups are listed. Variants are grouped per experiment:
    one page's successive experiments reuse keys ("control", "b"), which are different arms."""
    if group_by == "day":
        return (row["day"].isoformat(),)
    if group_by == "variant":
        return (row["experiment_id"] or 0, row["variant"] or "(none)")
    return (row["channel"],)


def _group_fields(group_by: str, key: tuple[Any, ...]) -> dict[str, Any]:
    if group_by == "variant":
        return {"experiment_id": key[0] or None, "variant": key[1]}
    return {group_by: key[0]}


def project_analytics(*, project: Project, since: date, until: date, group_by: str) -> dict[str, Any]:
    """The funnel of a project's pages between two days (inclusive), grouped by day, variant or
    channel: the daily rollups (cached until the worker bumps them) plus what is still waiting to
    be rolled up, computed the worker's way, so the figures are live. People only; known bots and
    the founder's previews are counted apart."""
    from projects import rollups

    page_ids = list(LandingPage.objects.filter(project=project).values_list("pk", flat=True))

    def flushed() -> list[dict[str, Any]]:
        return list(
            DailyRollup.objects.filter(page_id__in=page_ids, day__gte=since, day__lte=until)
            .values("day", "experiment_id", "variant", "channel", "traffic")
            .annotate(**{name: Sum(name) for name in ANALYTICS_FIGURES})
            .order_by()
        )

    rows = list(
        app_cache.get_or_set(
            app_cache.ANALYTICS,
            ("funnel", project.pk, since.isoformat(), until.isoformat()),
            flushed,
            namespaces=[keys.project_ns(project.pk), *(keys.analytics_ns(p) for p in page_ids)],
        )
    )  # a copy: the live rows are added to it
    # Live: rows not rolled up yet and the buffer not moved into rows yet. An entry stays in the
    # buffer until its row is committed, so the buffer is read first and the rows after it, in one
    # query with the rows of the buffered events: an event the worker moves into a row in between
    # is found once (as a row), never missed; the query count does not depend on the buffer.
    buffered = rollups.buffered_events(page_ids)
    in_db = Q(page_id__in=page_ids, rolled_up=False, day__gte=since, day__lte=until)
    if buffered:
        in_db |= Q(key__in=[e.id for e in buffered])
    # Bounded: with a backlog beyond EVENT_LIVE_MAX the live part is that many rows, a lower
    # bound (said in the answer), and the buffer is left out rather than risk counting twice.
    rows_in_db = list(Event.objects.filter(in_db).order_by("id")[: settings.EVENT_LIVE_MAX + 1])
    partial = len(rows_in_db) > settings.EVENT_LIVE_MAX
    if partial:
        rows_in_db, buffered = rows_in_db[: settings.EVENT_LIVE_MAX], []
    in_rows = {e.key for e in rows_in_db}
    waiting = [e for e in rows_in_db if not e.rolled_up and since <= e.day <= until]
    for event in buffered:
        fields = event.model_fields()
        if event.id not in in_rows and since <= fields["day"] <= until:
            waiting.append(Event(key=event.id, **fields))
    contribution = rollups.pending_contribution(waiting)
    for (_page, day, experiment_id, variant, channel, traffic), adds in contribution.rows.items():
        rows.append(
            {"day": day, "experiment_id": experiment_id, "variant": variant, "channel": channel, "traffic": traffic,
             **adds}
        )  # fmt: skip

    groups: dict[tuple[Any, ...], dict[str, int]] = {}
    totals = dict.fromkeys(ANALYTICS_FIGURES, 0)
    excluded = {"bot_views": 0, "founder_views": 0}
    for row in rows:
        if row["traffic"] == Traffic.BOT:
            excluded["bot_views"] += row["views"] or 0
            continue
        if row["traffic"] == Traffic.FOUNDER:
            excluded["founder_views"] += row["views"] or 0
            continue
        group = groups.setdefault(_group_key(group_by, row), dict.fromkeys(ANALYTICS_FIGURES, 0))
        for name in ANALYTICS_FIGURES:
            group[name] += row[name] or 0
            totals[name] += row[name] or 0
    return {
        "project_id": project.pk,
        "project_name": project.name,
        "from": since,
        "to": until,
        "group_by": group_by,
        "rows": [{**_group_fields(group_by, key), **_rates(figures)} for key, figures in sorted(groups.items())],
        "totals": _rates(totals),
        "excluded": excluded,
        "live": {"events_not_rolled_up": len(waiting), "partial": partial},
    }


# --- Campaigns -------------------------------------------------------------------------------


def campaign_qs_for_user(*, user: User) -> QuerySet[Campaign]:
    return Campaign.objects.filter(project__owner=user).select_related("project")


def campaign_get(*, user: User, pk: int) -> Campaign:
    return get_object_or_404(campaign_qs_for_user(user=user), pk=pk)


def campaign_list(*, project: Project) -> QuerySet[Campaign]:
    return Campaign.objects.filter(project=project).order_by("-created_at", "-id")


def spend_list(*, campaign: Campaign) -> QuerySet[CampaignSpend]:
    return CampaignSpend.objects.filter(campaign=campaign).order_by("date")


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(Decimal("0.01")))


def campaign_summary(*, campaign: Campaign) -> dict[str, Any]:
    """Spend against what arrived with the campaign's tag (first touch: the UTM tags of the page
    view that brought the visitor, which the signup form carries along): cost per click, per
    signup and per pre-order. Three queries."""
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

    def per(n: int) -> str | None:
        return _money(spend / n) if n else None

    return {
        "spend": _money(spend),
        "budget": _money(campaign.budget),
        "budget_left": _money(max(campaign.budget - spend, Decimal(0))),
        "days_with_spend": totals["days"],
        "impressions": totals["impressions"] or 0,
        "clicks": clicks,
        "signups": signups,
        "preorders": preorders,
        "cost_per_click": per(clicks),
        "cost_per_signup": per(signups),
        "cost_per_preorder": per(preorders),
    }


# --- The validation report ---------------------------------------------------------------------

# People who did not know the page: their signups can validate demand. Email (the founder's own
# list) and referrals are warm: shown, never validating on their own.
COLD_CHANNELS = ("paid", "search", "social", "direct")
SOCIAL_PLATFORMS = frozenset({"meta", "reddit", "linkedin"})


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
    platforms = frozenset(Campaign.objects.filter(project=project).values_list("platform", flat=True))
    return _Spend(float(totals["spend"] or 0), totals["clicks"] or None, platforms)


def _test_card(project: Project, *, by: dict[tuple[str, str], dict[str, Any]], spend: _Spend) -> dict[str, Any]:
    """The project's test card as `projects.demand` builds it: the stored one (channel, expected
    cost per click, bars) with, where it leaves them open, the main cold channel and the
    observed cost per click. `card` is the demand.TestCard, `stored` the row (or None)."""
    from projects import demand

    if project.price_point <= 0:
        raise ConflictError(
            "A demand report needs a price above 0: the unit economics are judged against it.", code="no_price"
        )
    cold = {c: (by.get((c, Traffic.HUMAN)) or {}).get("visitors") or 0 for c in COLD_CHANNELS}
    main = max(cold, key=lambda c: cold[c]) if any(cold.values()) else ("paid" if spend.platforms else "direct")
    traffic_channel = {
        "paid": "paid_social" if spend.platforms and spend.platforms <= SOCIAL_PLATFORMS else "paid_search",
        "search": "search",
        "social": "social",
        "direct": "direct",
    }[main]
    stored = TestCard.objects.filter(project=project).first()
    observed_cpc = spend.spent / spend.clicks if spend.clicks else None
    card = demand.build_test_card(
        idea=project.name,
        channel=(stored.channel if stored else "") or traffic_channel,
        price=float(project.price_point),
        currency=project.currency,
        business_model=project.business_model,
        expected_cpc=float(stored.expected_cpc) if stored and stored.expected_cpc else observed_cpc,
        overrides=stored.overrides if stored else None,
    )
    return {"card": card, "stored": stored}


def _card_dict(built: dict[str, Any]) -> dict[str, Any]:
    stored = built["stored"]
    return {
        **built["card"].to_dict(),
        "written_at": stored.written_at if stored else None,
        "locked_at": stored.locked_at if stored else None,
    }


def project_test_card(*, project: Project) -> dict[str, Any]:
    """The test card the report judges against (without computing the report)."""
    page_ids = list(LandingPage.objects.filter(project=project).values_list("pk", flat=True))
    return _card_dict(_test_card(project, by=_rollups_by_channel(page_ids), spend=_spend(project)))


def project_report(*, project: Project) -> dict[str, Any]:
    """The demand score and verdict of a project (`projects.demand`) from its pages' rollups, its
    signups, its campaigns' spend and its experiments' health. Live; a handful of queries."""
    from projects import demand

    pages = list(LandingPage.objects.filter(project=project).values("pk", "published_at", "double_opt_in", "cta_kind"))
    page_ids = [p["pk"] for p in pages]
    launched = min((p["published_at"] for p in pages if p["published_at"]), default=None)
    now = timezone.now()
    by = _rollups_by_channel(page_ids)

    def total(channels: tuple[str, ...], field: str) -> int:
        return sum((by.get((c, Traffic.HUMAN)) or {}).get(field) or 0 for c in channels)

    spend = _spend(project)
    built = _test_card(project, by=by, spend=spend)
    confirmed = Signup.objects.filter(project=project, confirmed_at__isnull=False, unsubscribed_at__isnull=True).count()
    cold_signups = total(COLD_CHANNELS, "signups")
    bots = sum((r.get("views") or 0) for (_, t), r in by.items() if t == Traffic.BOT)
    people = sum((r.get("views") or 0) for (_, t), r in by.items() if t == Traffic.HUMAN)
    srm = any("sample ratio mismatch" in e["flags"] for e in running_experiments(limit=1000, project=project))
    inputs = demand.Inputs(
        days=(now - launched).total_seconds() / 86400 if launched else 0.0,
        visitors=total(COLD_CHANNELS, "visitors"),
        signups=cold_signups,
        confirmed=min(confirmed, cold_signups) if any(p["double_opt_in"] for p in pages) else None,
        preorders=total(COLD_CHANNELS, "preorders") if any(p["cta_kind"] == CtaKind.PREORDER for p in pages) else None,
        warm_visitors=total(("email", "referral"), "visitors"),
        warm_signups=total(("email", "referral"), "signups"),
        referred_visitors=total(("referral",), "visitors"),
        spend=spend.spent,
        clicks=spend.clicks,
        srm_unhealthy=srm,
        bot_share=bots / (bots + people) if bots + people else 0.0,
    )
    verdict = demand.score(built["card"], inputs)
    return {
        "project_id": project.pk,
        "project_name": project.name,
        "computed_at": now,
        "test_card": _card_dict(built),
        "inputs": {name: getattr(inputs, name) for name in inputs.__dataclass_fields__},
        **verdict.to_dict(),
    }


def project_daily(*, project: Project) -> list[dict[str, Any]]:
    """People's traffic and the spend per day since launch, oldest first (the report's table,
    charts and CSV export). Two queries."""
    rows: dict[date, dict[str, Any]] = {}
    for row in (
        DailyRollup.objects.filter(page__project=project, traffic=Traffic.HUMAN)
        .values("day")
        .annotate(views=Sum("views"), visitors=Sum("visitors"), signups=Sum("signups"), preorders=Sum("preorders"))
        .order_by("day")
    ):
        rows[row["day"]] = {**row, "spend": Decimal(0), "clicks": 0}
    for row in (
        CampaignSpend.objects.filter(campaign__project=project)
        .values("date")
        .annotate(spend=Sum("spend"), clicks=Sum("clicks"))
        .order_by("date")
    ):
        day = rows.setdefault(
            row["date"], {"day": row["date"], "views": 0, "visitors": 0, "signups": 0, "preorders": 0}
        )
        day["spend"], day["clicks"] = row["spend"] or Decimal(0), row["clicks"] or 0
    return [rows[day] for day in sorted(rows)]


def report_snapshots(*, project: Project) -> QuerySet[ReportSnapshot]:
    return ReportSnapshot.objects.filter(project=project).order_by("-created_at", "-id")
