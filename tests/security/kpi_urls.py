"""The site's URLs plus test-only views: one that lets itself be framed (no X-Frame-Options), one
that opts out of the Content-Security-Policy, and one that fails (the 500 page)."""

from csp.decorators import csp_exempt
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.clickjacking import xframe_options_exempt

from mvpvalidator.urls import urlpatterns as site


@xframe_options_exempt
def framed(request: HttpRequest) -> HttpResponse:
    return HttpResponse("framed")


@csp_exempt()
def no_policy(request: HttpRequest) -> HttpResponse:
    return HttpResponse("no policy")


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a failing view")


urlpatterns = [
    path("kpi-test/framed", framed),
    path("kpi-test/no-policy", no_policy),
    path("kpi-test/boom", boom),
    *site,
]
