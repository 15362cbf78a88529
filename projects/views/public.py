"""The public landing pages: what visitors of /p/<slug>/ see and submit.

Each view reads top to bottom: the page (`projects.selectors.pages.public_page`), the `Visit` built from the
request and the page (`projects.events.visit`: the visitor's cookies, traffic kind, channel and
variant), the answer, the visit's event, and the visit's cookies written onto the answer.

The forms here are anonymous: instead of Django's CSRF token they carry a form token bound to
the visitor's cookie (`projects.forms.public`), which the signup and the fake door's "Buy" check.
"""

import re
from html import escape
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mvpvalidator.links import site_origin
from projects import emails, signup_tokens
from projects.analysis.channels import UTM_FIELDS
from projects.events.cookies import visitor_cookie
from projects.events.touch import carried, says_nothing
from projects.events.visit import SignupTouch, Visit
from projects.forms.public import CARRIED_FIELDS, SignupForm, TokenCheck, check_token, form_token, token_id
from projects.models import CtaKind, EventKind, HoldReason
from projects.selectors.pages import (
    PublicPage,
    landing_page_get_published,
    page_content,
    page_theme,
    privacy_notice,
    public_page,
    share_card,
)
from projects.services.signups import (
    FormTokenUsed,
    SignupResult,
    held_signup_confirm,
    held_signup_create,
    signup_confirm,
    signup_create,
    signup_unsubscribe,
)
from projects.views.landing_html import SLOT_HIDDEN, SLOT_ORIGIN, SLOT_TOKEN, filled, page_cut, shown_page
from security.limits import form_count, limit_view


def public_origin(request: HttpRequest) -> str:
    """The scheme and host of the public pages' absolute addresses (share cards, QR codes)."""
    return site_origin(request)


def _hidden_inputs(values: dict[str, str]) -> str:
    # On every landing view: plain escaping, not format_html's SafeString machinery.
    return "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in values.items())


def _first_touch(request: HttpRequest, token: str) -> dict[str, str]:
    """What the form carries to the signup: its token, the referrer and the UTM tags."""
    return {
        "form_token": token,
        "ref": request.META.get("HTTP_REFERER", "")[:500],
        **{name: request.GET.get(name, "")[:200] for name in UTM_FIELDS},
    }


# The first-touch fields of a visit that says nothing of where it came from (no query string, no
# Referer: a typed address, a bookmark, most apps' in-app browsers), after the token's own input.
_NOTHING_TOUCHED = _hidden_inputs({"ref": "", **dict.fromkeys(UTM_FIELDS, "")})


def _first_touch_inputs(request: HttpRequest, token: str) -> str:
    """The hidden inputs of `_first_touch`, as HTML."""
    if says_nothing(request):
        return _hidden_inputs({"form_token": token}) + _NOTHING_TOUCHED
    return _hidden_inputs(_first_touch(request, token))


def _refused(request: HttpRequest, public: PublicPage) -> HttpResponse:
    """A form token minted for another browser: a cross-site POST, or cookies lost meanwhile."""
    return render(request, "projects/form_refused.html", {"page": public.page}, status=403)


def _settle_count(request: HttpRequest) -> None:
    """Send the form's rate-limit count now when the view left it to go with its binding
    (`limit_view(..., deferred=True)`): past the limit, `LimitReached` answers 429."""
    if (count := form_count(request)) is not None:
        count.settle()


def _render_form_errors(request: HttpRequest, visit: Visit, form: SignupForm) -> HttpResponse:
    """The page again, with the form's errors (not cached: it shows what was typed)."""
    _settle_count(request)  # a form past its limit is answered 429 before a page is rendered for it
    page = visit.public.page
    token = form_token(visitor_hash=visit.visitor_hash)
    hidden = {"form_token": token, **{k: form.data.get(k, "") for k in ("ref", *UTM_FIELDS)}}
    content = page_content(page, visit.variant)
    share = share_card(page, content, origin=public_origin(visit.request))
    context = {
        "page": shown_page(page, visit.variant, content),
        "content": content,
        "share": share,
        "form": form,
        "form_token": token,
    }
    context["hidden_inputs"] = mark_safe(_hidden_inputs(hidden))  # noqa: S308 - every value escaped
    return render(request, "projects/landing.html", context, status=400)


@require_GET
@limit_view("page_view", rate_setting="page_view", methods=("GET",), hot=True)
def landing_page(request: HttpRequest, slug: str) -> HttpResponse:
    public = public_page(slug=slug)
    visit = Visit(request, public)
    # Most views come with no query string: not parsed for nothing.
    preview = request.GET.get("preview") if request.META.get("QUERY_STRING") else None
    if preview is not None:
        # The founder's preview link: this browser's views of the page are counted apart from then on.
        if not visit.start_preview(preview):
            raise Http404("This preview link is invalid or has expired.")
        return visit.respond(HttpResponseRedirect(public.path))
    token = form_token(visitor_hash=visit.visitor_hash)
    page = filled(
        page_cut(public, visit.variant),
        {
            SLOT_TOKEN: token,
            SLOT_HIDDEN: _first_touch_inputs(request, token),
            SLOT_ORIGIN: public_origin(request),
        },
    )
    response = HttpResponse(page)
    # Per visitor (its token, its cookies): no shared cache may keep it.
    response["Cache-Control"] = "private, no-store"
    visit.record_view()
    return visit.respond(response)


@csrf_exempt  # a beacon cannot carry a token; it records a count and changes nothing else
@require_POST
@limit_view("page_view", rate_setting="page_view", methods=("POST",), hot=True)
def track(request: HttpRequest, slug: str) -> HttpResponse:
    """The page script's beacon: `k=beacon` once loaded, `k=cta_click` on a call to action."""
    kind = request.POST.get("k", "")
    if kind not in (EventKind.BEACON, EventKind.CTA_CLICK):
        return HttpResponse("Unknown event.", status=400, content_type="text/plain")
    cookie = visitor_cookie(request)
    if not cookie.issued:
        # No cookie, or one this platform did not sign (made up, or not re-signed by a page view
        # yet): nothing to tie the event to. Not counted, and answered like a counted one: a
        # beacon reads no answer, and a forger learns nothing from it. The page is not looked up.
        return HttpResponse(status=204)
    visit = Visit(request, public_page(slug=slug), cookie)
    visit.record(kind)
    return HttpResponse(status=204)


@csrf_exempt  # checked with the visitor-bound form token instead (see the module docstring)
@require_http_methods(["GET", "POST"])
def preorder_entry(request: HttpRequest, slug: str) -> HttpResponse:
    """POST: the "Buy" click; GET: where it lands."""
    return preorder(request, slug) if request.method == "POST" else preorder_done(request, slug)


@limit_view("signup", rate_setting="signup", methods=("POST",))
def preorder(request: HttpRequest, slug: str) -> HttpResponse:
    """The fake door: the visitor clicked "Buy". Counted, then told the truth (see the template)."""
    public = public_page(slug=slug)
    if public.page.cta_kind != CtaKind.PREORDER:
        raise Http404("This page takes no pre-orders.")
    visit = Visit(request, public)
    # A click needs no time to fill a form in: no minimum age here.
    token = request.POST.get("form_token", "")
    check = check_token(token, visitor_hash=visit.visitor_hash, min_age=0)
    if check == TokenCheck.OTHER_VISITOR:
        return _refused(request, public)
    if check == TokenCheck.OK:
        # A token counts one pre-order: the event's key is made from it, so the same "Buy" sent
        # again is stored once (no read or round trip of its own on this path).
        visit.record(EventKind.PREORDER, event_id=f"preorder-{token_id(token)}")
    return visit.respond(HttpResponseRedirect(reverse("public:preorder", kwargs={"slug": public.page.slug})))


def preorder_done(request: HttpRequest, slug: str) -> HttpResponse:
    public = public_page(slug=slug)
    page = public.page
    if page.cta_kind != CtaKind.PREORDER:
        raise Http404("This page takes no pre-orders.")
    visit = Visit(request, public)
    hidden = {"form_token": form_token(visitor_hash=visit.visitor_hash), "ref": "", **dict.fromkeys(UTM_FIELDS, "")}
    response = render(
        request,
        "projects/preorder.html",
        {
            "page": page,
            "price": page_content(page, visit.variant)["preorder_price"],
            "hidden_inputs": mark_safe(_hidden_inputs(hidden)),  # noqa: S308 - every value escaped
        },
    )
    return visit.respond(response)


@csrf_exempt  # checked with the visitor-bound form token instead (see the module docstring)
@require_POST
# The rate limit is counted with the token's binding, in its round trip (`signup_create`); before
# a held row or an errors page (`_settle_count`); after the view on the paths that send nothing.
@limit_view("signup", rate_setting="signup", methods=("POST",), deferred=True)
def signup(request: HttpRequest, slug: str) -> HttpResponse:
    """A signup form: stored, or, when it may be a bot's, held for a confirm button (never a
    thank-you for a signup that was not stored)."""
    public = public_page(slug=slug)
    form = SignupForm(request.POST)
    visit = Visit(request, public)
    token = form.data.get("form_token") or ""
    # Any age: a genuine token of another browser is refused however fast it came back.
    if check_token(token, visitor_hash=visit.visitor_hash, min_age=0) == TokenCheck.OTHER_VISITOR:
        return _refused(request, public)
    # A doubted submission may be a person's: what was wrong with what they typed is shown
    # first, as to anyone (it tells a bot nothing about the list).
    if not form.is_valid():
        return _render_form_errors(request, visit, form)
    reason = form.doubt(visitor_hash=visit.visitor_hash)
    if reason is not None:
        if not visit.issued:
            # No visitor cookie of ours came back: this client never loaded a page (a plain
            # script), or a person's browser refuses cookies. A confirm step bound to a cookie
            # issued by this very answer would vouch for nothing, so it gets the honest "nothing
            # was saved, reload and send again" instead, and no row is written.
            return _refused(request, public)
        return _hold(request, visit, form, reason)
    # The visit's first touch, not the form's fields (the pre-order step sends them blank): read
    # once, for the row and for its event.
    touch = visit.signup_touch(form.data)
    try:
        result = signup_create(**_signup_arguments(visit, form, touch, form_token_id=token_id(token)))
    except FormTokenUsed as exc:
        form.add_error(None, exc.message)
        return _render_form_errors(request, visit, form)
    return _signed_up(visit, touch, result)


def _signup_arguments(visit: Visit, form: SignupForm, touch: SignupTouch, *, form_token_id: str) -> dict[str, Any]:
    """`signup_create`'s arguments for a valid form and the visit's first touch: the one place for
    them, whether the signup is stored at once or after its confirm step."""
    data = form.cleaned_data
    return {
        "page": visit.public.page,
        "email": data["email"],
        "name": data["name"],
        "qualifying_answer": data["qualifying_answer"],
        "consent": data["consent"],
        "visitor_id": visit.visitor_id,
        "form_token_id": form_token_id,
        "link_base_url": emails.link_base_url(visit.request),
        "rate_count": form_count(visit.request),
        **touch,
    }


def _signed_up(visit: Visit, touch: SignupTouch, result: SignupResult) -> HttpResponse:
    if result.created:
        visit.record(EventKind.SIGNUP, touch=touch)
    # The same answer whether or not the address was on the list already: anyone may type any
    # address, and a different page would tell them who signed up.
    # A URL, not a view name: `redirect` would first try to reverse it as one (and fail).
    return visit.respond(HttpResponseRedirect(visit.public.thanks_path))


# The fields a held submission carries to its confirm step (with what the form carried for the first
# touch, `_held_data`): the form as sent, but the honeypot and the form token (its id travels on
# its own, `form_token_id`).
_HELD_FIELDS = tuple(name for name in SignupForm.base_fields if name not in ("website", "form_token"))


def _held_data(form: SignupForm) -> dict[str, str]:
    # The form's fields as sent (valid, so within their lengths); what it carried cut to its
    # columns, as the first touch keeps it: the hold token is no larger than a stored signup.
    return {
        **{name: str(form.data.get(name) or "") for name in _HELD_FIELDS},
        **{name: carried(form.data, name) for name in CARRIED_FIELDS},
    }


def _hold(request: HttpRequest, visit: Visit, form: SignupForm, reason: HoldReason) -> HttpResponse:
    """The confirm step of a doubted submission: a page with one button (no script needed, no
    puzzle), whose token carries the submission; counted as held until it is pressed."""
    _settle_count(request)  # the rate limit first: a refused form leaves no held row
    held = held_signup_create(page=visit.public.page, reason=reason)
    token = form.data.get("form_token") or ""
    # The form token, when genuine, still serves one signup: the confirmed one.
    valid = check_token(token, visitor_hash=visit.visitor_hash, min_age=0) == TokenCheck.OK
    hold_token = signup_tokens.make_hold_token(
        held_id=held.pk,
        page_id=visit.public.page.pk,
        visitor_hash=visit.visitor_hash,
        form_token_id=token_id(token) if valid else "",
        data=_held_data(form),
    )
    context = {"page": visit.public.page, "email": form.cleaned_data["email"], "hold_token": hold_token}
    # 202: taken in, not yet done (a scripted client sees that nothing was stored).
    return visit.respond(render(request, "projects/signup_hold.html", context, status=202))


@csrf_exempt  # the confirm token is bound to the browser it was shown to (see make_hold_token)
@require_POST
@limit_view("signup", rate_setting="signup", methods=("POST",))
def signup_held(request: HttpRequest, slug: str) -> HttpResponse:
    """The confirm button of a held signup: the submission it carries is stored, once."""
    public = public_page(slug=slug)
    visit = Visit(request, public)
    hold = signup_tokens.hold_from_token(
        token=request.POST.get("hold", ""), page_id=public.page.pk, visitor_hash=visit.visitor_hash
    )
    if hold is None:
        return _refused(request, public)
    form = SignupForm(hold.data)
    if not form.is_valid():  # valid when held; only a change of the rules since would do this
        return _render_form_errors(request, visit, form)
    form_token_id = hold.form_token_id or f"held-{hold.held_id}"
    touch = visit.signup_touch(form.data)
    try:
        arguments = _signup_arguments(visit, form, touch, form_token_id=form_token_id)
        result = held_signup_confirm(held_id=hold.held_id, **arguments)
    except FormTokenUsed as exc:
        form.add_error(None, exc.message)
        return _render_form_errors(request, visit, form)
    if result is None:
        # Pressed before (a double click): that press stored it, so the thank-you is true.
        return visit.respond(HttpResponseRedirect(public.thanks_path))
    return _signed_up(visit, touch, result)


@require_GET
def thanks(request: HttpRequest, slug: str) -> HttpResponse:
    page = landing_page_get_published(slug=slug)
    return render(request, "projects/thanks.html", {"page": page})


def _signup_action(request: HttpRequest, slug: str, token: str, action: str) -> HttpResponse:
    signup = signup_tokens.signup_from_token(token=token, action=action, slug=slug)
    if signup is None:
        raise Http404("This link is invalid or has expired.")
    done = False
    if request.method == "POST":
        if action == signup_tokens.CONFIRM:
            signup_confirm(signup=signup)
        else:
            signup_unsubscribe(signup=signup)
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


@require_GET
def privacy(request: HttpRequest, slug: str) -> HttpResponse:
    """The page's privacy notice: who is responsible, what is collected, the cookies and why."""
    page = landing_page_get_published(slug=slug)
    return render(request, "projects/privacy.html", {"page": page, "notice": privacy_notice(page)})


# A theme's stylesheet depends on its colour alone: the same address is the same file for good.
ACCENT_HEX = re.compile(r"[0-9a-f]{6}")
THEME_CACHE_CONTROL = "public, max-age=31536000, immutable"


@require_GET
def theme_css(request: HttpRequest, accent: str) -> HttpResponse:
    """The accent colour of a page as CSS custom properties (the CSP allows no inline styles), at an
    address made of the colour (/p/theme/<rrggbb>.css): no page is looked up, any page or preview
    of that colour shares it, and a browser or CDN keeps it for good."""
    if not ACCENT_HEX.fullmatch(accent):
        raise Http404("No such theme.")
    theme = page_theme(f"#{accent}")
    css = (
        f":root {{ --accent: {theme.accent}; --accent-dark: {theme.accent_dark}; "
        f"--on-accent: {theme.on_accent}; --accent-text: {theme.accent_text}; }}\n"
    )
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = THEME_CACHE_CONTROL
    response["X-Content-Type-Options"] = "nosniff"
    return response
