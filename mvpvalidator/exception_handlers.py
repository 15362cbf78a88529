"""One JSON error shape for every API error.

    {"error": {"code": "validation_error", "message": "...", "fields": {"email": ["..."]}}}

Django's `ValidationError`, `Http404`, `PermissionDenied` and `SuspiciousOperation` (a request
body too large, too many fields) and the application's `ApplicationError` are translated here,
so views and services never build error bodies.
"""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler

from mvpvalidator.exceptions import ApplicationError, RequestTooLargeError


def error_body(*, code: str, message: str, fields: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message, "fields": fields or {}}
    body.update(extra)
    return {"error": body}


def _first_code(detail: Any) -> str | None:
    codes = detail
    while isinstance(codes, (list, dict)) and codes:
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return codes if isinstance(codes, str) else None


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        # Django refuses to read a body past DATA_UPLOAD_MAX_MEMORY_SIZE when request.data is
        # parsed; left to Django it became an HTML 400 page.
        exc = RequestTooLargeError("The request body is too large.")
    elif isinstance(exc, SuspiciousOperation):
        # Too many form fields or files, a malformed multipart body: the client's input, not ours.
        exc = exceptions.ParseError(str(exc) or None)

    if isinstance(exc, ApplicationError):
        return Response(
            error_body(
                code=exc.code,
                message=exc.message,
                fields=exc.extra.get("fields"),
                **{k: v for k, v in exc.extra.items() if k != "fields"},
            ),
            status=exc.status_code,
        )

    response = exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: Django's 500 handler answers (also in JSON for /api/)
    assert isinstance(exc, exceptions.APIException)
    if isinstance(exc, exceptions.ValidationError):
        detail: Any = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = error_body(code="validation_error", message="Invalid input.", fields=detail)
        return response

    detail = exc.detail
    code = exc.get_codes()
    if isinstance(detail, dict):
        # simplejwt's token errors: {"detail": ..., "code": ..., "messages": [...]}
        message = str(detail.get("detail", exc.default_detail))
        code = str(detail.get("code", exc.default_code))
    else:
        message = str(detail)
        code = code if isinstance(code, str) else (_first_code(code) or exc.default_code)
    response.data = error_body(code=code, message=message)
    return response


def json_error_response(*, status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(code=code, message=message), status=status)
