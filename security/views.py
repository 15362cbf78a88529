"""Server-rendered security pages: the session login and the admin login, behind the lockout
and a form limit."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator

from security import limits
from security.lockout import LockedOut


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


@method_decorator(login_form_limited, name="dispatch")
@method_decorator(lockout_answered, name="post")
class LoginView(auth_views.LoginView):
    pass


@login_form_limited
@lockout_answered
def admin_login(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """The admin's own login page, with the same lockout answer and form limit as the site's."""
    return admin.site.login(request, *args, **kwargs)
