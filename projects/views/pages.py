"""The founder's landing page editor: create a page from the prototype, edit every section with
a live preview beside the form, publish, unpublish and archive.

The live preview renders the unsaved form into the public page's own template, keeps that HTML
in the cache for a few minutes in the page's one preview slot (a variant has its own), each
rendering overwriting the last, and shows it in an <iframe> served to the page's owner only
(`page_preview_frame`), whose address changes with each rendering (?v=) so the frame reloads: the
public page's stylesheet applies as it would on /p/<slug>/, and no view of the page is recorded
(no tracking script, no `record_view`). A preview is a render per keystroke: the POST is rate
limited as page views are."""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from csp.constants import NONE, SELF
from csp.decorators import csp_replace, csp_update
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mvpvalidator import cache as app_cache
from mvpvalidator.exceptions import ApplicationError
from mvpvalidator.forms import add_service_errors
from mvpvalidator.links import site_origin
from projects import cache as keys
from projects.events.cookies import preview_token
from projects.forms.pages import PageForm, formset_tiers, tier_formset
from projects.forms.public import SignupForm
from projects.models import LandingPage, PageStatus
from projects.selectors.pages import landing_page_get, page_content
from projects.selectors.projects import project_get
from projects.selectors.variants import variant_list
from projects.services.pages import (
    landing_page_archive,
    landing_page_create,
    landing_page_preview,
    landing_page_publish,
    landing_page_unpublish,
    landing_page_update,
)
from security.limits import limit_view
from security.models import User

EDITOR_TEMPLATE = "projects/workspace/pages/edit.html"
# The pages that show the preview frame may frame this site (the site-wide policy frames nothing).
# django-csp types its decorators for views of the request alone: URL arguments pass through.
PREVIEW_FRAME_CSP = {"frame-src": [SELF]}


def owned_page(request: HttpRequest, pk: int, page_pk: int) -> LandingPage:
    """The signed-in founder's page of project `pk`; anyone else's (or another project's) is a 404."""
    page = landing_page_get(user=cast(User, request.user), pk=page_pk)
    if page.project_id != pk:
        raise Http404("No such page in this project.")
    return page


# --- The preview -----------------------------------------------------------------------------


def preview_store(page: LandingPage, *, variant_key: str = "") -> str | None:
    """Render `page` (an unsaved copy, or a variant's content laid over it) as the public page
    shows it, keep the HTML in the page's (or the variant's) preview slot for the owner's frame,
    and return the frame's URL (None when the cache is away: no preview then)."""
    html = render_to_string(
        "projects/workspace/pages/preview_page.html",
        {
            "page": page,
            "content": page_content(page, None),
            "form": SignupForm(),
            "form_token": "",
            "hidden_inputs": "",
        },
    )
    slot = keys.PAGE_PREVIEW_VARIANT + variant_key if variant_key else keys.PAGE_PREVIEW_PAGE
    try:
        app_cache.call(cache.set, keys.page_preview_key(page.pk, slot), html, keys.PAGE_PREVIEW_SECONDS)
    except app_cache.CacheUnavailable:
        return None
    # A new address per rendering: the frame (and any cache on the way) loads it afresh.
    frame = reverse("page-preview-frame", args=[page.project_id, page.pk, slot])
    return f"{frame}?v={secrets.token_urlsafe(6)}"


def public_links(request: HttpRequest, page: LandingPage) -> dict[str, str | None]:
    """The page's public link (absolute: `mvpvalidator.links.site_origin`, as the share card and
    the QR code make it) and the founder's preview link, which exists only while the page is
    public."""
    base = site_origin(request)
    public_url = base + reverse("public:landing", kwargs={"slug": page.slug})
    preview_link = f"{public_url}?preview={preview_token(page.pk)}" if page.status == PageStatus.PUBLISHED else None
    return {"public_url": public_url, "preview_link": preview_link}


def _editor(request: HttpRequest, page: LandingPage, form: PageForm, tiers: Any, **extra: Any) -> dict[str, Any]:
    return {
        "project": page.project,
        "page": page,
        "form": form,
        "tiers": tiers,
        "variants": list(variant_list(page=page)),
        **public_links(request, page),
        **extra,
    }


def _bound_forms(request: HttpRequest, page: LandingPage) -> tuple[PageForm, Any, dict[str, Any] | None]:
    """The editor's form and tier rows bound to the POST, and the page data when both are valid."""
    form = PageForm(request.POST, initial=PageForm.initial_for(page))
    tiers = tier_formset(page=page, data=request.POST)
    if form.is_valid() and tiers.is_valid():
        return form, tiers, form.page_data(formset_tiers(tiers))
    return form, tiers, None


@never_cache
@login_required
@require_POST
def page_create(request: HttpRequest, pk: int) -> HttpResponse:
    project = project_get(user=cast(User, request.user), pk=pk)
    try:
        page = landing_page_create(project=project)
    except (ValidationError, ApplicationError) as exc:
        messages.error(request, _message(exc))
        return redirect("project-detail", pk=project.pk)
    messages.success(request, "Your page is ready to edit. It stays a draft until you publish it.")
    return redirect("page-edit", pk=project.pk, page_pk=page.pk)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@csp_update(PREVIEW_FRAME_CSP)  # type: ignore[arg-type]
def page_edit(request: HttpRequest, pk: int, page_pk: int) -> HttpResponse:
    page = owned_page(request, pk, page_pk)
    if request.method == "GET":
        form, tiers = PageForm(initial=PageForm.initial_for(page)), tier_formset(page=page)
        context = _editor(request, page, form, tiers, preview_url=preview_store(page))
        return render(request, EDITOR_TEMPLATE, context)
    form, tiers, data = _bound_forms(request, page)
    if data is not None:
        try:
            landing_page_update(page=page, data=data)
        except (ValidationError, ApplicationError) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Page saved.")
            return redirect("page-edit", pk=pk, page_pk=page.pk)
    return render(request, EDITOR_TEMPLATE, _editor(request, page, form, tiers), status=400)


@never_cache
@login_required
@require_POST
@csp_update(PREVIEW_FRAME_CSP)
@limit_view("page_preview", rate_setting="page_view", methods=("POST",))
def page_preview(request: HttpRequest, pk: int, page_pk: int) -> HttpResponse:
    """The unsaved form rendered as the public page: a fragment (the <iframe>) for htmx, or the
    whole editor with the preview for a browser without script (its "Preview" button)."""
    page = owned_page(request, pk, page_pk)
    form, tiers, data = _bound_forms(request, page)
    preview_url = None
    if data is not None:
        try:
            preview_url = preview_store(landing_page_preview(page=page, data=data))
        except (ValidationError, ApplicationError) as exc:
            add_service_errors(form, exc)
    if request.htmx:  # type: ignore[attr-defined]
        context = {"page": page, "form": form, "tiers": tiers, "preview_url": preview_url}
        return render(request, "projects/workspace/pages/_preview.html", context)
    context = _editor(request, page, form, tiers, preview_url=preview_url, previewing=True)
    return render(request, EDITOR_TEMPLATE, context, status=200 if preview_url else 400)


@never_cache
@login_required
@require_GET
@xframe_options_sameorigin
@csp_replace({"frame-ancestors": [SELF], "form-action": [NONE]})  # type: ignore[arg-type]
def page_preview_frame(request: HttpRequest, pk: int, page_pk: int, key: str) -> HttpResponse:
    """The preview's HTML, to the page's owner only, framable by the editor (this origin) and
    nothing else; its forms go nowhere (a preview takes no signup)."""
    page = owned_page(request, pk, page_pk)
    try:
        html = app_cache.call(cache.get, keys.page_preview_key(page.pk, key))
    except app_cache.CacheUnavailable:
        html = None
    if html is None:
        raise Http404("This preview has expired: edit the page to see a new one.")
    return HttpResponse(html)


# --- Publishing ------------------------------------------------------------------------------


def _confirm(
    request: HttpRequest, page: LandingPage, *, action: str, title: str, body: str, button: str
) -> HttpResponse:
    """The question a destructive POST asks first (the confirming form posts `confirm=yes`)."""
    context = {"project": page.project, "page": page, "action": action, "title": title, "body": body, "button": button}
    return render(request, "projects/workspace/pages/confirm.html", context)


@dataclass(frozen=True)
class _Question:
    """What a status move asks before it is made: the URL name it posts to, and the dialog's words."""

    url_name: str
    title: str
    body: str
    button: str


def _status_move(
    request: HttpRequest,
    pk: int,
    page_pk: int,
    write: Callable[..., object],
    *,
    done: str,
    ask: _Question | None = None,
) -> HttpResponse:
    """Publish, unpublish or archive: `ask` first (unless the POST confirms it), then `write` the
    move and say on the editor how it went (a refusal in the service's words)."""
    page = owned_page(request, pk, page_pk)
    if ask is not None and request.POST.get("confirm") != "yes":
        action = reverse(ask.url_name, args=[pk, page.pk])
        return _confirm(request, page, action=action, title=ask.title, body=ask.body, button=ask.button)
    try:
        write(page=page)
    except (ValidationError, ApplicationError) as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(request, done)
    return redirect("page-edit", pk=pk, page_pk=page.pk)


@never_cache
@login_required
@require_POST
def page_publish(request: HttpRequest, pk: int, page_pk: int) -> HttpResponse:
    return _status_move(
        request, pk, page_pk, landing_page_publish, done="Published: the page is live at its public link."
    )


_UNPUBLISH = _Question(
    "page-unpublish",
    title="Unpublish this page?",
    body="Its public link will answer “not found” until you publish it again. "
    "A running experiment on it is paused. Signups so far are kept.",
    button="Unpublish",
)
_ARCHIVE = _Question(
    "page-archive",
    title="Archive this page?",
    body="It goes offline for good and cannot be edited or published again; its experiments end. "
    "Its signups are kept, and its address stays reserved to you.",
    button="Archive",
)


@never_cache
@login_required
@require_POST
def page_unpublish(request: HttpRequest, pk: int, page_pk: int) -> HttpResponse:
    done = "Unpublished: the page is a draft again."
    return _status_move(request, pk, page_pk, landing_page_unpublish, done=done, ask=_UNPUBLISH)


@never_cache
@login_required
@require_POST
def page_archive(request: HttpRequest, pk: int, page_pk: int) -> HttpResponse:
    return _status_move(request, pk, page_pk, landing_page_archive, done="Archived.", ask=_ARCHIVE)


def _message(exc: ValidationError | ApplicationError) -> str:
    if isinstance(exc, ApplicationError):
        return exc.message
    return " ".join(exc.messages)
