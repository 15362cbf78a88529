"""What the API's refusals tell the security layer: permission denials and bad tokens become
security events (one per address per minute and kind), and throttled answers get their
`RateLimit-*` headers."""

from typing import Any

from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import InvalidToken

from security import limits, services
from security.lockout import LockedOut
from security.models import EventKind, Severity


def api_refusal(exc: Exception, request: Any, response: Response) -> None:
    if isinstance(exc, exceptions.Throttled):
        django_request = getattr(request, "_request", request)
        refusal = getattr(django_request, "ratelimit_refusal", None)
        if refusal is None and isinstance(exc, LockedOut):
            refusal = exc.refusal()
        if refusal is not None:
            for name, value in limits.headers_for(refusal).items():
                response[name] = value
        return
    if request is None:
        return
    ip = getattr(getattr(request, "_request", request), "client_ip", "")
    if isinstance(exc, InvalidToken):
        if services.once_per(f"badtoken:{ip}", 60):
            services.security_event_record(kind=EventKind.INVALID_TOKEN, severity=Severity.LOW, request=request)
    elif isinstance(exc, exceptions.PermissionDenied) and services.once_per(f"denied:{ip}", 60):
        services.security_event_record(kind=EventKind.PERMISSION_DENIED, severity=Severity.LOW, request=request)
