"""The founder's account pages: sign-up and its confirmation, password reset, the account's
settings, email and password changes, the data export and the deletion.

The forms that create accounts or send emails are behind the same limits as the API: sign-up
shares the API registration's quota (`register` in `API_THROTTLES`, per client), the email
forms a per-client form limit and a per-address cap (`accounts.emails`); the forms that check
the password a per-client limit like the login's.

The emailed links (the sign-up confirmation, the email change) act only on a POST from the page
they open: a GET shows what the link will do and a button. A mail scanner that fetches links
uses nothing up, and a stranger cannot sign a browser in to their account with a link (login
CSRF): the POST needs the CSRF token of the page. Pages about the account are never cached."""

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from rest_framework.request import Request

from accounts import emails, exports, services, tokens
from accounts.forms import (
    DeleteForm,
    EmailChangeForm,
    PasswordResetForm,
    ResendForm,
    SetPasswordForm,
    SettingsForm,
    SignupForm,
)
from mvpvalidator.forms import add_service_errors
from security import limits
from security.models import User

# The address signed up with in this session, for the "check your inbox" page.
SIGNUP_EMAIL_SESSION_KEY = "accounts:signup_email"
BACKEND = "security.backends.LockoutBackend"

email_form_limited = limits.limit_view("account_email", rate_setting="account_email", methods=("POST",))
password_form_limited = limits.limit_view("account_password", rate_setting="login_form", methods=("POST",))


class _Registration:
    """What the API's throttle reads of a view: its scope."""

    throttle_scope = "register"


def registration_limited(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The API registration's limit on a page's POST: the same counters, rate and policy when
    Redis is away (`API_THROTTLES["register"]`), so the browser is no way around it."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST":
            throttle = limits.EndpointThrottle()
            if not throttle.allow_request(Request(request), _Registration()):
                refusal = cast(limits.Refusal, throttle.refusal)
                return limits.too_many_requests(request, refusal)
        return view(request, *args, **kwargs)

    return wrapper


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


@require_http_methods(["GET", "POST"])
@registration_limited
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.account_signup(**form.cleaned_data, base_url=emails.link_base_url(request))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            request.session[SIGNUP_EMAIL_SESSION_KEY] = user.email
            return redirect("account-signup-sent")
    return render(request, "accounts/signup.html", {"form": form})


@never_cache
@require_GET
def signup_sent(request: HttpRequest) -> HttpResponse:
    email = request.session.get(SIGNUP_EMAIL_SESSION_KEY, "")
    return render(request, "accounts/signup_sent.html", {"email": email, "form": ResendForm(initial={"email": email})})


@require_http_methods(["GET", "POST"])
@email_form_limited
def confirm_resend(request: HttpRequest) -> HttpResponse:
    form = ResendForm(request.POST or None, initial={"email": request.GET.get("email", "")})
    if request.method == "POST" and form.is_valid():
        services.account_confirmation_resend(email=form.cleaned_data["email"], base_url=emails.link_base_url(request))
        request.session[SIGNUP_EMAIL_SESSION_KEY] = form.cleaned_data["email"]
        messages.info(request, "If an account with this address is waiting for confirmation, a new link is on its way.")
        return redirect("account-signup-sent")
    return render(request, "accounts/confirm_resend.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        if request.method == "GET":
            # Checked on the way in, so a dead link says so before a click.
            tokens.read_token(purpose=tokens.SIGNUP_CONFIRM, token=token)
            return render(request, "accounts/link_confirm.html", {"purpose": tokens.SIGNUP_CONFIRM})
        user = services.account_confirm(token=token)
    except tokens.LinkInvalid as exc:
        return render(request, "accounts/link_invalid.html", {"message": exc.message, "resend": True}, status=400)
    login(request, user, backend=BACKEND)
    request.session.pop(SIGNUP_EMAIL_SESSION_KEY, None)
    messages.success(request, "Your email address is confirmed. Welcome!")
    return redirect("home")


@method_decorator(email_form_limited, name="dispatch")
class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetForm
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form: Any) -> HttpResponse:
        # Links from the configured public address, never from the request's Host header.
        self.extra_email_context = {"base_url": emails.link_base_url(self.request)}
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = SetPasswordForm
    template_name = "registration/password_reset_confirm.html"


@method_decorator(never_cache, name="dispatch")
@method_decorator(password_form_limited, name="dispatch")
class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's: the new password ends every other session and token of the account (the token
    version moves in `User.set_password`); this session is kept (`update_session_auth_hash`)."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("account-settings")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, "Your password is changed. Other devices and API tokens are signed out.")
        return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = SettingsForm(request.POST or None, initial={"name": user.name, "signup_digest": user.signup_digest})
    if request.method == "POST" and form.is_valid():
        try:
            services.account_update(user=user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Your account is saved.")
            return redirect("account-settings")
    return render(request, "accounts/settings.html", {"form": form})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@password_form_limited
def email_change(request: HttpRequest) -> HttpResponse:
    form = EmailChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        new_email = form.cleaned_data["email"]
        try:
            services.account_email_change_request(
                user=_user(request), password=form.cleaned_data["password"], new_email=new_email,
                base_url=emails.link_base_url(request),
            )  # fmt: skip
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.info(request, f"We sent a link to {new_email}. Your address changes when you click it.")
            return redirect("account-settings")
    return render(request, "accounts/email_change.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def email_confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        if request.method == "GET":
            link = tokens.read_token(purpose=tokens.EMAIL_CHANGE, token=token)
            context = {"purpose": tokens.EMAIL_CHANGE, "new_email": link.claims.get("new", "")}
            return render(request, "accounts/link_confirm.html", context)
        # Who this browser is signed in as, read before the change ends the account's sessions.
        signed_in_pk = request.user.pk
        user = services.account_email_change_confirm(token=token)
    except tokens.LinkInvalid as exc:
        return render(request, "accounts/link_invalid.html", {"message": exc.message}, status=400)
    messages.success(request, f"Your email address is now {user.email}.")
    # The change ended every session of the account; the browser that clicked stays signed in
    # if it is the account's own. It may be signed in to another account, or to none.
    if signed_in_pk == user.pk:
        request.user = user
        update_session_auth_hash(request, user)
        return redirect("account-settings")
    return redirect("login")


@never_cache
@login_required
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    fmt = request.GET.get("format")
    if fmt is None:
        return render(request, "accounts/export.html", {"kinds": exports.kinds()})
    if fmt == "json":
        response: HttpResponse | StreamingHttpResponse | FileResponse = StreamingHttpResponse(
            exports.json_chunks(user), content_type="application/json; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="mvp-validator-export.json"'
    elif fmt == "csv" and "kind" in request.GET:
        kind = exports.get(request.GET["kind"])
        if kind is None:
            raise Http404("No such kind of data.")
        response = StreamingHttpResponse(exports.csv_lines(user, kind), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="mvp-validator-{kind.name}.csv"'
    elif fmt == "csv":
        response = FileResponse(
            exports.csv_zip(user), as_attachment=True, filename="mvp-validator-export.zip",
            content_type="application/zip",
        )  # fmt: skip
    else:
        return HttpResponseBadRequest("Unknown format: use json or csv.")
    response["Cache-Control"] = "no-store"
    return cast(HttpResponse, response)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@password_form_limited
def delete(request: HttpRequest) -> HttpResponse:
    form = DeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_delete(user=_user(request), **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            logout(request)
            messages.success(request, "Your account and all its data are deleted.")
            return redirect("home")
    return render(request, "accounts/delete.html", {"form": form, "kinds": exports.kinds()})
