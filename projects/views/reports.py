"""The founder's report screens: the live demand report (and its daily table as CSV), keeping it, a kept
report read back, and two kept reports compared side by side."""

import csv
from decimal import Decimal
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from monitoring import charts
from mvpvalidator.spreadsheet import CSV_CONTENT_TYPE, accepts_csv, safe_row
from projects.analysis.explain import explain
from projects.analysis.report_diff import report_diff
from projects.analysis.variant_table import variant_rows
from projects.forms.reports import CompareForm
from projects.models.projects import ProjectStatus
from projects.selectors.events import project_analytics, project_daily
from projects.selectors.projects import project_get
from projects.selectors.reports import (
    project_report,
    report_snapshot_get,
    report_snapshot_list,
    report_snapshot_pair,
)
from projects.selectors.signups import held_signup_counts
from projects.services.reports import FINAL_VERDICTS, report_snapshot_create
from security.models import User

CSV_COLUMNS = ("day", "views", "visitors", "signups", "preorders", "spend", "clicks")


def _charts(report: dict[str, Any], daily: list[dict[str, Any]], variants: list[dict[str, Any]]) -> dict[str, str]:
    labels = [row["day"].strftime("%d %b") for row in daily]
    out = {
        "daily": charts.line_chart(
            [
                charts.Series("Visitors", [float(r["visitors"]) for r in daily], "s0"),
                charts.Series("Signups", [float(r["signups"]) for r in daily], "s1"),
            ],
            x_labels=labels,
            title="Daily visitors and signups",
        ),
        # The chart's "%" unit takes a share (0.2 is drawn and labelled "20%"): the rate goes in as it is.
        "variants": charts.bar_chart(
            [(row["variant"], row["rate"] or 0.0) for row in variants],
            title="Sign-up rate by version of the page",
            unit="%",
        ),
    }
    card = report["test_card"]
    if report.get("cost_per_signup") is not None and card.get("allowable_cost_per_lead") is not None:
        out["cost"] = charts.bar_chart(
            [
                ("Actual", float(report["cost_per_signup"])),
                ("Affordable", float(card["allowable_cost_per_lead"])),
            ],
            title=f"Cost per signup against the most a signup may cost ({card['currency']})",
        )
    return out


@never_cache
@login_required
@require_GET
def report_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The owner's report (another user's project is a 404); `?format=csv` is the daily table."""
    project = project_get(user=cast(User, request.user), pk=pk)  # signed in: login_required
    daily = project_daily(project=project)
    if request.GET.get("format") == "csv":
        if not accepts_csv(request.headers.get("Accept")):
            return HttpResponse("This export is CSV (text/csv) only.", status=406, content_type="text/plain")
        response = HttpResponse(content_type=CSV_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="report-{project.pk}-daily.csv"'
        writer = csv.writer(response)
        writer.writerow(CSV_COLUMNS)
        for row in daily:
            writer.writerow(safe_row(row[c] for c in CSV_COLUMNS))
        return response
    report = project_report(project=project)
    snapshots = report_snapshot_list(project=project)
    today = daily[-1]["day"] if daily else None
    variants = project_analytics(
        project=project,
        since=daily[0]["day"] if daily else project.created_at.date(),
        until=today or project.created_at.date(),
        group_by="variant",
    )
    rows = variant_rows(variants["rows"])
    return render(
        request,
        "projects/report.html",
        {
            "project": project,
            "report": report,
            "explained": explain(report, project_name=project.name),
            "daily": daily,
            "variants": rows["rows"],
            "baseline": rows["baseline"],
            "totals": variants["totals"],
            "charts": _charts(report, daily, rows["rows"]),
            "snapshots": snapshots,
            "compare_form": CompareForm(snapshots=snapshots),
            # Keeping a final verdict closes the project: the button says so before it is pressed.
            "keeping_closes": report["verdict"] in FINAL_VERDICTS and project.status != ProjectStatus.COMPLETED,
            "spend": sum((row["spend"] for row in daily), Decimal(0)),
            "held": held_signup_counts(project=project),
        },
    )


@login_required
@require_POST
def report_keep(request: HttpRequest, pk: int) -> HttpResponse:
    """Keep the report as it is now (the page's button; the API's `POST .../reports` does the same)."""
    project = project_get(user=cast(User, request.user), pk=pk)  # signed in: login_required
    report_snapshot_create(project=project, report=project_report(project=project))
    return redirect(reverse("project-report-page", args=[project.pk]) + "#snapshots")


@never_cache
@login_required
@require_GET
def report_snapshot(request: HttpRequest, pk: int, snapshot_pk: int) -> HttpResponse:
    """A kept report read back as it was kept (`ReportSnapshot.data`): another project's is a 404."""
    project = project_get(user=cast(User, request.user), pk=pk)  # signed in: login_required
    snapshot = report_snapshot_get(project=project, pk=snapshot_pk)
    report = _kept_dates(snapshot.data)
    return render(
        request,
        "projects/workspace/reports/snapshot.html",
        {
            "project": project,
            "snapshot": snapshot,
            "report": report,
            "explained": explain(report, project_name=project.name),
        },
    )


def _kept_dates(data: dict[str, Any]) -> dict[str, Any]:
    """A kept report with its times as datetimes again (JSON keeps them as ISO text), as the live one has them."""
    card = dict(data.get("test_card") or {})
    for name in ("locked_at", "written_at"):
        if isinstance(card.get(name), str):
            card[name] = parse_datetime(card[name])
    return {**data, "test_card": card}


# The largest id a database column holds (a bigger number is no kept report, not a server error).
_MAX_ID = 2**63 - 1


def _snapshot_id(value: str | None) -> int:
    try:
        number = int(value or "")
    except ValueError:
        raise Http404("No such kept report.") from None
    if not 0 < number <= _MAX_ID:
        raise Http404("No such kept report.")
    return number


@never_cache
@login_required
@require_GET
def report_compare(request: HttpRequest, pk: int) -> HttpResponse:
    """Two kept reports side by side (`?a=&b=`, older first whatever the order): what changed in the inputs, the
    test card, the verdict and the score. Without `a` and `b`, the form to pick them; an id that is not one of
    the project's kept reports is a 404; the same report twice is the form's error."""
    project = project_get(user=cast(User, request.user), pk=pk)  # signed in: login_required
    snapshots = report_snapshot_list(project=project)
    if "a" not in request.GET and "b" not in request.GET:  # nothing picked yet: the form alone
        return render(
            request,
            "projects/workspace/reports/compare.html",
            {"project": project, "form": CompareForm(snapshots=snapshots), "snapshots": snapshots},
        )
    a, b = _snapshot_id(request.GET.get("a")), _snapshot_id(request.GET.get("b"))
    first, second = report_snapshot_pair(project=project, a=a, b=b)
    form = CompareForm(request.GET, snapshots=snapshots)
    context: dict[str, Any] = {
        "project": project,
        "form": form,
        "first": first,
        "second": second,
        "snapshots": snapshots,
    }
    if not form.is_valid():
        return render(request, "projects/workspace/reports/compare.html", context, status=400)
    context["diff"] = report_diff(first.data, second.data)
    return render(request, "projects/workspace/reports/compare.html", context)
