"""django-csp's middleware, with the policy string built once rather than for every response.

django-csp 4 rebuilds the header from the settings dict on every response (about 150 µs here,
more than the rest of the security layer together). A response that used no nonce and carries
no per-view override (`@csp_update`, `@csp_exempt`...) gets exactly the configured policy, so
that string is built once per configuration (rebuilt when a setting changes); everything else
goes through django-csp unchanged. A plain middleware rather than django-csp's
`MiddlewareMixin` one: the anonymous landing page is the hot path and every layer counts. For the
same reason the header goes into the response's store as a prepared entry (`security.headers`),
and the lazy nonce is made without `LazyObject`'s attribute detours.
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
from django.utils.functional import empty

from security import headers
from security.headers import Entry

_OVERRIDES = frozenset({
    "_csp_config", "_csp_update", "_csp_replace", "_csp_exempt",
    "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro", "_csp_exempt_ro",
})  # fmt: skip
_SETTINGS = frozenset({"CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY", "DEBUG"})


class _Policy(NamedTuple):
    header: Entry | None  # the header as a store entry, None when no policy is configured
    header_ro: Entry | None
    excluded: tuple[str, ...]
    excluded_ro: tuple[str, ...]
    debug: bool


_policy: _Policy | None = None


def _prefixes(setting: str) -> tuple[str, ...]:
    return tuple((getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES") or ())


def _entry(name: str, value: str) -> Entry | None:
    return headers.prepare({name: value})[0] if value else None


def _current() -> _Policy:
    global _policy
    if _policy is None:
        enforced = getattr(settings, "CONTENT_SECURITY_POLICY", None)
        report_only = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
        _policy = _Policy(
            header=_entry(HEADER, build_policy() if enforced else ""),
            header_ro=_entry(HEADER_REPORT_ONLY, build_policy(report_only=True) if report_only else ""),
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


class _LazyNonce(CheckableLazyObject):
    """django-csp's lazy nonce, made without `LazyObject.__init__` and its `__setattr__` (two
    Python calls on every request); it behaves as django-csp's in every other way."""

    def __init__(self, func: Callable[[], str]) -> None:
        object.__setattr__(self, "_setupfunc", func)
        object.__setattr__(self, "_wrapped", empty)


# As django-csp does: a nonce asked for after the header went out is an error, not a no-op. One
# object serves every request: its set-up raises, so it never holds a value of its own.
_NONCE_AFTER_RESPONSE = CheckableLazyObject(CSPMiddleware._csp_nonce_post_response)


class CachedCSPMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.full = CSPMiddleware(get_response)  # nonces and per-view overrides

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request.csp_nonce = _LazyNonce(partial(_make_nonce, request))  # type: ignore[attr-defined]
        response = self.get_response(request)
        policy = _current()
        if "_csp_nonce" in request.__dict__ or not _OVERRIDES.isdisjoint(response.__dict__) or policy.debug:
            return self.full.process_response(request, response)
        path = request.path_info
        store = headers.store(response)
        entry = policy.header
        if entry is not None and entry[0] not in store and not (policy.excluded and path.startswith(policy.excluded)):
            store[entry[0]] = entry[1]
        entry = policy.header_ro
        if (
            entry is not None
            and entry[0] not in store
            and not (policy.excluded_ro and path.startswith(policy.excluded_ro))
        ):
            store[entry[0]] = entry[1]
        request.csp_nonce = _NONCE_AFTER_RESPONSE  # type: ignore[attr-defined]
        return response
