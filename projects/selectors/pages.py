"""Reads of landing pages: the founder's (owner-scoped) and the public page at /p/<slug>/ (one
cache entry per page: the page and its running experiment; `projects.views.public` renders it)."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse

from mvpvalidator import cache as app_cache
from projects import cache as keys
from projects.analysis.assignment import assign
from projects.models import Campaign, Experiment, ExperimentStatus, LandingPage, PageStatus, Project, Traffic
from security.models import User


def landing_pages_with_counts() -> QuerySet[LandingPage]:
    return LandingPage.objects.annotate(
        # People's signups: the founder's own test signups and known bots' are not the page's.
        signup_count=Count("signups", filter=Q(signups__traffic=Traffic.HUMAN)),
        confirmed_count=Count(
            "signups",
            filter=Q(signups__confirmed_at__isnull=False, signups__unsubscribed_at__isnull=True)
            & Q(signups__traffic=Traffic.HUMAN),
        ),
    ).order_by("-created_at", "-id")


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
    return landing_pages_with_counts().filter(project=project)


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
        index = assign(visitor, seed=self.seed, coverage=self.coverage, weights=[v.weight for v in self.variants])
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
    project's campaigns (what ties a visitor to one: `analysis.channels.campaigns_claiming`)."""

    page: LandingPage
    experiment: LiveExperiment | None
    path: str  # /p/<slug>/
    # (utm_campaign, platform) of each of the project's campaigns; a campaign's write bumps the
    # namespaces of the project's pages (`services.campaigns`).
    campaigns: tuple[tuple[str, str], ...] = ()

    def assignment(self, visitor: str) -> tuple[int | None, LiveVariant | None]:
        """(experiment id, variant) of a visitor; (None, None) outside any experiment."""
        if self.experiment is None:
            return None, None
        variant = self.experiment.variant_for(visitor)
        return (self.experiment.id, variant) if variant is not None else (None, None)


def public_page(*, slug: str) -> PublicPage:
    """The public page at /p/<slug>/ (drafts and archived pages do not exist for the public),
    cached under the page's namespace, which every change of the page, of its experiments or of
    its project's campaigns bumps: the hot path costs one cache read and no query."""

    def compute() -> PublicPage:
        page = get_object_or_404(
            LandingPage.objects.select_related("project"), slug__iexact=slug, status=PageStatus.PUBLISHED
        )
        return PublicPage(
            page=page,
            experiment=_live_experiment(page),
            path=reverse("public:landing", kwargs={"slug": page.slug}),
            campaigns=tuple(
                Campaign.objects.filter(project_id=page.project_id).values_list("utm_campaign", "platform")
            ),
        )

    return app_cache.get_or_set(
        app_cache.PAGE,
        keys.public_page_parts(slug),
        compute,
        namespaces=[keys.page_ns(slug)],
        max_age=PUBLIC_PAGE_MAX_AGE_SECONDS,
    )


def landing_page_get_published(*, slug: str) -> LandingPage:
    return public_page(slug=slug).page


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
