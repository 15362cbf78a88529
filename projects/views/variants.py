"""Variants of a landing page: add one (identical to the page), edit what it changes with a live
preview, delete it. The page comes from the owner-scoped selector first; another founder's page
or variant is a 404."""

from csp.decorators import csp_update
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from mvpvalidator.exceptions import ApplicationError
from mvpvalidator.forms import add_service_errors
from projects.forms.pages import VariantForm
from projects.models import LandingPage, PageVariant
from projects.selectors.variants import variant_as_page, variant_get, variant_values
from projects.services.variants import variant_create, variant_delete, variant_overrides, variant_update
from projects.views.pages import PREVIEW_FRAME_CSP, owned_page, preview_store
from security.limits import limit_view

EDITOR_TEMPLATE = "projects/workspace/pages/variant_edit.html"


def _initial(page: LandingPage, variant: PageVariant) -> dict[str, object]:
    values = variant_values(page=page, variant=variant)
    return {**values, "features": "\n".join(values["features"]), "name": variant.name}


@never_cache
@login_required
@require_POST
def variant_create_view(request: HttpRequest, pk: int, page_pk: int) -> HttpResponse:
    page = owned_page(request, pk, page_pk)
    try:
        variant = variant_create(page=page)
    except (ValidationError, ApplicationError) as exc:
        messages.error(request, exc.message if isinstance(exc, ApplicationError) else " ".join(exc.messages))
        return redirect("page-edit", pk=pk, page_pk=page.pk)
    messages.success(request, f"{variant.name} added: it shows the page as it is until you change it.")
    return redirect("variant-edit", pk=pk, page_pk=page.pk, key=variant.key)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@csp_update(PREVIEW_FRAME_CSP)  # type: ignore[arg-type]
def variant_edit(request: HttpRequest, pk: int, page_pk: int, key: str) -> HttpResponse:
    page = owned_page(request, pk, page_pk)
    variant = variant_get(page=page, key=key)
    initial = _initial(page, variant)
    if request.method == "GET":
        form = VariantForm(initial=initial, page=page)
        shown = variant_as_page(page=page, values=variant_values(page=page, variant=variant))
        preview_url = preview_store(shown, variant_key=variant.key)
        context = {"project": page.project, "page": page, "variant": variant, "form": form, "preview_url": preview_url}
        return render(request, EDITOR_TEMPLATE, context)
    form = VariantForm(request.POST, initial=initial, page=page)
    if form.is_valid():
        try:
            variant_update(variant=variant, name=form.cleaned_data["name"], values=form.values())
        except (ValidationError, ApplicationError) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{variant.name} saved.")
            return redirect("variant-edit", pk=pk, page_pk=page.pk, key=variant.key)
    context = {"project": page.project, "page": page, "variant": variant, "form": form}
    return render(request, EDITOR_TEMPLATE, context, status=400)


@never_cache
@login_required
@require_POST
@csp_update(PREVIEW_FRAME_CSP)
@limit_view("page_preview", rate_setting="page_view", methods=("POST",))
def variant_preview(request: HttpRequest, pk: int, page_pk: int, key: str) -> HttpResponse:
    """The variant's unsaved form rendered as the public page (see `views.pages.page_preview`)."""
    page = owned_page(request, pk, page_pk)
    variant = variant_get(page=page, key=key)
    form = VariantForm(request.POST, initial=_initial(page, variant), page=page)
    preview_url = None
    if form.is_valid():
        try:
            overrides = variant_overrides(page=page, values=form.values())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            shown = variant_as_page(
                page=page, values=variant_values(page=page, variant=PageVariant(overrides=overrides))
            )
            preview_url = preview_store(shown, variant_key=variant.key)
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "projects/workspace/pages/_preview.html", {"form": form, "preview_url": preview_url})
    context = {
        "project": page.project,
        "page": page,
        "variant": variant,
        "form": form,
        "preview_url": preview_url,
        "previewing": True,
    }
    return render(request, EDITOR_TEMPLATE, context, status=200 if preview_url else 400)


@never_cache
@login_required
@require_POST
def variant_delete_view(request: HttpRequest, pk: int, page_pk: int, key: str) -> HttpResponse:
    page = owned_page(request, pk, page_pk)
    variant = variant_get(page=page, key=key)
    if request.POST.get("confirm") != "yes":
        context = {
            "project": page.project,
            "page": page,
            "action": reverse("variant-delete", args=[pk, page.pk, variant.key]),
            "title": f"Delete {variant.name}?",
            "body": "Its changes are lost; the page itself is not touched.",
            "button": "Delete",
        }
        return render(request, "projects/workspace/pages/confirm.html", context)
    try:
        variant_delete(variant=variant)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{variant.name} deleted.")
    return redirect("page-edit", pk=pk, page_pk=page.pk)
