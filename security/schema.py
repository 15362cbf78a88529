"""OpenAPI description of the project's authentication classes (drf-spectacular)."""

from drf_spectacular.authentication import SessionScheme as DrfSessionScheme
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class CachedJWTScheme(SimpleJWTScheme):
    """The cached JWT authentication is simplejwt's bearer scheme on the wire."""

    target_class = "security.authentication.CachedJWTAuthentication"


class SessionScheme(DrfSessionScheme):
    """The session authentication that records CSRF refusals is DRF's cookie scheme on the wire."""

    target_class = "security.authentication.SessionAuthentication"
