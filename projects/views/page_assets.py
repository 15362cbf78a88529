"""A landing page's assets in the founder's workspace: its logo and hero image (upload, remove)
and the QR code of its public address. Owner only: another founder's page is a 404."""

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from mvpvalidator.forms import add_service_errors
from projects.forms.page_images import FORMS, PageImageForm
from projects.models import LandingPage
from projects.qr import qr_svg
from projects.selectors.pages import landing_page_get_for_project
from projects.services.page_images import page_image_clear, page_image_set
from projects.views.public import public_origin
from security.models import User

IMAGES_TEMPLATE = "projects/workspace/pages/images.html"
LABELS = {"logo": "logo", "hero": "hero image"}


def _owned_page(request: HttpRequest, pk: int, page_pk: int) -> LandingPage:
    # login_required ran first: the user is signed in.
    return landing_page_get_for_project(user=cast(User, request.user), project_pk=pk, pk=page_pk)


def _apply(form: PageImageForm, page: LandingPage) -> bool:
    """Upload or remove the form's image; False with the refusal beside the field."""
    try:
        if form.cleaned_data["action"] == "remove":
            page_image_clear(page=page, kind=form.kind)  # type: ignore[arg-type]  # FORMS' kinds
        else:
            page_image_set(page=page, kind=form.kind, upload=form.cleaned_data[form.field_name])  # type: ignore[arg-type]
    except ValidationError as exc:
        add_service_errors(form, exc)
        return False
    return True


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def page_images(request: HttpRequest, pk: int, page_pk: int) -> HttpResponse:
    """GET: the page's images on their own; POST: one image uploaded or removed, then back to the
    editor, or this page again with the error beside the field."""
    page = _owned_page(request, pk, page_pk)
    context: dict[str, Any] = {"project": page.project, "page": page}
    if request.method == "GET":
        return render(request, IMAGES_TEMPLATE, context)
    form_class = FORMS.get(request.POST.get("kind", ""), FORMS["logo"])
    form = form_class(request.POST, request.FILES)
    if form.is_valid() and _apply(form, page):
        done = "removed" if form.cleaned_data["action"] == "remove" else "saved"
        messages.success(request, f"The {LABELS[form.kind]} is {done}.")
        return redirect("page-edit", pk, page_pk)
    context[f"{form.kind}_form"] = form
    return render(request, IMAGES_TEMPLATE, context, status=400)


@never_cache
@login_required
@require_GET
def page_qr(request: HttpRequest, pk: int, page_pk: int) -> HttpResponse:
    """The QR code of the page's public address as SVG (?download=1: saved as a file)."""
    page = _owned_page(request, pk, page_pk)
    url = public_origin(request) + reverse("public:landing", kwargs={"slug": page.slug})
    response = HttpResponse(qr_svg(url, title=f"QR code of {url}"), content_type="image/svg+xml")
    response["X-Content-Type-Options"] = "nosniff"
    if request.GET.get("download") == "1":
        response["Content-Disposition"] = f'attachment; filename="{page.slug}-qr.svg"'
    return response
