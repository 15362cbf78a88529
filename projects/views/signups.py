"""The founder's signups: the list (search, filters, keyset pages; the table alone for htmx) and
its CSV download, both over the same selectors as the signups API."""

import csv
from collections.abc import Iterator
from typing import cast

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from mvpvalidator.spreadsheet import CSV_CONTENT_TYPE, safe_row
from projects.forms.signups import SignupFilterForm, cursor_param
from projects.selectors.projects import project_get
from projects.selectors.signups import (
    held_signup_counts,
    signup_csv_rows,
    signup_page,
    signup_variant_keys,
)
from security.models import User

RESULTS_TEMPLATE = "projects/workspace/signups/_results.html"


@never_cache
@vary_on_headers("HX-Request")
@login_required
@require_GET
def signup_list(request: HttpRequest, pk: int) -> HttpResponse:
    """Newest first, a page at a time. An htmx request (the filter form, the page links) gets
    the results fragment; a history restore and a plain request get the whole page. A bad
    filter or page link is a 400 with its message beside the field, the valid rest applied."""
    project = project_get(user=cast(User, request.user), pk=pk)  # signed in: login_required
    form = SignupFilterForm(request.GET, variant_keys=signup_variant_keys(project=project))
    older_than, newer_than = form.cursors()
    page = signup_page(project=project, filters=form.filters(), older_than=older_than, newer_than=newer_than)
    context = {
        "project": project,
        "form": form,
        "page": page,
        "older": cursor_param(page.older),
        "newer": cursor_param(page.newer),
        "filter_query": form.filter_query(),
    }
    status = 200 if form.is_valid() else 400
    if request.htmx and not request.htmx.history_restore_request:  # type: ignore[attr-defined]
        return render(request, RESULTS_TEMPLATE, context, status=status)
    context["held"] = held_signup_counts(project=project)
    return render(request, "projects/workspace/signups/list.html", context, status=status)


class _Echo:
    """What csv.writer writes to: each row comes back as text, for the streamed response."""

    def write(self, value: str) -> str:
        return value


@never_cache
@login_required
@require_GET
def signup_export(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """The filtered list (every page of it) as CSV, streamed from the database in chunks, every
    cell safe to open in a spreadsheet. Invalid filters are left out, as on the list."""
    project = project_get(user=cast(User, request.user), pk=pk)  # signed in: login_required
    form = SignupFilterForm(request.GET, variant_keys=signup_variant_keys(project=project))
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        for row in signup_csv_rows(project=project, filters=form.filters()):
            yield writer.writerow(safe_row(row))

    response = StreamingHttpResponse(lines(), content_type=CSV_CONTENT_TYPE)
    name = slugify(project.name)[:60] or "project"
    filename = f"signups-{name}-{project.pk}-{timezone.now():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
