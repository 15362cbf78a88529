"""Reference views: what "a bare Django view" costs on the same stack, same middleware."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from mvpvalidator.urls import handler404, handler500  # noqa: F401
from mvpvalidator.urls import urlpatterns as app_urlpatterns
from projects.models import Signup


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@csrf_exempt
@require_POST
def bare_insert(request: HttpRequest, page_id: int, project_id: int) -> HttpResponse:
    """One row into the signups table (same indexes and constraints as a real signup), nothing
    else: no form, no token, no sanitising, no transaction of its own, no event, no email."""
    Signup.objects.create(landing_page_id=page_id, project_id=project_id, email=request.POST["email"])
    return HttpResponse("ok", status=201, content_type="text/plain")


urlpatterns = [
    path("bench/bare", bare),
    path("bench/insert/<int:page_id>/<int:project_id>", bare_insert),
    *app_urlpatterns,
]
