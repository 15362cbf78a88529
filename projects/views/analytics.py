"""The founder's analytics page: a project's traffic and funnel over a date range, from the
rollups and the signups only (never the raw events), its figures refreshed in place."""

from datetime import date, timedelta
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from monitoring import charts
from projects.forms.analytics import AnalyticsRangeForm
from projects.selectors.events import project_analytics_overview
from projects.selectors.projects import project_get
from security.models import User

LIVE_TEMPLATE = "projects/workspace/analytics/_live.html"
LIVE_SECONDS = 30


def _daily_chart(rows: list[dict[str, Any]], since: date, until: date) -> str:
    """Every day of the range, a day without traffic at zero."""
    by_day = {row["day"]: row for row in rows}
    days = [since + timedelta(days=i) for i in range((until - since).days + 1)]
    figures = [by_day.get(day.isoformat(), {"visitors": 0, "signups": 0}) for day in days]
    return charts.line_chart(
        [
            charts.Series("Visitors", [float(r["visitors"]) for r in figures], "s0"),
            charts.Series("Signups", [float(r["signups"]) for r in figures], "s1"),
        ],
        x_labels=[day.strftime("%d %b") for day in days],
        title="Visitors and signups per day",
    )


@never_cache
@vary_on_headers("HX-Request")
@login_required
@require_GET
def project_analytics_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The range form (last 7 or 30 days, or from/to: a bad range is a 400 with its message beside
    the field, and the last 30 days shown); `?fragment=live` from htmx answers the figures alone."""
    project = project_get(user=cast(User, request.user), pk=pk)  # signed in: login_required
    form = AnalyticsRangeForm(request.GET or None, today=timezone.now().date())
    since, until = form.range()
    overview = project_analytics_overview(project=project, since=since, until=until)
    query = request.GET.copy()
    query.pop("fragment", None)
    refresh = query.urlencode()
    query["fragment"] = "live"
    context = {
        "project": project,
        "form": form,
        "overview": overview,
        "groups": overview["groups"],
        "chart": _daily_chart(overview["groups"]["day"]["rows"], since, until),
        "page_url": reverse("project-analytics", args=[project.pk]),
        "live_query": query.urlencode(),
        "refresh_url": reverse("project-analytics", args=[project.pk]) + (f"?{refresh}" if refresh else ""),
        "live_seconds": LIVE_SECONDS,
        "retention_days": settings.EVENT_RETENTION_DAYS,
    }
    status = 400 if form.is_bound and not form.is_valid() else 200
    if request.htmx and request.GET.get("fragment") == "live":  # type: ignore[attr-defined]
        return render(request, LIVE_TEMPLATE, {**context, "fragment": True}, status=status)
    return render(request, "projects/workspace/analytics/page.html", context, status=status)
