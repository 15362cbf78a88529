"""Server-rendered security pages: the session login and the admin login, behind the lockout
and a form limit. The site's login waits for a browser sign-up's email to be confirmed."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator

from security import limits
from security.lockout import LockedOut
from security.models import User


def lockout_answered(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer a login lockout (raised by the authentication backend while the form validates)
    with the 429 page and its Retry-After, instead of letting it become a 500."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except LockedOut as exc:
            return limits.too_many_requests(request, exc.refusal())

    return wrapper


login_form_limited = limits.limit_view("login_form", rate_setting="login_form", methods=("POST",))


class LoginForm(AuthenticationForm):
    """Django's, refusing an account whose address is not confirmed yet. Only once the password
    is right: a wrong one gets the usual message, so the form tells nobody that an address has
    an account, confirmed or not."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "unconfirmed": "Confirm your email address first: open the link we emailed you when you signed up.",
    }
    unconfirmed = False  # the page then offers to send the link again

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        if not user.email_confirmed:
            self.unconfirmed = True
            raise ValidationError(self.error_messages["unconfirmed"], code="unconfirmed")


@method_decorator(login_form_limited, name="dispatch")
@method_decorator(lockout_answered, name="post")
class LoginView(auth_views.LoginView):
    authentication_form = LoginForm


@login_form_limited
@lockout_answered
def admin_login(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """The admin's own login page, with the same lockout answer and form limit as the site's."""
    return admin.site.login(request, *args, **kwargs)
