"""A landing page's assets in the founder's workspace: its logo and hero image (upload, remove)
and the QR code of its public address. Owner only: another founder's page is a 404.

An upload larger than the cap is refused from its declared length, before its body is read: Django
would otherwise spool all of it to disk first (the CSRF check alone reads the form). So the image
form's view is left out of the CSRF middleware and checks the token itself, after that gate."""

from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from mvpvalidator.exceptions import ConflictError
from mvpvalidator.forms import add_service_errors
from projects.forms.page_images import FORMS, PageImageForm
from projects.models import LandingPage
from projects.qr import qr_svg
from projects.selectors.pages import landing_page_get_for_project
from projects.services.page_images import page_image_clear, page_image_set, upload_max_bytes_text
from projects.views.public import public_origin
from security.models import User

IMAGES_TEMPLATE = "projects/workspace/pages/images.html"
LABELS = {"logo": "logo", "hero": "hero image"}
# What a form's other fields (token, kind, action) and the multipart framing may add to the file.
FORM_ALLOWANCE_BYTES = 64 * 1024


def _owned_page(request: HttpRequest, pk: int, page_pk: int) -> LandingPage:
    # login_required ran first: the user is signed in.
    return landing_page_get_for_project(user=cast(User, request.user), project_pk=pk, pk=page_pk)


def _apply(form: PageImageForm, page: LandingPage) -> None:
    """Upload or remove the form's image (ValidationError / ConflictError: the service's refusal)."""
    if form.cleaned_data["action"] == "remove":
        page_image_clear(page=page, kind=form.kind)  # type: ignore[arg-type]  # FORMS' kinds
    else:
        page_image_set(page=page, kind=form.kind, upload=form.cleaned_data[form.field_name])  # type: ignore[arg-type]


def _declared_too_large(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False  # Django refuses a malformed length itself
    limit: int = settings.UPLOAD_MAX_BYTES
    return length > limit + FORM_ALLOWANCE_BYTES


def _too_large(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    """The images again with the size refusal beside the file field, the body left unread. The
    form's kind is in that body: the form action's ?kind= names it, else both fields say it."""
    message = f"The file is larger than {upload_max_bytes_text()}."
    kinds = [request.GET["kind"]] if request.GET.get("kind") in FORMS else list(FORMS)
    for kind in kinds:
        form = FORMS[kind]()
        form.errors[form.field_name] = form.error_class([message])
        context[f"{kind}_form"] = form
    # No Connection header (hop-by-hop: WSGI forbids it): the server deals with the unread body.
    return render(request, IMAGES_TEMPLATE, context, status=413)


@csrf_exempt  # checked by `csrf_protect` below, once the declared size has passed
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def page_images(request: HttpRequest, pk: int, page_pk: int) -> HttpResponse:
    """GET: the page's images on their own; POST: one image uploaded or removed, then back to the
    editor, or this page again with the error beside the field."""
    page = _owned_page(request, pk, page_pk)
    context: dict[str, Any] = {"project": page.project, "page": page}
    if request.method == "POST" and _declared_too_large(request):
        return _too_large(request, context)
    return _page_images(request, page, context)


@csrf_protect
def _page_images(request: HttpRequest, page: LandingPage, context: dict[str, Any]) -> HttpResponse:
    if request.method == "GET":
        return render(request, IMAGES_TEMPLATE, context)
    form_class = FORMS.get(request.POST.get("kind", ""), FORMS["logo"])
    form = form_class(request.POST, request.FILES)
    if form.is_valid():
        try:
            _apply(form, page)
        except ConflictError as exc:
            # The page or its project takes no changes any more: said on the editor, which shows why.
            messages.error(request, exc.message)
            return redirect("page-edit", page.project_id, page.pk)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            done = "removed" if form.cleaned_data["action"] == "remove" else "saved"
            messages.success(request, f"The {LABELS[form.kind]} is {done}.")
            return redirect("page-edit", page.project_id, page.pk)
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
