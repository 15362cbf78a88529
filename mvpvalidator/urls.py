from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import urls as accounts_urls
from monitoring import urls as monitoring_urls
from monitoring.api import urls as monitoring_api_urls
from monitoring.api.performance import MetricsView
from mvpvalidator import media, views
from projects import urls as public_urls
from projects.api import urls as projects_api_urls
from security import views as security_views
from security.api import urls as security_api_urls


class SwaggerView(SpectacularSwaggerSplitView):
    """Swagger UI. Its OPTIONS answer would go through the HTML template renderer without a
    template (a 500); answer it plainly instead."""

    # A plain HttpResponse where DRF's stubs expect a Response: deliberate, see above.
    def options(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:  # type: ignore[override]
        return HttpResponse(status=204, headers={"Allow": "GET, HEAD, OPTIONS"})


api_urlpatterns: list[URLPattern | URLResolver] = [
    path("auth/", include(security_api_urls.auth_urlpatterns)),
    path("users/", include(security_api_urls.user_urlpatterns)),
    path("jobs/", include("jobs.urls")),
    path("monitoring/", include(monitoring_api_urls)),
    path("monitoring/", include(security_api_urls.monitoring_urlpatterns)),
    path("", include(projects_api_urls)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # Last: whatever else is asked for under /api/ is a 404 in the API's error shape (and one
    # route label in the metrics, not one per path).
    path("", views.api_not_found),
    path("<path:unmatched>", views.api_not_found),
]

urlpatterns = [
    path("", views.home, name="home"),
    # Before the admin's own URLs: its login page answers a lockout with a 429, not a 500.
    path("admin/login/", security_views.admin_login),
    path("admin/", admin.site.urls),
    path("accounts/", include(accounts_urls)),
    path("api/", include(api_urlpatterns)),
    path("p/", include(public_urls)),
    path("projects/", include("projects.founder_urls")),
    path("metrics", MetricsView.as_view(), name="metrics"),
    path("performance-monitor/", include(monitoring_urls)),
    # Uploads in local storage (a bucket serves its own; the view answers 404 then).
    path("media/<path:path>", media.media, name="media"),
]

handler400 = "mvpvalidator.views.bad_request"
handler403 = "mvpvalidator.views.permission_denied"
handler404 = "mvpvalidator.views.not_found"
handler500 = "mvpvalidator.views.server_error"
