"""The project's URLs plus a view that always raises and one that always answers, for the
Sentry end-to-end tests (`@pytest.mark.urls("tests.monitoring.urls_raise")`)."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

import mvpvalidator.urls


class BoomError(RuntimeError):
    pass


@csrf_exempt  # posted to through the bare WSGI handler, which has no test-client CSRF bypass
def boom_view(request: HttpRequest, pk: int) -> HttpResponse:
    password = request.POST.get("password", "")  # a local, so it is in the frame's variables
    raise BoomError(f"boom {pk}: upstream said no to Bearer {request.POST.get('refresh_token', '')} ({len(password)})")


def ok_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [
    path("boom/<int:pk>/", boom_view),
    path("ok/", ok_view),
    *mvpvalidator.urls.urlpatterns,
]

handler404 = mvpvalidator.urls.handler404
handler500 = mvpvalidator.urls.handler500
