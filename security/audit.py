"""The security events of the API's refusals, written by whoever refuses (the API's exception
handler only renders errors): a bad token by the authentication or the token views, a
permission denied by the permission classes and the CSRF check. One event per address per
minute and kind, so a client retrying in a loop does not flood the log.

A throttled answer's `RateLimit-*` headers are added by `SecurityMiddleware`
(`refusal_headers`), from the refusal the throttle (or the login lockout) left on the request.
"""

from typing import Any, cast

from django.http import HttpRequest, HttpResponse
from rest_framework.request import Request

from security import limits, services
from security.models import EventKind, Severity


def _client_ip(request: HttpRequest | Request) -> str:
    return getattr(getattr(request, "_request", request), "client_ip", "")


def invalid_token(request: HttpRequest | Request) -> None:
    """A token that is not valid (forged, expired, revoked, used up) was presented."""
    if services.once_per(f"badtoken:{_client_ip(request)}", 60):
        services.security_event_record(kind=EventKind.INVALID_TOKEN, severity=Severity.LOW, request=request)


def permission_denied(request: Request) -> None:
    """An API request was refused with 403 (a permission, the CSRF check)."""
    if services.once_per(f"denied:{_client_ip(request)}", 60):
        services.security_event_record(kind=EventKind.PERMISSION_DENIED, severity=Severity.LOW, request=request)


def permission_refused(request: Request) -> None:
    """A permission class said no. DRF answers 401 instead of 403 when the request has
    authenticators and none of them authenticated it (`APIView.permission_denied`): that is a
    missing login, not a denial, and no event. (Not for the CSRF check: it runs inside the
    authentication, before `successful_authenticator` is known.)"""
    if request.authenticators and not request.successful_authenticator:
        return
    permission_denied(request)


def keep_refusal(request: HttpRequest | Request, refusal: limits.Refusal) -> None:
    """Leave a refusal on the request for the 429's headers (DRF or Django request)."""
    cast(Any, getattr(request, "_request", request)).ratelimit_refusal = refusal


def refusal_headers(request: HttpRequest, response: HttpResponse) -> None:
    """The `RateLimit-*` headers on an API 429 (one DRF built from a `Throttled`), from the
    refusal left on the request. Pages answer their own 429s (`limits.too_many_requests`)."""
    refusal = getattr(request, "ratelimit_refusal", None)
    if refusal is None or response.status_code != 429 or not getattr(response, "exception", False):
        return
    for name, value in limits.headers_for(refusal).items():
        response[name] = value
