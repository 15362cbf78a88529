"""The site's URLs plus two test-only views: one that lets itself be framed (no X-Frame-Options),
and one that fails (the 500 page)."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.clickjacking import xframe_options_exempt

from mvpvalidator.urls import urlpatterns as site


@xframe_options_exempt
def framed(request: HttpRequest) -> HttpResponse:
    return HttpResponse("framed")


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a failing view")


urlpatterns = [path("kpi-test/framed", framed), path("kpi-test/boom", boom), *site]
