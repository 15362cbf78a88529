"""The founder's prototype pages: the versions of a project's copy, generating another (at once
with the built-in generator, as a background job with a model), comparing two, choosing the
current one and editing one. The same services and selectors as the API answer."""

from typing import Any, cast
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from rest_framework.request import Request

from jobs.models import Job, JobStatus
from jobs.selectors import job_get, job_qs_for_user
from mvpvalidator.exceptions import ApplicationError
from mvpvalidator.forms import add_service_errors
from projects.api.prototypes import PrototypeGenerateView
from projects.forms.prototypes import (
    PrototypeCompareForm,
    PrototypeEditForm,
    pricing_tier_formset,
    prototype_edit_data,
)
from projects.generation import provider_configured
from projects.models import Project, Prototype
from projects.selectors.projects import project_get
from projects.selectors.prototypes import prototype_compare, prototype_get, prototype_list
from projects.services.prototypes import prototype_generate, prototype_select, prototype_update
from projects.tasks import prototype_generation_start
from security.limits import EndpointThrottle, Refusal
from security.models import User

MODEL_PREFIX = "openai:"


def written_by(prototype: Prototype) -> str:
    """Who wrote a version, as the founder reads it: the model only when its copy was used, and
    the founder's own hand once they edited it."""
    if prototype.generator.startswith(MODEL_PREFIX):
        author = f"Written by {prototype.generator.removeprefix(MODEL_PREFIX)}"
    elif prototype.fallback_reason:
        author = f"The model was unavailable ({prototype.fallback_reason}), so the built-in generator wrote this"
    else:
        author = "Written by the built-in generator"
    if prototype.edited_at is not None:
        return f"{author}; edited by you on {prototype.edited_at:%d %b %Y, %H:%M} UTC"
    return author


def _project(request: HttpRequest, pk: int) -> Project:
    return project_get(user=cast(User, request.user), pk=pk)  # signed in: login_required


def _list_url(project: Project, job: Job | None = None) -> str:
    url = reverse("prototype-list", args=[project.pk])
    return f"{url}?job={job.pk}" if job is not None else url


def _project_job(request: HttpRequest, project: Project, raw: str) -> Job | None:
    """The generation job named in the list's `?job=`, if it is this project's; a stale or
    foreign id shows no box rather than an error."""
    try:
        job_id = UUID(raw)
    except ValueError:
        return None
    job = job_qs_for_user(user=request.user).filter(pk=job_id).first()
    return job if job is not None and job.params.get("project_id") == project.pk else None


def _generation_refused(request: HttpRequest) -> Refusal | None:
    """The API's generation throttle, counted against the same quota (one per founder)."""
    drf_request = Request(request)
    drf_request.user = request.user
    throttle = EndpointThrottle()
    if throttle.allow_request(drf_request, PrototypeGenerateView):
        return None
    return cast(Refusal, throttle.refusal)


def _wait(seconds: int) -> str:
    minutes = -(-seconds // 60)
    return f"{seconds} seconds" if seconds < 120 else f"{minutes} minutes"


@never_cache
@login_required
@require_GET
def prototype_list_view(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project(request, pk)
    versions = list(prototype_list(project=project))
    current = next((p for p in versions if p.is_current), None)
    job = _project_job(request, project, request.GET["job"]) if "job" in request.GET else None
    context: dict[str, Any] = {
        "project": project,
        "current": current,
        "current_written_by": written_by(current) if current else "",
        "earlier": [(p, written_by(p)) for p in versions if not p.is_current],
        "job": job,
        "provider_configured": provider_configured(),
    }
    return render(request, "projects/workspace/prototypes/list.html", context)


@login_required
@require_POST
def prototype_generate_view(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project(request, pk)
    refusal = _generation_refused(request)
    if refusal is not None:
        messages.error(request, f"You have generated a lot of copy lately. Try again in {_wait(refusal.retry_after)}.")
        return redirect(_list_url(project))
    try:
        if provider_configured():
            job = prototype_generation_start(project=project, owner_id=request.user.pk)
            messages.info(request, "The model is writing a new version. It appears here when it is done.")
            return redirect(_list_url(project, job))
        prototype = prototype_generate(project=project)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(_list_url(project))
    messages.success(request, f"Version {prototype.version} is ready and is now the current copy.")
    return redirect(_list_url(project))


@never_cache
@login_required
@require_GET
def prototype_job_view(request: HttpRequest, pk: int, job_id: UUID) -> HttpResponse:
    """The progress box: polled by htmx while the job runs; once it is done the page reloads
    (htmx) to show the new version, or the founder follows the box's link (no JavaScript)."""
    project = _project(request, pk)
    job = job_get(user=request.user, pk=job_id)
    if job.params.get("project_id") != project.pk:
        raise Http404
    response = render(request, "projects/workspace/prototypes/_job.html", {"project": project, "job": job})
    if getattr(request, "htmx", False) and job.status == JobStatus.SUCCEEDED:
        response["HX-Refresh"] = "true"
    return response


@never_cache
@login_required
@require_GET
def prototype_compare_view(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project(request, pk)
    versions = list(prototype_list(project=project))
    numbers = [p.version for p in versions]
    if len(versions) < 2:
        messages.info(request, "There is only one version so far: generate another to compare them.")
        return redirect(_list_url(project))
    # Without a choice: the current version against the one before it (newest first).
    current = next((p for p in versions if p.is_current), versions[0])
    previous = next((p for p in versions if p.version != current.version), versions[-1])
    query = request.GET if "a" in request.GET or "b" in request.GET else {"a": previous.version, "b": current.version}
    form = PrototypeCompareForm(query, versions=numbers)
    rows = None
    left = right = None
    if form.is_valid():
        by_number = {p.version: p for p in versions}
        left, right = by_number[form.cleaned_data["a"]], by_number[form.cleaned_data["b"]]
        rows = prototype_compare(project=project, a=left, b=right)
    context = {"project": project, "form": form, "rows": rows, "left": left, "right": right}
    return render(request, "projects/workspace/prototypes/compare.html", context)


@login_required
@require_POST
def prototype_pick_view(request: HttpRequest, pk: int, version: int) -> HttpResponse:
    project = _project(request, pk)
    prototype = prototype_get(project=project, version=version)
    try:
        prototype_select(project=project, version=prototype.version)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(_list_url(project))
    note = "New pages start from it."
    if project.landing_pages.exists():
        note += " Your existing pages keep their own copy: change them in the page editor."
    messages.success(request, f"Version {prototype.version} is now the current copy. {note}")
    return redirect(_list_url(project))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def prototype_edit_view(request: HttpRequest, pk: int, version: int) -> HttpResponse:
    project = _project(request, pk)
    prototype = prototype_get(project=project, version=version)
    if request.method == "POST":
        form = PrototypeEditForm(request.POST)
        tiers = pricing_tier_formset(prototype, request.POST)
        if form.is_valid() and tiers.is_valid():
            try:
                prototype_update(prototype=prototype, data=prototype_edit_data(form, tiers))
            except (ValidationError, ApplicationError) as exc:
                _add_errors(form, tiers, exc)
            else:
                messages.success(request, f"Version {prototype.version} is saved.")
                return redirect(_list_url(project) + ("" if prototype.is_current else f"#v{prototype.version}"))
    else:
        form = PrototypeEditForm(initial=PrototypeEditForm.initial_for(prototype))
        tiers = pricing_tier_formset(prototype)
    context = {"project": project, "prototype": prototype, "form": form, "tiers": tiers}
    return render(request, "projects/workspace/prototypes/edit.html", context)


def _add_errors(form: PrototypeEditForm, tiers: Any, exc: ValidationError | ApplicationError) -> None:
    """The service's refusal beside its field; a pricing-tier rule above the tier rows."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict") and "pricing_tiers" in exc.error_dict:
        tiers.rule_errors = exc.message_dict["pricing_tiers"]
        rest = {k: v for k, v in exc.message_dict.items() if k != "pricing_tiers"}
        if not rest:
            form.add_error(None, "The pricing tiers need a change: see below.")
            return
        exc = ValidationError(rest)
    add_service_errors(form, exc)
