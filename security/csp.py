"""django-csp's middleware, with the policy string built once rather than for every response.

django-csp 4 rebuilds the header from the settings dict on every response (about 150 µs here,
more than the rest of the security layer together). A response that used no nonce and carries
no per-view override (`@csp_update`, `@csp_exempt`...) gets exactly the configured policy, so
that string is built once per configuration (rebuilt when a setting changes); everything else
goes through django-csp unchanged. A plain middleware rather than django-csp's
`MiddlewareMixin` one: the anonymous landing page is the hot path and every layer counts.
"""

import base64
import os
from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.http.response import HttpResponseBase

_OVERRIDES = frozenset({
    "_csp_config", "_csp_update", "_csp_replace", "_csp_exempt",
    "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro", "_csp_exempt_ro",
})  # fmt: skip
_SETTINGS = frozenset({"CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY", "DEBUG"})


class _Policy(NamedTuple):
    header: str
    header_ro: str
    excluded: tuple[str, ...]
    excluded_ro: tuple[str, ...]
    debug: bool


_policy: _Policy | None = None


def _prefixes(setting: str) -> tuple[str, ...]:
    return tuple((getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES") or ())


def _current() -> _Policy:
    global _policy
    if _policy is None:
        _policy = _Policy(
            header=build_policy() if getattr(settings, "CONTENT_SECURITY_POLICY", None) else "",
            header_ro=build_policy(report_only=True)
            if getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
            else "",
            excluded=_prefixes("CONTENT_SECURITY_POLICY"),
            excluded_ro=_prefixes("CONTENT_SECURITY_POLICY_REPORT_ONLY"),
            debug=settings.DEBUG,
        )
    return _policy


@receiver(setting_changed)
def _forget_policy(*, setting: str, **kwargs: Any) -> None:
    global _policy
    if setting in _SETTINGS:
        _policy = None


def _make_nonce(request: HttpRequest) -> str:
    # As django-csp: every later read of request.csp_nonce returns the same value.
    stored = request.__dict__.get("_csp_nonce")
    if isinstance(stored, str):
        return stored
    nonce = base64.b64encode(os.urandom(16)).decode("ascii")
    request._csp_nonce = nonce  # type: ignore[attr-defined]
    return nonce


class CachedCSPMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.full = CSPMiddleware(get_response)  # nonces and per-view overrides

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request.csp_nonce = CheckableLazyObject(partial(_make_nonce, request))  # type: ignore[attr-defined]
        response = self.get_response(request)
        policy = _current()
        if "_csp_nonce" in request.__dict__ or not _OVERRIDES.isdisjoint(response.__dict__) or policy.debug:
            return self.full.process_response(request, response)
        path = request.path_info
        if policy.header and HEADER not in response and not (policy.excluded and path.startswith(policy.excluded)):
            response[HEADER] = policy.header
        if (
            policy.header_ro
            and HEADER_REPORT_ONLY not in response
            and not (policy.excluded_ro and path.startswith(policy.excluded_ro))
        ):
            response[HEADER_REPORT_ONLY] = policy.header_ro
        # As django-csp does: a nonce asked for after the header went out is an error, not a no-op.
        request.csp_nonce = CheckableLazyObject(CSPMiddleware._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response
