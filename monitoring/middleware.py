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
a request pays no round trip for being measured. Every count of a request (its timing and its
header coverage) goes into the tally at once, and what can be built ahead is built in `__init__`
(field names, the coverage counts of each set of missing headers): every request pays this.
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
    response_header_names,
    response_header_store,
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
        # Header coverage: each required header by its lowercased name (how a response's header
        # store keys it) with the field of its `missing` counter; the HTTPS-only ones join them
        # on a response to an HTTPS request when HSTS is on.
        field = kpi_counters.counter_field
        self.required = {h.lower(): field(missing_header_counter(h)) for h in REQUIRED_RESPONSE_HEADERS}
        self.required_https = (
            {**self.required, **{h.lower(): field(missing_header_counter(h)) for h in HTTPS_RESPONSE_HEADERS}}
            if settings.SECURE_HSTS_SECONDS
            else None
        )
        self.responses = {field(HEADERS_RESPONSES): 1}
        self.https_responses = {**self.responses, field(HEADERS_HTTPS_RESPONSES): 1}
        # The coverage counts of a response by (HTTPS, the names it lacks): at most a few dozen.
        self.coverage_counts: dict[tuple[bool, frozenset[str]], dict[str, int]] = {}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # META directly: `request.headers` builds the whole header map, a cost on every request.
        request_id = context.accept_request_id(request.META.get("HTTP_X_REQUEST_ID"))
        request.request_id = request_id  # type: ignore[attr-defined]
        ctx = context.RequestContext(request_id=request_id, method=method_of(request))
        token = context.start(ctx)
        try:
            if not self.enabled:
                response = self.get_response(request)
                metrics.record(self._coverage(request, response))
            else:
                started = ctx.started = time.perf_counter()
                response = self.get_response(request)
                elapsed_ms = (time.perf_counter() - started) * 1000
                self._record(request, response, ctx, elapsed_ms)
            # Straight into the header store: the id is either ours (hex) or one that matched
            # `context.valid_request_id` (ASCII, no line break), so Django's checks have nothing to do.
            response_header_store(response)["x-request-id"] = ("X-Request-ID", request_id)
            return response
        finally:
            context.end(token)

    def _coverage(self, request: HttpRequest, response: HttpResponse) -> dict[str, int]:
        """The header-coverage counts of this response (a shared dict: `metrics.record` only reads it)."""
        present = response_header_names(response)
        if self.required_https is not None and request.is_secure():
            secure, required, complete = True, self.required_https, self.https_responses
        else:
            secure, required, complete = False, self.required, self.responses
        if present >= required.keys():
            return complete
        missing = frozenset(required.keys() - present)
        counts = self.coverage_counts.get((secure, missing))
        if counts is None:
            counts = {**complete, **{required[name]: 1 for name in missing}}
            self.coverage_counts[(secure, missing)] = counts
        return counts

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> None:
        # Known before the view runs, so an error raised by the view is filed under its route.
        ctx = context.current()
        if ctx is None:
            return
        route = ctx.route = route_of(request)
        project_id = view_kwargs.get("project_id")
        if project_id is None and "/projects/<int:pk>" in route:
            project_id = view_kwargs.get("pk")
        ctx.project_id = project_id

    def _record(self, request: HttpRequest, response: HttpResponse, ctx: context.RequestContext, ms: float) -> None:
        route = ctx.route = ctx.route or route_of(request)
        status = response.status_code
        if ctx.user_id is None:
            ctx.user_id = _user_id(request)
        counts = metrics.observation(
            ("r", ctx.method, route, f"{status // 100}xx"),
            ms,
            errors=1 if status >= 500 else 0,
            extra={"qn": ctx.query_count, "qus": int(ctx.query_ms * 1000)} if ctx.query_count else None,
        )
        counts.update(self._coverage(request, response))
        metrics.record(counts)
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
