"""OpenAPI additions drf-spectacular cannot infer from the views (a postprocessing hook).

Every API error leaves through `mvpvalidator.exception_handlers` (or the JSON 404/500 handlers,
the rate limiter and the block list, which use the same `error_body`), so every operation can
answer with these statuses in that one shape. Without them the document promised only the
success answers, and a client generated from it had no type for an error.
"""

from typing import Any

ERROR_COMPONENT = "Error"
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The single error shape of the API (see mvpvalidator/exception_handlers.py).",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "example": "validation_error"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": True,
                    "description": "Per-field messages for a validation error; empty otherwise.",
                },
            },
            # Some errors add context, such as `retry_after` on a 429.
            "additionalProperties": True,
        }
    },
}
ERROR_RESPONSES = {
    "400": "The input is malformed or invalid.",
    "401": "No valid credentials (a token that is missing, expired or not valid).",
    "403": "Not allowed, or requests from this address are blocked.",
    "404": "No such object among the caller's own.",
    "405": "The method is not allowed on this path.",
    "409": "The object's state does not allow the change.",
    "413": "The request body is too large.",
    "415": "The request's content type is not accepted here.",
    "429": "Too many requests; see Retry-After.",
}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components[ERROR_COMPONENT] = ERROR_SCHEMA
    body = {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}}}}
    for path in result.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_RESPONSES.items():
                responses.setdefault(status, {"description": description, **body})
    return result
