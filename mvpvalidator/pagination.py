"""Pagination for the API.

- Limit/offset (the default): `?limit=&offset=`, newest first, at most 100 a page, with a count.
- Keyset (for long append-only lists): `?pagination=cursor&limit=`, then follow `next`. The
  cursor is the last row's (created_at, id), so page 1,000 is one index range read, like page 1.
"""

import base64
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

MAX_LIMIT = 100
# Far past any list's length, and well inside the 64-bit integer SQL takes for OFFSET (a bigger
# one overflowed the database driver: a 500).
MAX_OFFSET = 10**9


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    default_limit = 20
    max_limit = MAX_LIMIT

    def get_offset(self, request: Request) -> int:
        offset = super().get_offset(request)
        if offset > MAX_OFFSET:
            raise ValidationError({"offset": [f"Must be at most {MAX_OFFSET}."]})
        return offset


class LimitOffsetOrKeysetPagination(LimitOffsetPagination):
    """Limit/offset pages, or keyset pages with `?pagination=cursor` (see `keyset_page`)."""

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        keyset = [
            {
                "name": "pagination",
                "required": False,
                "in": "query",
                "description": "`cursor` for keyset pages: constant cost however deep, follow `next`.",
                "schema": {"type": "string", "enum": ["cursor"]},
            },
            {
                "name": "cursor",
                "required": False,
                "in": "query",
                "description": "The `cursor` of a keyset page's `next` link.",
                "schema": {"type": "string"},
            },
        ]
        return super().get_schema_operation_parameters(view) + keyset

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paged = super().get_paginated_response_schema(schema)
        return {**paged, "required": ["results"], "description": "Keyset pages carry no count and no previous."}


def _limit(request: Request, default: int = 20) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError({"limit": ["Must be a whole number."]}) from None
    if value < 1:
        raise ValidationError({"limit": ["Must be at least 1."]})
    return min(value, MAX_LIMIT)


def encode_cursor(created_at: datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{pk}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, pk = text.split("|")
        return datetime.fromisoformat(stamp), int(pk)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError({"cursor": ["Invalid cursor."]}) from None


def wants_keyset(request: Request) -> bool:
    return request.query_params.get("pagination") == "cursor" or "cursor" in request.query_params


def keyset_page(queryset: QuerySet[Any], request: Request, serialize: Any) -> Response:
    """Newest-first page of `queryset` after the request's cursor; `serialize(rows)` shapes it."""
    limit = _limit(request)
    rows_qs = queryset.order_by("-created_at", "-id")
    cursor = request.query_params.get("cursor")
    if cursor:
        created_at, pk = decode_cursor(cursor)
        # `created_at <= cursor` is implied by the OR, but the planner cannot start an index
        # range at an OR: without it the scan read (and dropped) every newer row, so page
        # 2,000 cost 2,000 pages. With it the index scan starts at the cursor.
        rows_qs = rows_qs.filter(created_at__lte=created_at).filter(
            Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=pk)
        )
    rows = list(rows_qs[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_url = None
    if has_more:
        url = remove_query_param(request.build_absolute_uri(), "offset")
        url = replace_query_param(url, "pagination", "cursor")
        next_url = replace_query_param(url, "cursor", encode_cursor(rows[-1].created_at, rows[-1].pk))
    return Response({"next": next_url, "results": serialize(rows)})
