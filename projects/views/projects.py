"""The founder's projects in the browser: the list (the workspace's home), create, edit, archive
and each project's hub. Every project is read through the owner-scoped selectors: another
founder's id is a 404."""

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from mvpvalidator.exceptions import ApplicationError
from mvpvalidator.forms import add_service_errors
from projects.forms.projects import ProjectForm
from projects.selectors.projects import project_get, project_home, project_hub
from projects.services.projects import project_archive, project_create, project_update
from security.models import User


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)  # signed in: login_required


@never_cache
@login_required
@require_GET
def project_list(request: HttpRequest) -> HttpResponse:
    archived = request.GET.get("show") == "archived"
    home = project_home(user=_user(request), archived=archived)
    return render(request, "projects/workspace/projects/list.html", {"home": home, "archived": archived})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def project_create_view(request: HttpRequest) -> HttpResponse:
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = project_create(owner=_user(request), **form.cleaned_data)
        except (ValidationError, ApplicationError) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"“{project.name}” is created. Next: generate the copy of its landing page.")
            return redirect("project-detail", pk=project.pk)
    return render(request, "projects/workspace/projects/form.html", {"form": form, "project": None})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def project_edit(request: HttpRequest, pk: int) -> HttpResponse:
    project = project_get(user=_user(request), pk=pk)
    form = ProjectForm(request.POST or None, initial=ProjectForm.initial_for(project))
    if request.method == "POST" and form.is_valid():
        try:
            project_update(project=project, data=form.changed_values())
        except (ValidationError, ApplicationError) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Your changes are saved.")
            return redirect("project-detail", pk=project.pk)
    return render(request, "projects/workspace/projects/form.html", {"form": form, "project": project})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def project_archive_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST archives (which takes the project's pages off the web)."""
    project = project_get(user=_user(request), pk=pk)
    if request.method == "POST":
        project_archive(project=project)
        messages.success(request, f"“{project.name}” is archived and its pages are off the web.")
        return redirect("project-list")
    return render(request, "projects/workspace/projects/archive.html", {"project": project})


@never_cache
@login_required
@require_GET
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    hub = project_hub(user=_user(request), pk=pk)
    return render(request, "projects/workspace/projects/detail.html", {"hub": hub, "project": hub.project})
