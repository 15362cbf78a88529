"""The root URLconf, plus a placeholder for each workspace URL name that another part of the
workspace defines and this checkout does not have yet, so the shared layout and the project pages
(which link to them) render. A name that exists resolves to its real view: nothing is shadowed."""

from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, path, reverse

from mvpvalidator.urls import handler400, handler403, handler404, handler500
from mvpvalidator.urls import urlpatterns as real_urlpatterns

# (name, route) of every URL the shell and the project pages link to.
LINKED = (
    ("account-settings", "accounts/"),
    ("account-signup", "accounts/signup/"),
    ("prototype-list", "projects/<int:pk>/prototype/"),
    ("prototype-generate", "projects/<int:pk>/prototype/generate"),
    ("page-create", "projects/<int:pk>/pages/new"),
    ("page-edit", "projects/<int:pk>/pages/<int:page_pk>/"),
    ("page-publish", "projects/<int:pk>/pages/<int:page_pk>/publish"),
    ("signup-list", "projects/<int:pk>/signups/"),
)
SAMPLE_KWARGS = {"pk": 1, "page_pk": 1}


def placeholder(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse(f"placeholder for {request.resolver_match.url_name if request.resolver_match else '?'}")


def _missing(name: str, route: str) -> bool:
    kwargs = {key: value for key, value in SAMPLE_KWARGS.items() if f":{key}>" in route}
    try:
        found = reverse(name, urlconf="mvpvalidator.urls", kwargs=kwargs)
    except NoReverseMatch:
        return True
    # Some names are the API's too (prototype-list, signup-list): the page is what is linked.
    return found.startswith("/api/")


# Django's reverse() takes the last pattern of a name, so the placeholders come after the real
# ones (a placeholder's route never matches a real page: they are routes no part defines yet).
urlpatterns = [
    *real_urlpatterns,
    *(path(route, placeholder, name=name) for name, route in LINKED if _missing(name, route)),
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
