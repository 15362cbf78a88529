"""The reference of the public page's benchmark: a bare Django app, served like the platform
(gunicorn, 2 sync workers) in the same run: only Django's `SecurityMiddleware` and
`CommonMiddleware`, one view returning a static page of about 1.5 KB. No database, no cache, no
template, no app of the platform: what Django itself costs a request on this machine.

    gunicorn bench.bare_app:application

Its own settings, configured here (not `DJANGO_SETTINGS_MODULE`): the platform's settings pull
in its apps, which is what this reference leaves out.
"""

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse
from django.urls import path

# About 1.5 KB of HTML, the same every time.
PAGE = (
    b"<!doctype html><html lang=en><head><meta charset=utf-8>"
    b"<meta name=viewport content='width=device-width, initial-scale=1'><title>A landing page</title>"
    b"</head><body><header><a href='/'>Invoice Chaser</a></header><main><h1>Get paid on time</h1>"
    b"<p>Reminders that chase late invoices for you, politely and on schedule.</p>"
    + b"".join(
        b"<section><h2>Benefit %d</h2><p>A sentence that tells a visitor why this matters, "
        b"long enough to look like real copy on a real page.</p></section>" % i
        for i in range(1, 8)
    )
    + b"<form method=post action='/signup'><input type=email name=email required>"
    b"<button type=submit>Join the waiting list</button></form></main></body></html>"
)


def page(request: HttpRequest, anything: str = "") -> HttpResponse:
    return HttpResponse(PAGE, content_type="text/html; charset=utf-8")


# Any address (the benchmark asks for the public page's own path).
urlpatterns = [path("", page), path("<path:anything>", page)]

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-bare-app-static-page-no-secret-to-keep",  # noqa: S106 - signs nothing
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=["django.middleware.security.SecurityMiddleware", "django.middleware.common.CommonMiddleware"],
        INSTALLED_APPS=[],
        USE_TZ=True,
    )

application = get_wsgi_application()
