"""Deploy checks added by the hardening review: the refusing middleware's place, a TLS proxy
without trusted proxies, and production without a real email backend."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks

from security.checks import check_security_configuration
from security.ip import parse_networks


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


# --- the production environment, as `.ci/run` and the README's recipe set it -------------------

ROOT = Path(__file__).resolve().parent.parent.parent
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "a-long-random-secret-for-the-deploy-check-" + "0123456789abcdef" * 2,
    "DJANGO_ALLOWED_HOSTS": "mvp.example.com",
    "PUBLIC_BASE_URL": "https://mvp.example.com",
    "EMAIL_URL": "smtp+tls://smtp.example.com:587",
    "DJANGO_BEHIND_TLS_PROXY": "true",
    "TRUSTED_PROXIES": "10.0.0.0/8",
}


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    """`manage.py check --deploy --fail-level WARNING` (what CI runs) in a fresh interpreter."""
    names = ("DJANGO_", "DATABASE_", "REDIS_", "ENABLE_", "EMAIL_", "TRUSTED_PROXIES", "PUBLIC_BASE_URL")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(names)}
    clean.update({"DJANGO_SETTINGS_MODULE": "mvpvalidator.settings"}, **env)
    command = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    return subprocess.run(command, cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120)


def test_the_production_recipe_passes_the_deploy_check():
    result = check_deploy(PRODUCTION)
    assert result.returncode == 0, result.stderr


def test_behind_a_tls_proxy_without_trusted_proxies_the_deploy_check_fails():
    result = check_deploy({**PRODUCTION, "TRUSTED_PROXIES": ""})
    assert result.returncode != 0
    assert "mvp_security.E008" in result.stderr and "TRUSTED_PROXIES" in result.stderr


def test_production_without_a_mail_relay_fails_the_deploy_check():
    result = check_deploy({**PRODUCTION, "EMAIL_URL": ""})
    assert result.returncode != 0
    assert "mvp_security.W002" in result.stderr and "console" in result.stderr


# --- the same checks, run in this process --------------------------------------------------------


def deploy_ids() -> set[str]:
    return {m.id for m in checks.run_checks(include_deployment_checks=True)}


def test_a_tls_proxy_needs_trusted_proxies(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.TRUSTED_PROXY_NETWORKS = ()
    assert "mvp_security.E008" in deploy_ids()
    settings.TRUSTED_PROXY_NETWORKS = parse_networks(["10.0.0.0/8"])
    assert "mvp_security.E008" not in deploy_ids()
    settings.SECURE_PROXY_SSL_HEADER = None
    settings.TRUSTED_PROXY_NETWORKS = ()
    assert "mvp_security.E008" not in deploy_ids()  # no proxy: the peer is the client


@pytest.mark.parametrize("backend", ["console", "locmem", "dummy", "filebased"])
def test_production_warns_about_an_email_backend_that_delivers_nothing(settings, backend):
    settings.DEBUG = False
    settings.EMAIL_BACKEND = f"django.core.mail.backends.{backend}.EmailBackend"
    assert "mvp_security.W002" in deploy_ids()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    assert "mvp_security.W002" not in deploy_ids()
    settings.EMAIL_BACKEND = f"django.core.mail.backends.{backend}.EmailBackend"
    settings.DEBUG = True
    assert "mvp_security.W002" not in deploy_ids()  # development prints emails on purpose
