"""The application's error hierarchy.

Services raise these (or Django's `ValidationError`); the edges translate them: the API's
exception handler into the one JSON error shape, pages into form errors or error pages.
"""

from typing import Any


class ApplicationError(Exception):
    """A failure the caller can understand and act on (bad state, refused operation)."""

    status_code = 400
    default_code = "application_error"

    def __init__(self, message: str, *, code: str | None = None, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.extra = extra or {}


class ConflictError(ApplicationError):
    """The request is valid but the object's current state does not allow it."""

    status_code = 409
    default_code = "conflict"


class RequestTooLargeError(ApplicationError):
    """The request body is larger than the server reads (DATA_UPLOAD_MAX_MEMORY_SIZE)."""

    status_code = 413
    default_code = "request_too_large"


class ServiceUnavailableError(ApplicationError):
    """A backing service (database, provider) is down; the client may retry later."""

    status_code = 503
    default_code = "service_unavailable"
