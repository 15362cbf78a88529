"""Reads of landing pages: the founder's (owner-scoped) and the public page at /p/<slug>/ (one
cache entry per page: the page and its running experiment; `projects.views.public` renders it)."""

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.templatetags.static import static
from django.urls import reverse

from mvpvalidator import cache as app_cache
from projects import cache as keys
from projects.analysis.assignment import assign
from projects.events import cookies, touch
from projects.models import Campaign, Experiment, ExperimentStatus, LandingPage, PageStatus, Project, Traffic
from projects.models.pages import VARIANT_FIELDS
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
    # An arm built from a page variant: that variant's changed fields (keys from VARIANT_FIELDS).
    overrides: Mapping[str, Any] = field(default_factory=dict)


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
            LiveVariant(
                v.key, v.weight, v.is_control, v.headline, v.subheadline, v.cta_text, v.preorder_price, v.overrides
            )
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

    @functools.cached_property
    def thanks_path(self) -> str:
        """Where a stored signup goes: reversed once per cached page in a process, not per signup."""
        return reverse("public:thanks", kwargs={"slug": self.page.slug})

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
    """The copy a visitor sees (every field a variant may change, `VARIANT_FIELDS`): the page's,
    with the arm's own fields (an arm made through the API) and the overrides of the page
    variant it was built from, as the variant's preview shows them (`selectors.variants`)."""
    content = {name: getattr(page, name) for name in VARIANT_FIELDS}
    if variant is not None:
        for name in ("headline", "subheadline", "cta_text", "preorder_price"):
            value = getattr(variant, name)
            if value not in ("", None):
                content[name] = value
        # getattr: a page cached by a process from before arms kept overrides unpickles without them.
        for name, value in getattr(variant, "overrides", {}).items():
            if name in content:
                content[name] = Decimal(value) if name == "preorder_price" and value is not None else value
    return content


def landing_page_get_for_project(*, user: User, project_pk: int, pk: int) -> LandingPage:
    """One page of one of the user's projects, from the workspace's URL (/projects/<pk>/pages/<pk>/):
    a 404 for another founder's page, or a page of another project."""
    return get_object_or_404(landing_page_qs_for_user(user=user), project_id=project_pk, pk=pk)


# --- The public page's look and share card ----------------------------------------------------


def _channels(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in rgb)


def _luminance(color: str) -> float:
    """WCAG 2 relative luminance (https://www.w3.org/TR/WCAG21/#dfn-relative-luminance)."""

    def linear(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in _channels(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two "#rrggbb" colours (https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio)."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _darken(color: str, amount: float) -> str:
    r, g, b = _channels(color)
    return _hex((r * (1 - amount), g * (1 - amount), b * (1 - amount)))


def _lighten(color: str, amount: float) -> str:
    r, g, b = _channels(color)
    return _hex((r + (255 - r) * amount, g + (255 - g) * amount, b + (255 - b) * amount))


# The page's text and soft background (static/css/landing.css: --fg, --soft).
PAGE_TEXT = "#172033"
PAGE_SOFT = "#f3f5fb"
# WCAG AA for normal text.
MIN_CONTRAST = 4.5


@dataclass(frozen=True)
class PageTheme:
    """The accent colour of a page and the colours derived from it, readable whatever the founder
    picked: the button text is white or dark, whichever reads better on the accent, and links use
    the accent darkened until they read on the page's soft background."""

    accent: str
    accent_dark: str  # a button's hover
    on_accent: str  # text on an accent button
    accent_text: str  # links and accent-coloured text


def page_theme(accent: str) -> PageTheme:
    on_accent = "#ffffff" if contrast_ratio(accent, "#ffffff") >= contrast_ratio(accent, PAGE_TEXT) else PAGE_TEXT
    text = accent
    for _ in range(20):
        if contrast_ratio(text, PAGE_SOFT) >= MIN_CONTRAST:
            break
        text = _darken(text, 0.1)
    # A hover darker than the accent, or lighter where the accent is nearly black already.
    hover = _lighten(accent, 0.2) if _luminance(accent) < 0.02 else _darken(accent, 0.15)
    return PageTheme(accent=accent, accent_dark=hover, on_accent=on_accent, accent_text=text)


@dataclass(frozen=True)
class ShareCard:
    """What a link to the page shows where it is shared (Open Graph and Twitter tags)."""

    title: str
    description: str
    url: str
    image: str
    image_width: int | None
    image_height: int | None
    image_alt: str
    large: bool  # twitter:card summary_large_image (a wide picture) rather than summary (a square logo)


DEFAULT_SHARE_IMAGE = "landing/share-default.png"
DEFAULT_SHARE_IMAGE_SIZE = (1200, 630)


def absolute_url(origin: str, url: str) -> str:
    """`url` as an absolute address: a bucket's URLs are absolute already, local ones get `origin`."""
    return url if url.startswith(("https://", "http://")) else f"{origin}{url}"


def share_card(page: LandingPage, content: dict[str, Any], *, origin: str) -> ShareCard:
    """The page's share card: its copy (the variant's headline when one is shown), and the hero
    image, else the logo, else the platform's default picture, all as absolute addresses."""
    if page.hero_image:
        image, width, height, large = page.hero_image.url, page.hero_width, page.hero_height, True
    elif page.logo:
        image, width, height, large = page.logo.url, page.logo_width, page.logo_height, False
    else:
        image, (width, height), large = static(DEFAULT_SHARE_IMAGE), DEFAULT_SHARE_IMAGE_SIZE, True
    return ShareCard(
        title=content["headline"],
        description=content["subheadline"] or page.project.name,
        url=absolute_url(origin, reverse("public:landing", kwargs={"slug": page.slug})),
        image=absolute_url(origin, image),
        image_width=width,
        image_height=height,
        image_alt=page.project.name,
        large=large,
    )


# --- The privacy notice -------------------------------------------------------------------------


@dataclass(frozen=True)
class Cookie:
    name: str
    lifetime: str
    purpose: str


@dataclass(frozen=True)
class PrivacyNotice:
    """What /p/<slug>/privacy tells a visitor: who is responsible, what is kept and for how long,
    and the cookies, named and timed from the constants that set them (they cannot drift apart)."""

    controller_name: str
    controller_email: str
    controller_address: str
    cookies: tuple[Cookie, ...]
    event_retention_days: int
    security_retention_days: int
    double_opt_in: bool


def _duration(seconds: int) -> str:
    days = seconds // 86400
    if days >= 365 and days % 365 == 0:
        years = days // 365
        return f"{years} year" + ("s" if years > 1 else "")
    return f"{days} day" + ("s" if days != 1 else "")


def page_cookies() -> tuple[Cookie, ...]:
    """The cookies a public page may set, from the code that sets them (`projects.events.cookies`, `.touch`)."""
    return (
        Cookie(
            cookies.VISITOR_COOKIE,
            _duration(cookies.VISITOR_COOKIE_MAX_AGE),
            "A random identifier of this browser, so that several visits count as one visitor and each "
            "visitor always sees the same version of the page. Only a one-way hash of it is stored.",
        ),
        Cookie(
            cookies.CHANNEL_COOKIE,
            "until the browser is closed",
            "Where this visit came from (an ad, a search, a link), so a signup is credited to it.",
        ),
        Cookie(
            touch.FIRST_TOUCH_COOKIE,
            f"until the browser is closed (honoured for at most {_duration(touch.FIRST_TOUCH_MAX_AGE_SECONDS)})",
            "The campaign tags, referring page and ad click identifier this visit arrived with, "
            "kept with a signup made during the visit.",
        ),
        Cookie(
            cookies.PREVIEW_COOKIE,
            _duration(cookies.PREVIEW_MAX_AGE),
            "Set only in the page owner's browser when they open their preview link, so their own "
            "visits are not counted as visitors'.",
        ),
        Cookie(
            settings.CSRF_COOKIE_NAME,
            _duration(settings.CSRF_COOKIE_AGE) if settings.CSRF_COOKIE_AGE else "until the browser is closed",
            "Set by the confirm and unsubscribe pages of the emails, to protect their buttons against "
            "forged requests from other sites.",
        ),
    )


def privacy_notice(page: LandingPage) -> PrivacyNotice:
    """The privacy notice of a page: the project's contact details, else its owner's name and
    address (one query, for the owner, only when the project names no one)."""
    project = page.project
    name, email = project.contact_name, project.contact_email
    if not (name and email):
        owner_name, owner_email = User.objects.filter(pk=project.owner_id).values_list("name", "email").get()
        name = name or owner_name or owner_email
        email = email or owner_email
    return PrivacyNotice(
        controller_name=name,
        controller_email=email,
        controller_address=project.contact_address,
        cookies=page_cookies(),
        event_retention_days=settings.EVENT_RETENTION_DAYS,
        security_retention_days=settings.SECURITY_EVENT_RETENTION_DAYS,
        double_opt_in=page.double_opt_in,
    )
