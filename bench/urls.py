"""Reference views: what "a bare Django view" costs on the same stack, same middleware."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from mvpvalidator.urls import handler404, handler500  # noqa: F401
from mvpvalidator.urls import urlpatterns as app_urlpatterns


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/bare", bare), *app_urlpatterns]
