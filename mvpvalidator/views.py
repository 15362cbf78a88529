"""Project-wide pages: the home page and the error pages (JSON under /api/, HTML elsewhere)."""

import sys

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import redirect, render
from django.template import loader
from django.urls import Resolver404, resolve
from django.utils.http import escape_leading_slashes
from django.views import csrf, defaults

from mvpvalidator.db import database_unreachable
from mvpvalidator.exception_handlers import json_error_response


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def home(request: HttpRequest) -> HttpResponse:
    """A signed-in founder's home is their list of projects; anyone else reads what the product
    does and how to start."""
    if request.user.is_authenticated:
        return redirect("project-list")
    return render(request, "home.html")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _wants_json(request):
        return json_error_response(status=404, code="not_found", message="Not found.")
    return defaults.page_not_found(request, exception)


def api_not_found(request: HttpRequest, unmatched: str = "") -> HttpResponse:
    """Any URL under /api/ that no API view matches. A URL pattern rather than `handler404`
    alone because with DEBUG on Django answers an unmatched URL with its HTML debug page and
    never calls the handler; an API client gets the JSON error shape in every mode.

    Matching everything, it would stop `CommonMiddleware` from redirecting `/api/x/1` to
    `/api/x/1/`; it does that redirect itself when the URL with a slash is a real view."""
    path = request.path_info
    if settings.APPEND_SLASH and not path.endswith("/") and request.method in ("GET", "HEAD"):
        try:
            match = resolve(f"{path}/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            return HttpResponsePermanentRedirect(escape_leading_slashes(request.get_full_path(force_append_slash=True)))
    return json_error_response(status=404, code="not_found", message="Not found.")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A request Django refused before any view (a Host not in ALLOWED_HOSTS, a malformed
    body): the API's error shape under /api/."""
    if _wants_json(request):
        return json_error_response(status=400, code="bad_request", message="Bad request.")
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _wants_json(request):
        return json_error_response(
            status=403, code="permission_denied", message="You do not have permission to perform this action."
        )
    return defaults.permission_denied(request, exception)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: the API's error shape under /api/ (DRF's own views check CSRF themselves
    and answer in it already), Django's page elsewhere."""
    if _wants_json(request):
        return json_error_response(status=403, code="csrf_failed", message=f"CSRF check failed: {reason}")
    return csrf.csrf_failure(request, reason=reason)


# What a client told the database is away waits before trying again: about how long a restart
# or a fail-over takes.
DATABASE_RETRY_AFTER_SECONDS = 5


def _service_unavailable(request: HttpRequest) -> HttpResponse:
    message = "The database is unavailable for a moment; nothing was saved. Try again in a few seconds."
    if _wants_json(request):
        response: HttpResponse = json_error_response(status=503, code="database_unavailable", message=message)
    else:
        # No request context: its processors could reach for the very database that is away.
        response = HttpResponse(loader.render_to_string("503.html", {"message": message}), status=503)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """Django calls it while the uncaught exception is being handled, so sys.exc_info() has it.
    The database away (a restart, a fail-over, no pooled connection in time) is a 503 with
    Retry-After: the same request may succeed in a few seconds."""
    if database_unreachable(sys.exc_info()[1]):
        return _service_unavailable(request)
    if _wants_json(request):
        return json_error_response(
            status=500, code="server_error", message="Something went wrong on our side; it has been logged."
        )
    return defaults.server_error(request)
