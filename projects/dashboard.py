"""The domain's panel on the staff dashboard ("The platform"), registered with
`monitoring.panels` by `ProjectsConfig.ready`. Like every panel it reads aggregates over
indexed columns, so the dashboard's query count does not grow with the data."""

from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from monitoring import panels
from monitoring.panels import SHOWN, Buckets
from projects.models import LandingPage, PageStatus, Project, Signup, Traffic
from projects.selectors.experiments import running_experiments

TEMPLATE = "dashboard/panels/platform.html"


def platform_panel(buckets: Buckets) -> dict[str, Any]:
    """Projects, live pages, today's views and signups, the busiest pages and the running
    experiments with their bot share."""
    midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    pages = LandingPage.objects.aggregate(live=Count("id", filter=Q(status=PageStatus.PUBLISHED)), total=Count("id"))
    # People's signups: not the founders' own test signups, nor known bots'.
    signups_today = Signup.objects.filter(created_at__gte=midnight, traffic=Traffic.HUMAN).count()
    top_pages = list(
        LandingPage.objects.filter(status=PageStatus.PUBLISHED)
        .annotate(
            signups_today=Count("signups", filter=Q(signups__created_at__gte=midnight, signups__traffic=Traffic.HUMAN))
        )
        .filter(signups_today__gt=0)
        .order_by("-signups_today", "pk")
        .values("pk", "slug", "headline", "signups_today")[:5]
    )
    # Views served today, from the request counters (per-page counts come with event tracking).
    views = buckets.landing_views_since(midnight)
    experiments = running_experiments(limit=SHOWN)
    for experiment in experiments:
        share = experiment["bot_share"]
        experiment["bot_share_pct"] = None if share is None else round(100 * share, 1)
    return {
        "experiments": experiments,
        "unhealthy_experiments": sum(1 for e in experiments if e["unhealthy"]),
        "projects": Project.objects.count(),
        "live_pages": pages["live"],
        "pages": pages["total"],
        "views_today": views,
        "signups_today": signups_today,
        "top_pages": top_pages,
    }


def register() -> None:
    """Drawn right after the performance panel. Called by `ProjectsConfig.ready`."""
    panels.register("platform", TEMPLATE, platform_panel)
