"""Reads of projects. Every object a user reaches goes through an owner-scoped queryset, so
another user's id answers 404 (never 403: ids cannot be probed)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from mvpvalidator import cache as app_cache
from projects import cache as keys
from projects.models import (
    DailyRollup,
    LandingPage,
    PageStatus,
    Project,
    ProjectStatus,
    Prototype,
    ReportSnapshot,
    Signup,
    Traffic,
)
from projects.selectors.pages import landing_page_list, landing_pages_with_counts
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


def project_detail(*, user: User, pk: int) -> Project:
    """The project with its current prototype and its pages with signup counts: three
    queries however many prototypes, pages and signups it has."""
    qs = project_qs_for_user(user=user).prefetch_related(
        Prefetch("prototypes", queryset=Prototype.objects.filter(is_current=True), to_attr="current_prototypes"),
        Prefetch("landing_pages", queryset=landing_pages_with_counts(), to_attr="pages_with_counts"),
    )
    return get_object_or_404(qs, pk=pk)


def project_detail_json(*, user: User, pk: int, render: Callable[[Project], bytes]) -> bytes:
    """The project's detail as `render` writes it (the API's JSON body), cached under the owner's
    and the project's namespaces. The body itself is cached, so a hit costs neither queries nor
    serialisation nor rendering, and the in-process tier shares nothing mutable between requests.
    A missing or foreign project raises 404 and is not cached."""
    return app_cache.get_or_set(
        app_cache.PROJECT,
        keys.detail_json_parts(user_id=user.pk, project_id=pk),
        lambda: render(project_detail(user=user, pk=pk)),
        namespaces=keys.detail_namespaces(user_id=user.pk, project_id=pk),
    )


# The days "this week" covers on the founder's home: today and the six before it.
WEEK_DAYS = 7

# How each verdict reads on a badge: (label, tone). A project without one, or whose report still
# lacks the data, is "not enough data yet".
VERDICT_BADGES: dict[str, tuple[str, str]] = {
    "validated": ("Validated", "ok"),
    "inconclusive": ("Inconclusive", "warn"),
    "not validated": ("Not validated", "bad"),
    "unhealthy": ("Traffic needs a look", "bad"),
}
NO_VERDICT_BADGE = ("Not enough data yet", "neutral")

STATUS_TONES: dict[str, str] = {
    ProjectStatus.DRAFT: "neutral",
    ProjectStatus.PROTOTYPE_READY: "warn",
    ProjectStatus.LIVE: "ok",
    ProjectStatus.COMPLETED: "ok",
    ProjectStatus.ARCHIVED: "neutral",
}


@dataclass(frozen=True)
class ProjectSummary:
    """One project as the founder's home and its hub show it."""

    project: Project
    live_pages: int
    visitors_week: int
    signups_week: int
    verdict: str  # "" when there is none yet
    has_prototype: bool

    @property
    def status_tone(self) -> str:
        return STATUS_TONES.get(self.project.status, "neutral")

    @property
    def verdict_label(self) -> str:
        return VERDICT_BADGES.get(self.verdict, NO_VERDICT_BADGE)[0]

    @property
    def verdict_tone(self) -> str:
        return VERDICT_BADGES.get(self.verdict, NO_VERDICT_BADGE)[1]


def week_start(today: date | None = None) -> date:
    return (today or timezone.localdate()) - timedelta(days=WEEK_DAYS - 1)


def _week_sum(field: str, since: date) -> Coalesce:
    """People's `field` over the project's pages since `since`, from the daily rollups (known bots
    and the founder's own previews are not counted, as in the report)."""
    rollups = (
        DailyRollup.objects.filter(page__project=OuterRef("pk"), traffic=Traffic.HUMAN, day__gte=since)
        .order_by()
        .values("page__project")
        .annotate(total=Sum(field))
        .values("total")
    )
    return Coalesce(Subquery(rollups, output_field=IntegerField()), 0)


def _week_signups(since: date) -> Coalesce:
    """People's signups since `since`, counted from the signups themselves (the list the founder
    opens next shows the same rows), along the (project, created_at) index."""
    start = datetime.combine(since, time.min, tzinfo=timezone.get_current_timezone())
    signups = (
        Signup.objects.filter(project=OuterRef("pk"), traffic=Traffic.HUMAN, created_at__gte=start)
        .order_by()
        .values("project")
        .annotate(total=Count("pk"))
        .values("total")
    )
    return Coalesce(Subquery(signups, output_field=IntegerField()), 0)


def _summaries(qs: QuerySet[Project]) -> QuerySet[Project]:
    since = week_start()
    latest_verdict = ReportSnapshot.objects.filter(project=OuterRef("pk")).order_by("-created_at", "-id")
    return qs.annotate(
        live_pages=Count("landing_pages", filter=Q(landing_pages__status=PageStatus.PUBLISHED), distinct=True),
        visitors_week=_week_sum("visitors", since),
        signups_week=_week_signups(since),
        latest_verdict=Subquery(latest_verdict.values("verdict")[:1]),
        has_prototype=Exists(Prototype.objects.filter(project=OuterRef("pk"), is_current=True)),
    )


def _summary(project: Project) -> ProjectSummary:
    # The verdict that completed the project wins; otherwise the last report the founder kept.
    verdict = project.verdict or getattr(project, "latest_verdict", None) or ""
    return ProjectSummary(
        project=project,
        live_pages=project.live_pages,  # type: ignore[attr-defined]
        visitors_week=project.visitors_week,  # type: ignore[attr-defined]
        signups_week=project.signups_week,  # type: ignore[attr-defined]
        verdict=verdict,
        has_prototype=project.has_prototype,  # type: ignore[attr-defined]
    )


@dataclass(frozen=True)
class ProjectHome:
    items: list[ProjectSummary]
    archived_count: int  # the founder's archived projects (hidden unless asked for)
    total_count: int  # all the founder's projects, archived included


def project_home(*, user: User, archived: bool = False) -> ProjectHome:
    """The founder's projects for the home page, open ones (or only the archived ones), newest
    first, each with its live pages, people's visitors and signups this week, and its verdict.
    Two queries however many projects, pages and rollups there are."""
    qs = project_qs_for_user(user=user)
    counts = qs.aggregate(total=Count("pk"), archived=Count("pk", filter=Q(status=ProjectStatus.ARCHIVED)))
    chosen = qs.filter(status=ProjectStatus.ARCHIVED) if archived else qs.exclude(status=ProjectStatus.ARCHIVED)
    items = [_summary(p) for p in _summaries(chosen).order_by("-created_at", "-id")]
    return ProjectHome(items=items, archived_count=counts["archived"], total_count=counts["total"])


def project_summary(*, user: User, pk: int) -> ProjectSummary:
    """One of the founder's projects with its home figures (another founder's: 404). One query."""
    return _summary(get_object_or_404(_summaries(project_qs_for_user(user=user)), pk=pk))


@dataclass(frozen=True)
class ProjectHub:
    """What a project's hub page shows: its figures, its current prototype and its pages (each
    with its people's signups), and the one next step the founder has to take."""

    summary: ProjectSummary
    prototype: Prototype | None
    pages: list[LandingPage]

    @property
    def project(self) -> Project:
        return self.summary.project

    @property
    def next_step(self) -> str:
        """One of: "closed" (completed or archived), "generate" (no copy yet), "create_page"
        (copy but no page), "publish" (a draft page, nothing live), "live" (a page is public)."""
        if self.project.status in (ProjectStatus.COMPLETED, ProjectStatus.ARCHIVED):
            return "closed"
        if any(page.status == PageStatus.PUBLISHED for page in self.pages):
            return "live"
        if any(page.status == PageStatus.DRAFT for page in self.pages):
            return "publish"
        if self.prototype is None:
            return "generate"
        return "create_page"

    @property
    def draft_page(self) -> LandingPage | None:
        return next((page for page in self.pages if page.status == PageStatus.DRAFT), None)

    @property
    def live_page(self) -> LandingPage | None:
        return next((page for page in self.pages if page.status == PageStatus.PUBLISHED), None)

    @property
    def signups_total(self) -> int:
        return sum(page.signup_count for page in self.pages)  # type: ignore[attr-defined]


def project_hub(*, user: User, pk: int) -> ProjectHub:
    """The founder's project for its hub page (another founder's: 404). Three queries."""
    summary = project_summary(user=user, pk=pk)
    prototype = Prototype.objects.filter(project=summary.project, is_current=True).first()
    pages = list(landing_page_list(project=summary.project))
    return ProjectHub(summary=summary, prototype=prototype, pages=pages)
