"""Project-wide pages: the home page and the error pages (JSON under /api/, HTML elsewhere)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import defaults

from mvpvalidator.exception_handlers import json_error_response


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _wants_json(request):
        return json_error_response(status=404, code="not_found", message="Not found.")
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return json_error_response(
            status=500, code="server_error", message="Something went wrong on our side; it has been logged."
        )
    return defaults.server_error(request)
