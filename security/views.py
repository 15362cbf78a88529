"""Server-rendered security pages: the session login, behind the lockout and a form limit."""

from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator

from security import limits
from security.lockout import LockedOut


@method_decorator(limits.limit_view("login_form", rate_setting="login_form", methods=("POST",)), name="dispatch")
class LoginView(auth_views.LoginView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().post(request, *args, **kwargs)
        except LockedOut as exc:
            return limits.too_many_requests(request, exc.refusal())
