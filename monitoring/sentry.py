"""Sentry error and performance reporting, switched on by `MonitoringConfig.ready` when a DSN is
set (and ENABLE_SENTRY_MONITORING is true).

What leaves the process is scrubbed twice: by the SDK's own scrubber (exact key names) and by
`scrub_event` below (key patterns, `Bearer` tokens inside free text), which also files each
event under the request id, route, user and project that `monitoring.context` knows about.

Hook signatures: https://docs.sentry.io/platforms/python/configuration/options/
"""

from collections.abc import Callable, Mapping
from typing import Any

import sentry_sdk
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.integrations.redis import RedisIntegration

from monitoring import context, scrub
from monitoring.scrub import FILTERED, SENSITIVE_HEADERS, is_sensitive_key, redact_text

# Load balancer probes, scrapers and static files: tracing them would spend the whole sample budget.
UNTRACED_PATH_PREFIXES = ("/api/monitoring/", "/static/", "/metrics")
UNTRACED_PATHS = frozenset({"/api/monitoring", "/api/monitoring/health", "/api/monitoring/live", "/health", "/live"})

# Tags set from the request context; they let an event be matched with log lines and error groups.
CONTEXT_TAGS = ("request_id", "route", "user_id", "project_id")


def init_sentry(*, dsn: str, environment: str, release: str | None, traces_sample_rate: float) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        integrations=[DjangoIntegration(), RedisIntegration()],
        # sentry-sdk 2.75 marks this deprecated in favour of `data_collection`, but passing
        # `data_collection` also switches off the SDK's own EventScrubber; explicit False keeps both.
        send_default_pii=False,
        traces_sampler=traces_sampler_for(traces_sample_rate),
        # The hooks take and return plain dicts; the SDK's Event is a TypedDict of the same shape.
        before_send=before_send,  # type: ignore[arg-type]
        before_send_transaction=before_send_transaction,  # type: ignore[arg-type]
        before_breadcrumb=before_breadcrumb,
    )


# --- Sampling -------------------------------------------------------------------------------


def is_untraced_path(path: str) -> bool:
    return path in UNTRACED_PATHS or path.startswith(UNTRACED_PATH_PREFIXES)


def _path_of(sampling_context: Mapping[str, Any]) -> str:
    environ = sampling_context.get("wsgi_environ") or {}
    if environ.get("PATH_INFO"):
        return str(environ["PATH_INFO"])
    scope = sampling_context.get("asgi_scope") or {}
    if scope.get("path"):
        return str(scope["path"])
    name = (sampling_context.get("transaction_context") or {}).get("name") or ""
    return name if name.startswith("/") else ""


def sample_rate_for(sampling_context: Mapping[str, Any], *, rate: float) -> float:
    """0 for probes and static files; else the caller's decision if it made one; else `rate`."""
    if is_untraced_path(_path_of(sampling_context)):
        return 0.0
    parent_sampled = sampling_context.get("parent_sampled")
    if parent_sampled is not None:
        return 1.0 if parent_sampled else 0.0
    return rate


def traces_sampler_for(rate: float) -> Callable[[Mapping[str, Any]], float]:
    def traces_sampler(sampling_context: Mapping[str, Any]) -> float:
        return sample_rate_for(sampling_context, rate=rate)

    return traces_sampler


# --- Scrubbing ------------------------------------------------------------------------------


def scrub_value(value: Any) -> Any:
    """A copy with sensitive keys' values filtered at any depth and strings redacted."""
    if isinstance(value, Mapping):
        return {k: FILTERED if is_sensitive_key(k) else scrub_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_value(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def scrub_headers(headers: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: FILTERED if name.lower() in SENSITIVE_HEADERS or is_sensitive_key(name) else scrub_value(value)
        for name, value in headers.items()
    }


def scrub_query_string(query: Any) -> Any:
    """A query string (`a=1&token=x`) or list of pairs with sensitive parameters filtered."""
    if isinstance(query, str):
        return scrub.scrub_query_string(query)
    if isinstance(query, list | tuple):
        return [_scrub_pair(pair) for pair in query]
    return scrub_value(query)


def _scrub_pair(pair: Any) -> Any:
    if isinstance(pair, list | tuple) and len(pair) == 2:
        name, value = pair
        return [name, FILTERED if is_sensitive_key(name) else scrub_value(value)]
    return scrub_value(pair)


def scrub_request(request: Mapping[str, Any]) -> dict[str, Any]:
    scrubbed = dict(request)
    if isinstance(request.get("headers"), Mapping):
        scrubbed["headers"] = scrub_headers(request["headers"])
    if "cookies" in request:
        cookies = request["cookies"]
        scrubbed["cookies"] = {k: FILTERED for k in cookies} if isinstance(cookies, Mapping) else FILTERED
    if "query_string" in request:
        scrubbed["query_string"] = scrub_query_string(request["query_string"])
    for key in ("data", "env", "url"):
        if key in request:
            scrubbed[key] = scrub_value(request[key])
    return scrubbed


def _scrub_stacktrace(stacktrace: Any) -> None:
    if not isinstance(stacktrace, dict):
        return
    for frame in stacktrace.get("frames") or ():
        if isinstance(frame, dict) and "vars" in frame:
            frame["vars"] = scrub_value(frame["vars"])


def scrub_breadcrumb(crumb: dict[str, Any]) -> dict[str, Any]:
    if isinstance(crumb.get("message"), str):
        crumb["message"] = redact_text(crumb["message"])
    data = crumb.get("data")
    if isinstance(data, Mapping):
        data = scrub_value(data)
        if "http.query" in data:
            data["http.query"] = scrub_query_string(crumb["data"]["http.query"])
        crumb["data"] = data
    return crumb


def scrub_event(event: dict[str, Any]) -> dict[str, Any]:
    """Filter secrets out of an event (or transaction) in place and return it."""
    if isinstance(event.get("request"), Mapping):
        event["request"] = scrub_request(event["request"])
    for key in ("extra", "contexts"):
        if key in event:
            event[key] = scrub_value(event[key])
    if isinstance(event.get("tags"), Mapping):
        event["tags"] = {k: redact_text(v) if isinstance(v, str) else v for k, v in event["tags"].items()}
    if isinstance(event.get("message"), str):
        event["message"] = redact_text(event["message"])
    if isinstance(event.get("logentry"), Mapping):
        event["logentry"] = scrub_value(event["logentry"])

    for section in ("exception", "threads"):
        values = event[section].get("values") if isinstance(event.get(section), dict) else None
        for item in values or ():
            if not isinstance(item, dict):
                continue
            if isinstance(item.get("value"), str):
                item["value"] = redact_text(item["value"])
            _scrub_stacktrace(item.get("stacktrace"))

    breadcrumbs = event.get("breadcrumbs")
    crumbs = breadcrumbs.get("values") if isinstance(breadcrumbs, dict) else breadcrumbs
    for crumb in crumbs if isinstance(crumbs, list) else ():
        if isinstance(crumb, dict):
            scrub_breadcrumb(crumb)

    for span in event.get("spans") or ():
        if not isinstance(span, dict):
            continue
        if isinstance(span.get("description"), str):
            span["description"] = redact_text(span["description"])
        if "data" in span:
            span["data"] = scrub_value(span["data"])
    return event


def add_context_tags(event: dict[str, Any]) -> dict[str, Any]:
    """Tag the event with the current request's id, route, user and project; tags already set win."""
    fields = context.as_log_fields()
    if not fields:
        return event
    tags = event.get("tags")
    if not isinstance(tags, dict):
        tags = event["tags"] = {}
    for name in CONTEXT_TAGS:
        if name in fields and name not in tags:
            tags[name] = str(fields[name])
    return event


# --- SDK hooks ------------------------------------------------------------------------------


def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    return add_context_tags(scrub_event(event))


def before_send_transaction(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    return add_context_tags(scrub_event(event))


def before_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    return scrub_breadcrumb(crumb)
