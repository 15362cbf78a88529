"""The authentication backend: Django's model backend behind the login lockout, so the session
login, the admin login and `POST /api/auth/token` share one set of counters and events."""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from security import audit, lockout, services
from security.models import EventKind, Severity, User


def _client_ip(request: Any) -> str:
    django_request = getattr(request, "_request", request)
    return getattr(django_request, "client_ip", "") if django_request is not None else ""


class LockoutBackend(ModelBackend):
    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        identifier = str(username)
        ip = _client_ip(request)
        refused = lockout.attempt(identifier=identifier, ip=ip)
        if refused is not None:
            if lockout.first_refusal(refused):
                services.lockout_recorded(request=request, identifier=identifier, ip=ip)
            locked = lockout.LockedOut(refused.wait, limit=refused.limit)
            if request is not None:  # for the API's 429 headers (`SecurityMiddleware`)
                audit.keep_refusal(request, locked.refusal())
            raise locked
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            services.security_event_record(
                kind=EventKind.LOGIN_FAILED,
                severity=Severity.LOW,
                request=request,
                ip=ip or None,
                identifier=identifier,
            )
            return None
        lockout.succeeded(identifier=identifier, ip=ip)
        services.security_event_record(kind=EventKind.LOGIN_SUCCEEDED, request=request, ip=ip or None, user=user)
        return user
