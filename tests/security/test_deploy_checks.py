"""Deploy checks added by the hardening review: the refusing middleware's place, a TLS proxy
without trusted proxies, and production without a real email backend."""

from security.checks import check_security_configuration


def ids() -> set[str]:
    return {m.id for m in check_security_configuration()}


def _production_headers(settings) -> None:
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True


def test_refusing_middleware_above_the_header_middleware_is_reported(settings):
    _production_headers(settings)
    assert "mvp_security.E007" not in ids()
    middleware = [m for m in settings.MIDDLEWARE if m != "security.middleware.SecurityMiddleware"]
    at = middleware.index("security.csp.CachedCSPMiddleware")
    settings.MIDDLEWARE = [*middleware[:at], "security.middleware.SecurityMiddleware", *middleware[at:]]
    assert "mvp_security.E007" in ids()
