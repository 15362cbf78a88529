"""The founder's experiments: the list per project, a new experiment built from a page's variants
(with the planner beside it), the results screen (leading with a sentence, refreshed in place every
20 s: static/workspace/live.js), and the moves start, pause (resume) and complete.

The project comes from the owner-scoped selector first and the experiment must be one of its
pages': another founder's project or experiment is a 404."""

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from mvpvalidator.exceptions import ApplicationError
from mvpvalidator.forms import add_service_errors
from projects.analysis.experiment_bars import interval_bars
from projects.analysis.experiment_words import lead_sentence
from projects.forms.experiments import ExperimentForm
from projects.models import Experiment, ExperimentStatus, LandingPage, Project
from projects.selectors.experiments import (
    PLANNER_DAYS,
    experiment_get,
    experiment_list,
    experiment_newest_page_pk,
    experiment_page_get,
    experiment_pages,
    experiment_planner,
    experiment_results,
)
from projects.selectors.projects import project_get
from projects.services.experiments import experiment_create_from_page, experiment_move
from security.models import User

RESULTS_TEMPLATE = "projects/workspace/experiments/_results.html"
PLANNER_TEMPLATE = "projects/workspace/experiments/_planner.html"
# Seconds between two refreshes of the results region (contracts: LIVE FIGURES).
LIVE_SECONDS = 20


def _project(request: HttpRequest, pk: int) -> Project:
    return project_get(user=cast(User, request.user), pk=pk)  # signed in: login_required


def _experiment(request: HttpRequest, pk: int, exp_pk: int) -> Experiment:
    experiment = experiment_get(user=cast(User, request.user), pk=exp_pk)
    if experiment.page.project_id != pk:
        raise Http404("No such experiment in this project.")
    return experiment


def _page(project: Project, request: HttpRequest) -> LandingPage:
    """The page of ?page=<pk>; without one, the project's newest page that has variants."""
    raw = request.GET.get("page")
    if raw is None:
        newest = experiment_newest_page_pk(project=project)
        if newest is None:
            raise Http404("No page of this project has a variant to test yet.")
        return experiment_page_get(project=project, pk=newest)
    try:
        page_pk = int(raw)
    except ValueError:
        raise Http404("Choose a page to experiment on.") from None
    return experiment_page_get(project=project, pk=page_pk)


@never_cache
@login_required
@require_GET
def experiment_list_view(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project(request, pk)
    context = {
        "project": project,
        "experiments": list(experiment_list(project=project)),
        "pages": list(experiment_pages(project=project)),
    }
    return render(request, "projects/workspace/experiments/list.html", context)


def _planner(page: LandingPage, form: ExperimentForm) -> dict[str, Any]:
    mde, coverage, arms = form.planner_inputs()
    return {
        "planner": experiment_planner(page=page, mde_relative=mde, coverage=coverage, arms=arms),
        "days": PLANNER_DAYS,
    }


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def experiment_create(request: HttpRequest, pk: int) -> HttpResponse:
    """GET ?page=<page_pk>: the form, every variant of the page ticked, equal weights; POST: the
    draft experiment (or a started one), or the form again with each error beside its field."""
    project = _project(request, pk)
    page = _page(project, request)
    if request.method == "GET":
        form = ExperimentForm(page=page)
        return render(request, "projects/workspace/experiments/create.html", _create_context(project, page, form))
    form = ExperimentForm(request.POST, page=page)
    if form.is_valid():
        try:
            experiment = experiment_create_from_page(page=page, **form.service_arguments())
        except (ValidationError, ApplicationError) as exc:
            add_service_errors(form, exc)
        else:
            started = experiment.status == ExperimentStatus.RUNNING
            messages.success(request, f"“{experiment.name}” {'started' if started else 'saved as a draft'}.")
            return redirect("experiment-detail", pk=project.pk, exp_pk=experiment.pk)
    context = _create_context(project, page, form)
    return render(request, "projects/workspace/experiments/create.html", context, status=400)


def _create_context(project: Project, page: LandingPage, form: ExperimentForm) -> dict[str, Any]:
    return {"project": project, "page": page, "form": form, **_planner(page, form)}


@never_cache
@login_required
@require_GET
def experiment_plan(request: HttpRequest, pk: int) -> HttpResponse:
    """The planner alone (htmx, as the create form changes): the form's values where valid. A
    plain request (no htmx) is sent to the whole create screen, with the same values."""
    project = _project(request, pk)
    page = _page(project, request)
    if not request.htmx:  # type: ignore[attr-defined]
        return redirect(f"{reverse('experiment-create', kwargs={'pk': project.pk})}?page={page.pk}")
    form = ExperimentForm(request.GET, page=page)
    form.is_valid()
    return render(request, PLANNER_TEMPLATE, {"project": project, "page": page, **_planner(page, form)})


def _results_context(experiment: Experiment) -> dict[str, Any]:
    results = experiment_results(experiment=experiment)
    variants = list(experiment.variants.all())
    names = {v.key: v.name or f"Variant {v.key.upper()}" for v in variants}
    top, bars = interval_bars(results["arms"])
    by_key = {bar.key: bar for bar in bars}
    rows = [
        {"arm": arm, "name": names.get(arm["key"], arm["key"]), "bar": by_key[arm["key"]]} for arm in results["arms"]
    ]
    return {
        "results": results,
        "has_visitors": any(arm["visitors"] for arm in results["arms"]),
        "lead": lead_sentence(results, names),
        "rows": rows,
        "scale_top": top,
        "live_seconds": LIVE_SECONDS,
    }


@never_cache
@vary_on_headers("HX-Request")
@login_required
@require_GET
def experiment_detail(request: HttpRequest, pk: int, exp_pk: int) -> HttpResponse:
    """The results screen; `?fragment=live` from htmx: the results region alone (refreshed in place)."""
    experiment = _experiment(request, pk, exp_pk)
    context: dict[str, Any] = {"project": experiment.page.project, "experiment": experiment}
    if experiment.status == ExperimentStatus.DRAFT:
        # Nobody has seen it yet: its arms and the planner, rather than a table of zeros.
        arms = list(experiment.variants.all())
        total = sum(v.weight for v in arms)
        context["arms"] = [{"variant": v, "share": v.weight / total, "changes": len(v.overrides)} for v in arms]
        context["planner"] = experiment_planner(
            page=experiment.page,
            mde_relative=float(experiment.minimum_detectable_effect),
            coverage=float(experiment.coverage),
            arms=len(arms),
        )
        context["days"] = PLANNER_DAYS
    else:
        context.update(_results_context(experiment))
        if request.htmx and request.GET.get("fragment") == "live":  # type: ignore[attr-defined]
            return render(request, RESULTS_TEMPLATE, {**context, "live_fragment": True})
    return render(request, "projects/workspace/experiments/detail.html", context)


def _move(request: HttpRequest, pk: int, exp_pk: int, to: str, done: str) -> HttpResponse:
    experiment = _experiment(request, pk, exp_pk)
    try:
        experiment_move(experiment=experiment, to=to)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"“{experiment.name}” {done}.")
    return redirect("experiment-detail", pk=pk, exp_pk=experiment.pk)


@never_cache
@login_required
@require_POST
def experiment_start(request: HttpRequest, pk: int, exp_pk: int) -> HttpResponse:
    """Start a draft, or resume a paused experiment."""
    return _move(request, pk, exp_pk, ExperimentStatus.RUNNING, "is running")


@never_cache
@login_required
@require_POST
def experiment_pause(request: HttpRequest, pk: int, exp_pk: int) -> HttpResponse:
    return _move(request, pk, exp_pk, ExperimentStatus.PAUSED, "is paused: visitors see the page as it is")


@never_cache
@login_required
@require_POST
def experiment_complete(request: HttpRequest, pk: int, exp_pk: int) -> HttpResponse:
    """Asks first (a completed experiment cannot run again), then completes on `confirm=yes`."""
    if request.POST.get("confirm") != "yes":
        experiment = _experiment(request, pk, exp_pk)
        context = {"project": experiment.page.project, "experiment": experiment}
        return render(request, "projects/workspace/experiments/confirm_complete.html", context)
    return _move(request, pk, exp_pk, ExperimentStatus.COMPLETED, "is complete: its results are kept")
