"""Project-wide pages: the home page and the error pages (JSON under /api/, HTML elsewhere)."""

import sys

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.views import defaults

from mvpvalidator.db import database_unreachable
from mvpvalidator.exception_handlers import json_error_response


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _wants_json(request):
        return json_error_response(status=404, code="not_found", message="Not found.")
    return defaults.page_not_found(request, exception)


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
