"""The outermost middleware: a request id for every request, and (with
`ENABLE_PERFORMANCE_MONITORING`) its timing, status and queries counted per route pattern.
Queries are timed by a wrapper installed once on each database connection
(`monitoring.queries.install`); it records into the current request's context.

Every response, whatever answered it (a page, a refusal of the security layer, an error page, a
static file), is also counted for the security-header coverage KPI: `headers.responses`, and
`headers.missing.<name>` for each of security's required headers it lacks
(`headers.https_responses` the denominator of the HTTPS-only ones). The missing ones rather than
the present ones: a response with every header costs one count, not one per header. Measured
here because this middleware is outermost: what it sees is what the client gets.

Counting is in-memory and flushed to Redis in the background (see `monitoring.metrics`), so
a request pays no round trip for being measured.
"""

import logging
import time
from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import ResolverMatch
from django.utils.functional import SimpleLazyObject, empty

from monitoring import context, kpi_counters, metrics, operations, queries, traces
from security.interface import (
    HEADERS_HTTPS_RESPONSES,
    HEADERS_RESPONSES,
    HTTPS_RESPONSE_HEADERS,
    REQUIRED_RESPONSE_HEADERS,
    missing_header_counter,
)

logger = logging.getLogger("monitoring.requests")

UNMATCHED = "<unmatched>"
STATIC = "<static>"
# The methods a metric label, a slow-operation name or an error group may name. A client can
# send any token as a method (`FOO /`): each would be a new label set in the all-time totals.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})
OTHER_METHOD = "OTHER"


def method_of(request: HttpRequest) -> str:
    """The request's method as recorded: a standard one, else OTHER (bounded cardinality)."""
    method = request.method or ""
    return method if method in METHODS else OTHER_METHOD


def route_of(request: HttpRequest) -> str:
    """The URL pattern that served the request, never the raw path (bounded cardinality)."""
    match: ResolverMatch | None = getattr(request, "resolver_match", None)
    if match is not None and match.route:
        return "/" + match.route.lstrip("^").rstrip("$")
    if settings.STATIC_URL and request.path.startswith(settings.STATIC_URL):
        return STATIC
    return UNMATCHED


def _user_id(request: HttpRequest) -> int | None:
    # Never force a lazy session user here: that would cost anonymous requests a query.
    user = getattr(request, "user", None)
    if user is None or (isinstance(user, SimpleLazyObject) and cast(Any, user)._wrapped is empty):
        return None
    return user.pk if getattr(user, "is_authenticated", False) else None


class MonitoringMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.enabled = settings.ENABLE_PERFORMANCE_MONITORING
        self.slow_ms = settings.SLOW_OPERATION_THRESHOLD_MS
        # (header, its counter's field), built once: the check per response is a lookup per header.
        field_of = kpi_counters.field_of
        self.responses_field = field_of(HEADERS_RESPONSES)
        self.https_responses_field = field_of(HEADERS_HTTPS_RESPONSES)
        self.headers = tuple((h, field_of(missing_header_counter(h))) for h in REQUIRED_RESPONSE_HEADERS)
        self.https_headers = (
            tuple((h, field_of(missing_header_counter(h))) for h in HTTPS_RESPONSE_HEADERS)
            if settings.SECURE_HSTS_SECONDS
            else ()
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # META directly: `request.headers` builds the whole header map, a cost on every request.
        request_id = context.accept_request_id(request.META.get("HTTP_X_REQUEST_ID"))
        request.request_id = request_id  # type: ignore[attr-defined]
        ctx = context.RequestContext(request_id=request_id, method=method_of(request))
        token = context.start(ctx)
        try:
            if not self.enabled:
                response = self.get_response(request)
                counts: dict[str, int] = {}
            else:
                started = ctx.started = time.perf_counter()
                response = self.get_response(request)
                elapsed_ms = (time.perf_counter() - started) * 1000
                counts = self._record(request, response, ctx, elapsed_ms)
            response["X-Request-ID"] = request_id
            self._count_headers(request, response, counts)
            metrics.record(counts)  # the request's timing and its header counts: one call
            return response
        finally:
            context.end(token)

    def _count_headers(self, request: HttpRequest, response: HttpResponse, counts: dict[str, int]) -> None:
        counts[self.responses_field] = 1
        for header, name in self.headers:
            if header not in response:
                counts[name] = 1
        if self.https_headers and request.is_secure():
            counts[self.https_responses_field] = 1
            for header, name in self.https_headers:
                if header not in response:
                    counts[name] = 1

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> None:
        # Known before the view runs, so an error raised by the view is filed under its route.
        route = route_of(request)
        project_id = view_kwargs.get("project_id")
        if project_id is None and "/projects/<int:pk>" in route:
            project_id = view_kwargs.get("pk")
        context.bind(route=route, project_id=project_id)

    def _record(
        self, request: HttpRequest, response: HttpResponse, ctx: context.RequestContext, ms: float
    ) -> dict[str, int]:
        """Files what the request's timing tells (traces, slow queries and operations) and returns
        its counts, which the caller records with its own."""
        route = ctx.route = ctx.route or route_of(request)
        status = response.status_code
        if ctx.user_id is None:
            ctx.user_id = _user_id(request)
        counts = metrics.observed(
            ("r", ctx.method, route, f"{status // 100}xx"),
            ms,
            errors=1 if status >= 500 else 0,
            extra={"qn": ctx.query_count, "qus": int(ctx.query_ms * 1000)} if ctx.query_count else None,
        )
        # Before the slow queries are filed into their groups (which takes them off the context).
        traces.finish(ctx, path=request.path, status=status, ms=ms)
        if ctx.query_count:
            queries.record_query_metrics(ctx)
        if ctx.slow_queries and not ctx.database_away:
            queries.record_slow_queries(ctx)
        if ms >= self.slow_ms:
            if not ctx.database_away:
                operations.record_slow("request", f"{ctx.method} {route}", ms)
            logger.warning(
                "slow request %s %s took %.0f ms (%d queries, %.0f ms in the database)",
                ctx.method, route, ms, ctx.query_count, ctx.query_ms,
            )  # fmt: skip
        return counts
