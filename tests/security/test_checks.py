"""The `mvp_security.*` deploy checks fail `check --deploy` when the configuration would lose
the top grade."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from security.checks import check_security_configuration, csp_problems

STRONG = {
    "default-src": ["'none'"],
    "script-src": ["'self'", "'nonce-x'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}


def ids() -> set[str]:
    return {m.id for m in check_security_configuration()}


def test_the_shipped_configuration_passes_with_production_cookies_and_hsts(settings):
    # What DJANGO_DEBUG=false turns on (the CI deploy check runs the real thing).
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    assert ids() == set()


def test_csp_problems():
    assert csp_problems(STRONG) == []
    assert "script-src allows 'unsafe-inline'" in csp_problems({**STRONG, "script-src": ["'self'", "'unsafe-inline'"]})
    assert "script-src allows 'unsafe-eval'" in csp_problems({**STRONG, "script-src": ["'unsafe-eval'"]})
    assert "object-src is not 'none'" in csp_problems(
        {k: v for k, v in STRONG.items() if k not in ("object-src", "default-src")}
    )
    assert "frame-ancestors is not 'none'" in csp_problems({**STRONG, "frame-ancestors": ["*"]})
    assert csp_problems({}) == ["no Content-Security-Policy is configured"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"CONTENT_SECURITY_POLICY": {"DIRECTIVES": {**STRONG, "script-src": ["'self'", "'unsafe-inline'"]}}}, "E001"),
        ({"SECURE_HSTS_SECONDS": 3600}, "E002"),
        ({"SESSION_COOKIE_SECURE": False}, "E003"),
        ({"SESSION_COOKIE_SAMESITE": "None"}, "E003"),
        ({"X_FRAME_OPTIONS": "SAMEORIGIN"}, "E004"),
        ({"SECURE_REFERRER_POLICY": "unsafe-url"}, "E004"),
        ({"ENABLE_RATE_LIMITING": False}, "W001"),
    ],
)
def test_each_weakening_is_reported(settings, change, expected):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    for name, value in change.items():
        setattr(settings, name, value)
    assert f"mvp_security.{expected}" in ids()


def test_middleware_below_whitenoise_is_reported(settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    mw = [m for m in settings.MIDDLEWARE if m != "security.middleware.SecurityMiddleware"]
    settings.MIDDLEWARE = [*mw, "security.middleware.SecurityMiddleware"]
    assert "mvp_security.E006" in ids()
    settings.MIDDLEWARE = mw
    assert "mvp_security.E005" in ids()


def test_check_deploy_fails_on_a_weakened_csp(settings):
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {**STRONG, "script-src": ["'self'", "'unsafe-eval'"]}}
    with pytest.raises(SystemCheckError, match="mvp_security.E001"):
        call_command("check", "--deploy", "--fail-level", "ERROR")
