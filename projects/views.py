"""The public landing pages: what visitors of /p/<slug>/ see and submit."""

import secrets
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from projects import selectors, services, signup_tokens
from projects.forms import SignupForm, form_token
from projects.models import LandingPage
from security.limits import limit_view

VISITOR_COOKIE = "mvp_vid"
VISITOR_COOKIE_MAX_AGE = 365 * 24 * 3600


def _visitor_id(request: HttpRequest) -> str:
    return request.COOKIES.get(VISITOR_COOKIE, "")[:64]


def _render_landing(request: HttpRequest, page: LandingPage, form: SignupForm, *, status: int = 200) -> HttpResponse:
    initial_hidden = {
        "form_token": form_token(),
        "ref": request.META.get("HTTP_REFERER", "")[:500],
        **{name: request.GET.get(name, "")[:200] for name in services.UTM_FIELDS},
    }
    if form.is_bound:  # a re-rendered form keeps what the visitor's first request carried
        initial_hidden.update({k: form.data.get(k, "") for k in ("ref", *services.UTM_FIELDS)})
    response = render(
        request, "projects/landing.html", {"page": page, "form": form, "hidden": initial_hidden}, status=status
    )
    if not _visitor_id(request):
        response.set_cookie(
            VISITOR_COOKIE,
            secrets.token_urlsafe(16),
            max_age=VISITOR_COOKIE_MAX_AGE,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
    return response


@require_GET
@limit_view("page_view", rate_setting="page_view", methods=("GET",))
def landing_page(request: HttpRequest, slug: str) -> HttpResponse:
    page = selectors.landing_page_get_published(slug=slug)
    return _render_landing(request, page, SignupForm())


@require_POST
@limit_view("signup", rate_setting="signup", methods=("POST",))
def signup(request: HttpRequest, slug: str) -> HttpResponse:
    page = selectors.landing_page_get_published(slug=slug)
    form = SignupForm(request.POST)
    thanks_url = reverse("public:thanks", kwargs={"slug": page.slug})
    if form.is_bot():
        # Dropped quietly: the bot sees the same success a person would.
        return redirect(thanks_url)
    if not form.is_valid():
        return _render_landing(request, page, form, status=400)
    data = form.cleaned_data
    result = services.signup_create(
        page=page,
        email=data["email"],
        base_url=request.build_absolute_uri("/"),
        name=data["name"],
        qualifying_answer=data["qualifying_answer"],
        utm={name: data[name] for name in services.UTM_FIELDS},
        referrer=data["ref"],
        consent=data["consent"],
        visitor_id=_visitor_id(request),
    )
    query = urlencode({"already": 1}) if not result.created else ""
    return redirect(f"{thanks_url}?{query}" if query else thanks_url)


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
