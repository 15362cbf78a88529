"""The security middleware: client address, block list, global rate limit, scanner paths,
4xx bursts, and the headers Django's own middleware does not set.

The common path costs no network round trip: the block list and the global quota are kept in
this process's memory and synced with Redis in the background (see `blocklist` and `limits`).
"""

import re
from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, JsonResponse

from monitoring.interface import current_context
from mvpvalidator.exception_handlers import error_body
from security import audit, blocklist, headers, kpis, limits, services
from security.ip import client_ip, client_key, in_networks

# Paths no visitor of this platform asks for, and every vulnerability scanner does.
SCANNER_PATH = re.compile(
    r"^/(?:wp-admin|wp-login\.php|wp-content|wp-includes|xmlrpc\.php|\.env|\.git(?:/|$)|\.svn|\.hg/|\.aws|\.ssh|"
    r"\.htaccess|\.DS_Store|phpmyadmin|pma/|myadmin|cgi-bin/|server-status|vendor/phpunit|boaform|actuator|"
    r"HNAP1|config\.php|admin\.php|setup\.php|shell|etc/passwd)",
    re.IGNORECASE,
)
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"
)
_BLOCKED_HTML = (
    b"<!doctype html><html lang=en><meta charset=utf-8><title>Blocked</title>"
    b"<h1>Access blocked</h1><p>Requests from your address are blocked for a while.</p></html>"
)


@lru_cache(maxsize=8192)
def _allowlisted(ip: str) -> bool:
    return bool(ip) and in_networks(ip, settings.SECURITY_ALLOWLIST_NETWORKS)


def blocked_response(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            error_body(code="ip_blocked", message="Requests from your address are blocked for a while."), status=403
        )
    else:
        response = HttpResponse(_BLOCKED_HTML, status=403, content_type="text/html; charset=utf-8")
    return response


class HeadersMiddleware:
    """The two headers this platform adds to every response beyond Django's own. A class of their
    own, above Django's SecurityMiddleware: its HTTPS redirect answers before anything below it
    runs, and that answer carries these too (header coverage counts every response)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # Built once; a response that already carries one of them keeps its own.
        self.headers = headers.prepare(
            {"Cross-Origin-Resource-Policy": "same-origin", "Permissions-Policy": PERMISSIONS_POLICY}
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        headers.set_default(response, self.headers)
        return response


class SecurityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.trusted = settings.TRUSTED_PROXY_NETWORKS
        self.limiting = settings.ENABLE_RATE_LIMITING
        self.ipv6_prefix = settings.IPV6_CLIENT_PREFIX

    def __call__(self, request: HttpRequest) -> HttpResponse:
        ip = client_ip(request.META, self.trusted)
        request.client_ip = ip  # type: ignore[attr-defined]
        # What limits, strikes and blocks count this client by (an IPv6 client is its /64).
        key = request.client_key = client_key(ip, ipv6_prefix=self.ipv6_prefix)  # type: ignore[attr-defined]
        # Read by the per-view limits and the API throttles, which the allow-list exempts too.
        allowlisted = request.allowlisted = _allowlisted(ip)  # type: ignore[attr-defined]
        ctx = current_context()
        if ctx is not None:  # the address on the request's log lines, errors and trace
            ctx.client_ip = ip
        # The allow-list wins over a block of the network around it (an IPv6 neighbour's /64).
        response = None if allowlisted else self._guard(request, ip, key)
        if response is None:
            response = self.get_response(request)
            status = response.status_code
            if status >= 400:
                if status == 429:
                    audit.refusal_headers(request, response)
                elif status < 500 and not allowlisted:
                    services.client_error(request=request)
        return response

    def _guard(self, request: HttpRequest, ip: str, key: str) -> HttpResponse | None:
        if blocklist.blocked_until(ip, key=key) is not None:
            services.blocked_request(request=request)
            return blocked_response(request)
        if kpis.watched and key in kpis.watched:  # a rate limit refused this client lately
            kpis.watched_request(key)
        if self.limiting:
            refusal = limits.check_global(key)
            if refusal is not None:
                limits.refused(request, refusal)
                return limits.too_many_requests(request, refusal)
        if SCANNER_PATH.match(request.path):
            services.scanner_probe(request=request)
            if request.path.startswith("/api/"):
                return JsonResponse(error_body(code="not_found", message="Not found."), status=404)
            return HttpResponseNotFound(b"Not found", content_type="text/plain; charset=utf-8")
        return None
