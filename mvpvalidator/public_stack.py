"""The public pages' own middleware stack: what a visitor's browser asks for is served by a second
Django handler whose middleware is `PUBLIC_MIDDLEWARE`, not `MIDDLEWARE`.

A visitor of a landing page (the page, its beacon, its form, the pre-order and thank-you pages,
its theme stylesheet) has no session, signs nobody in, reads no flash message and posts forms
that carry the platform's own visitor-bound token instead of Django's CSRF token. What they do
need stays: the request id and timing, the security headers and CSP, the block list and the
per-address limits. `PUBLIC_MIDDLEWARE` is `MIDDLEWARE` without the rest (see the settings).

Which stack serves a request is decided by its view: `PublicStackMiddleware`, first in
`MIDDLEWARE`, resolves a path under `PUBLIC_PATH_PREFIX` and hands the request to the public
handler when the view is marked with `public_stack` (the public URLconf marks its routes); the
handler then uses that match rather than resolving again. Everything else, including an unmarked
route under the prefix (the emails' confirm and unsubscribe forms, which carry Django's CSRF
token), goes down `MIDDLEWARE` as before. Since the choice is made inside the middleware chain,
it holds wherever Django handles a request: gunicorn, runserver, the test client, a live server.

One founder's case remains: their own views of their page count apart, recognised by their
session (`projects.events.visit.signed_in_founder`). A request that brings a session cookie gets
`request.user`, read from the session when first asked for; nothing else of the session
machinery runs, and nothing is written back.
"""

import threading
from collections.abc import Callable
from functools import partial
from importlib import import_module
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.base import BaseHandler
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, ResolverMatch, get_resolver
from django.utils.functional import SimpleLazyObject

MARK = "served_by_public_stack"

View = TypeVar("View", bound=Callable[..., Any])


def public_stack(view: View) -> View:
    """Mark a view as served by the public stack: it reads no session, user or message, and a
    form it takes is not checked by Django's CSRF middleware (it must be `csrf_exempt` and check
    a token of its own, or take no unsafe method)."""
    setattr(view, MARK, True)
    return view


def session_user(request: HttpRequest) -> AbstractBaseUser | AnonymousUser:
    """The user the request's session cookie signs in (or AnonymousUser), read as Django's
    authentication middleware would, without the session middleware: nothing is saved."""
    engine = import_module(settings.SESSION_ENGINE)
    request.session = engine.SessionStore(request.COOKIES[settings.SESSION_COOKIE_NAME])
    return get_user(request)


# `BaseHandler.load_middleware` reads `settings.MIDDLEWARE`: the public handler shows it its own
# list for the length of the call. Handlers are built when a process starts (or a test client
# first sends a request); the lock keeps two built at once from seeing each other's list.
_loading = threading.Lock()


class PublicHandler(BaseHandler):
    """A Django handler with `middleware` as its stack, serving requests already resolved."""

    def __init__(self, middleware: list[str]) -> None:
        super().__init__()
        with _loading:
            configured = settings.MIDDLEWARE
            settings.MIDDLEWARE = middleware
            try:
                self.load_middleware()
            finally:
                settings.MIDDLEWARE = configured
        # The chain `load_middleware` built (outermost middleware first), which answers a request
        # the way `get_response` does once the URLconf is set.
        self.chain: Callable[[HttpRequest], HttpResponse] = self._middleware_chain  # type: ignore[attr-defined]

    def resolve_request(self, request: HttpRequest) -> ResolverMatch:
        # Resolved by `PublicStackMiddleware`, which chose this stack by the view it found.
        match = request.resolver_match
        return match if match is not None else super().resolve_request(request)


class PublicStackMiddleware:
    """First in `MIDDLEWARE`: a request for a view marked `public_stack` goes down
    `PUBLIC_MIDDLEWARE`, every other one down the rest of `MIDDLEWARE`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        middleware = list(settings.PUBLIC_MIDDLEWARE)
        if f"{__name__}.{type(self).__name__}" in middleware:
            raise ImproperlyConfigured("PUBLIC_MIDDLEWARE must not contain PublicStackMiddleware (it would loop).")
        self.public = PublicHandler(middleware)
        self.prefix = settings.PUBLIC_PATH_PREFIX
        self.session_cookie = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path.startswith(self.prefix):
            try:
                match = get_resolver().resolve(path)
            except Resolver404:
                match = None
            if match is not None and getattr(match.func, MARK, False):
                request.resolver_match = match
                if self.session_cookie in request.COOKIES:
                    # Only a browser that signed in to the workspace brings one (the founder). A
                    # lazy object standing for the user, as AuthenticationMiddleware sets it.
                    request.user = SimpleLazyObject(partial(session_user, request))  # type: ignore[assignment]
                # The outer handler has set the URLconf and will close the request: the public
                # handler's chain answers, not its `get_response`, which would do both again.
                return self.public.chain(request)
        return self.get_response(request)
