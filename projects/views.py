"""The public landing pages: what visitors of /p/<slug>/ see and submit."""

from html import escape
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from projects import selectors, services, signup_tokens, tracking
from projects.forms import SignupForm, form_token
from projects.models import CtaKind, EventKind, LandingPage
from security.limits import limit_view


def _hidden_inputs(values: dict[str, str]) -> str:
    # On every landing view: plain escaping, not format_html's SafeString machinery.
    return "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in values.items())


def _first_touch(request: HttpRequest) -> dict[str, str]:
    """What the form carries to the signup: a signed render time, the referrer and UTM tags."""
    return {
        "form_token": form_token(),
        "ref": request.META.get("HTTP_REFERER", "")[:500],
        **{name: request.GET.get(name, "")[:200] for name in services.UTM_FIELDS},
    }


def _track(
    request: HttpRequest,
    public: selectors.PublicPage,
    visitor: str,
    kind: str,
    *,
    utm: dict[str, str] | None = None,
    referrer: str | None = None,
) -> None:
    experiment_id, variant = public.assignment(visitor)
    tracking.record(
        tracking.make_event(
            request,
            page_id=public.page.pk,
            kind=kind,
            visitor=visitor,
            experiment_id=experiment_id,
            variant=variant.key if variant else "",
            utm=utm,
            referrer=referrer,
            channel=tracking.visit_channel(request),
        )
    )


def _render_form_errors(
    request: HttpRequest, public: selectors.PublicPage, form: SignupForm, visitor: str
) -> HttpResponse:
    """The page again, with the form's errors (not cached: it shows what was typed)."""
    page = public.page
    _, variant = public.assignment(visitor)
    hidden = {"form_token": form_token(), **{k: form.data.get(k, "") for k in ("ref", *services.UTM_FIELDS)}}
    context = {"page": page, "content": selectors.page_content(page, variant), "form": form}
    context["hidden_inputs"] = mark_safe(_hidden_inputs(hidden))  # noqa: S308 - built by format_html
    return render(request, "projects/landing.html", context, status=400)


@require_GET
@limit_view("page_view", rate_setting="page_view", methods=("GET",), hot=True)
def landing_page(request: HttpRequest, slug: str) -> HttpResponse:
    public = selectors.public_page(slug=slug)
    page = public.page
    preview = request.GET.get("preview")
    if preview is not None:
        return _start_preview(request, page, preview)
    visitor, new_visitor = tracking.visitor_id(request)
    experiment_id, variant = public.assignment(visitor)
    html = (
        public.html[variant.key if variant else ""]
        .replace(selectors.SLOT_CSRF, get_token(request))
        .replace(selectors.SLOT_HIDDEN, _hidden_inputs(_first_touch(request)))
    )
    response = HttpResponse(html)
    event = tracking.make_event(
        request,
        page_id=page.pk,
        kind=EventKind.VIEW,
        visitor=visitor,
        experiment_id=experiment_id,
        variant=variant.key if variant else "",
    )
    tracking.record(event)
    if tracking.visit_channel(request) != event.channel:
        tracking.set_channel_cookie(response, event.channel, path=reverse("public:landing", kwargs={"slug": page.slug}))
    if new_visitor:
        tracking.set_visitor_cookie(response, visitor)
    return response


def _start_preview(request: HttpRequest, page: LandingPage, token: str) -> HttpResponse:
    """The founder's preview link: this browser's views of the page are counted apart from then on."""
    if tracking.preview_page_id(token) != page.pk:
        raise Http404("This preview link is invalid or has expired.")
    response = redirect(reverse("public:landing", kwargs={"slug": page.slug}))
    tracking.set_preview_cookie(response, {*tracking.previewed_pages(request), page.pk})
    return response


@csrf_exempt  # a beacon cannot carry the token; it records a count and changes nothing else
@require_POST
@limit_view("page_view", rate_setting="page_view", methods=("POST",), hot=True)
def track(request: HttpRequest, slug: str) -> HttpResponse:
    """The page script's beacon: `k=beacon` once loaded, `k=cta_click` on a call to action."""
    kind = request.POST.get("k", "")
    if kind not in (EventKind.BEACON, EventKind.CTA_CLICK):
        return HttpResponse("Unknown event.", status=400, content_type="text/plain")
    visitor, new_visitor = tracking.visitor_id(request)
    if new_visitor:  # no cookie: nothing to tie the event to
        return HttpResponse(status=204)
    _track(request, selectors.public_page(slug=slug), visitor, kind, utm={}, referrer="")
    return HttpResponse(status=204)


@require_http_methods(["GET", "POST"])
def preorder_entry(request: HttpRequest, slug: str) -> HttpResponse:
    """POST: the "Buy" click; GET: where it lands."""
    return preorder(request, slug) if request.method == "POST" else preorder_done(request, slug)


@limit_view("signup", rate_setting="signup", methods=("POST",))
def preorder(request: HttpRequest, slug: str) -> HttpResponse:
    """The fake door: the visitor clicked "Buy". Counted, then told the truth (see the template)."""
    public = selectors.public_page(slug=slug)
    page = public.page
    if page.cta_kind != CtaKind.PREORDER:
        raise Http404("This page takes no pre-orders.")
    visitor, new_visitor = tracking.visitor_id(request)
    _track(request, public, visitor, EventKind.PREORDER, utm={}, referrer="")
    response = redirect(reverse("public:preorder", kwargs={"slug": page.slug}))
    if new_visitor:
        tracking.set_visitor_cookie(response, visitor)
    return response


def preorder_done(request: HttpRequest, slug: str) -> HttpResponse:
    public = selectors.public_page(slug=slug)
    page = public.page
    if page.cta_kind != CtaKind.PREORDER:
        raise Http404("This page takes no pre-orders.")
    visitor, _ = tracking.visitor_id(request)
    _, variant = public.assignment(visitor)
    hidden = {"form_token": form_token(), "ref": "", **dict.fromkeys(services.UTM_FIELDS, "")}
    return render(
        request,
        "projects/preorder.html",
        {
            "page": page,
            "price": selectors.page_content(page, variant)["preorder_price"],
            "hidden_inputs": mark_safe(_hidden_inputs(hidden)),  # noqa: S308 - built by format_html
        },
    )


@require_POST
@limit_view("signup", rate_setting="signup", methods=("POST",))
def signup(request: HttpRequest, slug: str) -> HttpResponse:
    public = selectors.public_page(slug=slug)
    page = public.page
    form = SignupForm(request.POST)
    thanks_url = reverse("public:thanks", kwargs={"slug": page.slug})
    if form.is_bot():
        # Dropped quietly: the bot sees the same success a person would.
        return redirect(thanks_url)
    visitor, new_visitor = tracking.visitor_id(request)
    if not form.is_valid():
        return _render_form_errors(request, public, form, visitor)
    data = form.cleaned_data
    utm = {name: data[name] for name in services.UTM_FIELDS}
    result = services.signup_create(
        page=page,
        email=data["email"],
        base_url=request.build_absolute_uri("/"),
        name=data["name"],
        qualifying_answer=data["qualifying_answer"],
        utm=utm,
        referrer=data["ref"],
        consent=data["consent"],
        visitor_id=visitor,
    )
    if result.created:
        _track(request, public, visitor, EventKind.SIGNUP, utm=utm, referrer=data["ref"])
    query = urlencode({"already": 1}) if not result.created else ""
    response = redirect(f"{thanks_url}?{query}" if query else thanks_url)
    if new_visitor:
        tracking.set_visitor_cookie(response, visitor)
    return response


@require_GET
def thanks(request: HttpRequest, slug: str) -> HttpResponse:
    page = selectors.landing_page_get_published(slug=slug)
    return render(request, "projects/thanks.html", {"page": page, "already": request.GET.get("already") == "1"})


def _signup_action(request: HttpRequest, slug: str, token: str, action: str) -> HttpResponse:
    signup = signup_tokens.signup_from_token(token=token, action=action, slug=slug)
    if signup is None:
        raise Http404("This link is invalid or has expired.")
    done = False
    if request.method == "POST":
        if action == signup_tokens.CONFIRM:
            services.signup_confirm(signup=signup)
        else:
            services.signup_unsubscribe(signup=signup)
        done = True
    return render(
        request,
        "projects/signup_action.html",
        {"page": signup.landing_page, "signup": signup, "action": action, "done": done},
    )


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    return _signup_action(request, slug, token, signup_tokens.CONFIRM)


@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    return _signup_action(request, slug, token, signup_tokens.UNSUBSCRIBE)
