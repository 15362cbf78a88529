"""The headers the security layer writes on every response as prepared entries: stored exactly as
Django's own `response[name] = value` would store them, never over a header the response already
carries; and the CSP nonce around the response."""

import pytest
from csp.exceptions import CSPNonceError
from django.http import BadHeaderError, HttpResponse
from django.test import Client

from security import headers
from security.csp import CachedCSPMiddleware
from security.middleware import PERMISSIONS_POLICY, HeadersMiddleware

pytestmark = pytest.mark.django_db


def test_a_prepared_header_is_stored_as_django_stores_it():
    values = {"Permissions-Policy": PERMISSIONS_POLICY, "X-Note": "déjà ✓"}  # the last needs MIME encoding
    plain = HttpResponse()
    for name, value in values.items():
        plain[name] = value
    prepared = HttpResponse()
    headers.set_default(prepared, headers.prepare(values))
    assert list(prepared.items()) == list(plain.items())
    assert prepared.has_header("x-note") and "x-note" in headers.names(prepared)


def test_a_header_django_would_refuse_is_refused_when_prepared():
    with pytest.raises(BadHeaderError):
        headers.prepare({"X-Injected": "a\r\nSet-Cookie: x=1"})


def test_a_header_the_view_set_itself_is_kept(rf):
    def view(request):
        response = HttpResponse("x")
        response["Permissions-Policy"] = "camera=(self)"
        response["Content-Security-Policy"] = "default-src 'self'"
        return response

    response = CachedCSPMiddleware(HeadersMiddleware(view))(rf.get("/"))
    assert response["Permissions-Policy"] == "camera=(self)"
    assert response["Content-Security-Policy"] == "default-src 'self'"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"  # the one it did not set


def test_every_response_gets_the_same_headers_through_the_stack():
    first, second = Client().get("/api/monitoring/live"), Client().get("/no-such-page")
    for name in ("Content-Security-Policy", "Permissions-Policy", "Cross-Origin-Resource-Policy"):
        assert first[name] == second[name]
    assert second["Permissions-Policy"] == PERMISSIONS_POLICY


def test_a_nonce_asked_for_after_the_response_is_an_error_on_every_request(rf):
    middleware = CachedCSPMiddleware(lambda request: HttpResponse("x"))
    for _ in range(2):  # the object standing for the nonce after a response holds nothing over
        request = rf.get("/")
        middleware(request)
        assert not request.csp_nonce
        with pytest.raises(CSPNonceError):
            str(request.csp_nonce)


def test_a_nonce_is_made_once_per_request_and_only_when_asked_for(rf):
    seen = []

    def view(request):
        assert not request.csp_nonce  # nothing asked yet
        seen.append((str(request.csp_nonce), str(request.csp_nonce)))
        return HttpResponse("x")

    middleware = CachedCSPMiddleware(view)
    policies = [middleware(rf.get("/"))["Content-Security-Policy"] for _ in range(2)]
    (a, a_again), (b, _) = seen
    assert a == a_again and a != b
    assert f"'nonce-{a}'" in policies[0] and f"'nonce-{b}'" in policies[1]
