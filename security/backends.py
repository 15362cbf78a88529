"""The authentication backend: Django's model backend behind the login lockout, so the session
login, the admin login and `POST /api/auth/token` share one set of counters and events.

It also counts the authentication-success KPI ("successful logins ÷ attempts with the right
password"): `auth.valid_attempts` for every attempt giving an active account's right password,
`auth.valid_successes` for those that logged in. A lockout refusal checks nothing, so whether a
refused attempt had the right password is found out afterwards, for the KPI only (see
`_count_refused`): a real owner refused by the lockout then shows as a valid attempt that failed.
"""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import check_password
from django.http import HttpRequest

from monitoring.interface import count_kpi
from security import audit, lockout, services
from security.kpis import VALID_ATTEMPTS, VALID_SUCCESSES
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
            self._count_refused(identifier=identifier, ip=ip, password=password)
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
        count_kpi(VALID_ATTEMPTS)
        count_kpi(VALID_SUCCESSES)
        lockout.succeeded(identifier=identifier, ip=ip)
        services.security_event_record(kind=EventKind.LOGIN_SUCCEEDED, request=request, ip=ip or None, user=user)
        return user

    def _count_refused(self, *, identifier: str, ip: str, password: str) -> None:
        """After a lockout refusal is decided: was it the right password for an active account?
        Then it is a valid attempt that did not succeed. The answer is the same 429 either way.

        A password check per refused attempt would let a locked-out guesser make the server hash
        at will, so refusals are checked within small budgets a lockout window
        (`lockout.kpi_check_allowed`: per client, and per account for clients the account does not
        know): an owner retrying is counted, a flood from any number of addresses costs counter
        increments. Hashing happens for a missing account too, as Django's
        backend does, so the refusal's time does not tell whether the account exists; the stored
        hash is never upgraded here (nothing is written for a refused attempt)."""
        if not lockout.kpi_check_allowed(identifier=identifier, ip=ip):
            return
        try:
            user = User._default_manager.get_by_natural_key(identifier)
        except User.DoesNotExist:
            User().set_password(password)  # the cost of a check, for an account that does not exist
            return
        if check_password(password, user.password) and self.user_can_authenticate(user):
            count_kpi(VALID_ATTEMPTS)
