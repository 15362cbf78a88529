"""Deployment checks (`manage.py check --deploy`) for the headers and cookies that keep the
platform's top HTTP Observatory grade, for the client address behind a proxy and for email in
production: each fails with an `mvp_security.*` id naming the fix."""

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

# The middleware that answers refusals itself (block list, rate limits, scanner paths).
REFUSING_MIDDLEWARE = "security.middleware.SecurityMiddleware"
HEADER_MIDDLEWARE = (
    "django.middleware.security.SecurityMiddleware",
    "security.csp.CachedCSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "security.middleware.HeadersMiddleware",
)
REQUIRED_MIDDLEWARE = ("monitoring.middleware.MonitoringMiddleware", *HEADER_MIDDLEWARE, REFUSING_MIDDLEWARE)
# Email backends that deliver nothing: they print, keep or drop the message, and the console and
# file backends put subscribers' addresses and confirmation links in the worker's log or disk.
NOT_DELIVERING_EMAIL_BACKENDS = frozenset({
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
})  # fmt: skip
SAFE_REFERRER_POLICIES = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}


def _directives() -> dict[str, list[str]]:
    policy = getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}
    return {k: list(v) for k, v in (policy.get("DIRECTIVES") or {}).items()}


def csp_problems(directives: dict[str, list[str]]) -> list[str]:
    """What in a CSP would cost the grade (pure: tested on its own)."""
    problems = []
    if not directives:
        return ["no Content-Security-Policy is configured"]
    script = directives.get("script-src", directives.get("default-src", []))
    if not script:
        problems.append("script-src (or default-src) is missing")
    for bad in ("'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"):
        if bad in script:
            problems.append(f"script-src allows {bad}")
    if directives.get("object-src", directives.get("default-src")) != ["'none'"]:
        problems.append("object-src is not 'none'")
    if directives.get("frame-ancestors") != ["'none'"]:
        problems.append("frame-ancestors is not 'none'")
    if directives.get("base-uri") not in (["'none'"], ["'self'"]):
        problems.append("base-uri is not 'none' or 'self'")
    if directives.get("form-action") not in (["'self'"], ["'none'"]):
        problems.append("form-action is not 'self'")
    if directives.get("default-src") != ["'none'"]:
        problems.append("default-src is not 'none'")
    return problems


def _middleware_problems(setting: str, middleware: list[str]) -> list[Error]:
    missing = [m for m in REQUIRED_MIDDLEWARE if m not in middleware]
    if missing:
        return [Error(f"Middleware missing from {setting}: {', '.join(missing)}.", id="mvp_security.E005")]
    if "whitenoise.middleware.WhiteNoiseMiddleware" in middleware and any(
        middleware.index(m) > middleware.index("whitenoise.middleware.WhiteNoiseMiddleware")
        for m in REQUIRED_MIDDLEWARE
    ):
        return [
            Error(
                f"Security middleware must sit above WhiteNoise in {setting}, or static files go out without "
                "the headers.",
                id="mvp_security.E006",
            )
        ]
    if any(middleware.index(m) > middleware.index(REFUSING_MIDDLEWARE) for m in HEADER_MIDDLEWARE):
        # A response short-circuits the middleware below the one that returns it.
        return [
            Error(
                f"{REFUSING_MIDDLEWARE} must sit below {', '.join(HEADER_MIDDLEWARE)} in {setting}, or its "
                "refusals (blocked addresses, rate limits, scanner paths) go out without the security headers.",
                id="mvp_security.E007",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_security_configuration(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    messages: list[Error | Warning] = []
    for problem in csp_problems(_directives()):
        messages.append(
            Error(f"CSP: {problem}.", hint="See CONTENT_SECURITY_POLICY in settings.", id="mvp_security.E001")
        )
    if settings.SECURE_HSTS_SECONDS < 31_536_000 or not settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
        messages.append(
            Error(
                "HSTS must last a year and include subdomains.",
                hint="DJANGO_SECURE_HSTS_SECONDS >= 31536000 and SECURE_HSTS_INCLUDE_SUBDOMAINS.",
                id="mvp_security.E002",
            )
        )
    cookie_problems = [
        name
        for name, ok in (
            ("SESSION_COOKIE_SECURE", settings.SESSION_COOKIE_SECURE),
            ("CSRF_COOKIE_SECURE", settings.CSRF_COOKIE_SECURE),
            ("SESSION_COOKIE_HTTPONLY", settings.SESSION_COOKIE_HTTPONLY),
            ("SESSION_COOKIE_SAMESITE", settings.SESSION_COOKIE_SAMESITE in ("Lax", "Strict")),
            ("CSRF_COOKIE_SAMESITE", settings.CSRF_COOKIE_SAMESITE in ("Lax", "Strict")),
        )
        if not ok
    ]
    if cookie_problems:
        messages.append(Error(f"Cookies lose their protection: {', '.join(cookie_problems)}.", id="mvp_security.E003"))
    header_problems = []
    if not settings.SECURE_CONTENT_TYPE_NOSNIFF:
        header_problems.append("SECURE_CONTENT_TYPE_NOSNIFF")
    if settings.X_FRAME_OPTIONS != "DENY":
        header_problems.append("X_FRAME_OPTIONS=DENY")
    if settings.SECURE_REFERRER_POLICY not in SAFE_REFERRER_POLICIES:
        header_problems.append("SECURE_REFERRER_POLICY")
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY != "same-origin":
        header_problems.append("SECURE_CROSS_ORIGIN_OPENER_POLICY=same-origin")
    if header_problems:
        messages.append(Error(f"Headers would be weakened: {', '.join(header_problems)}.", id="mvp_security.E004"))
    # The public pages' stack (PUBLIC_MIDDLEWARE, mvpvalidator.public_stack) must hold as much.
    for setting in ("MIDDLEWARE", "PUBLIC_MIDDLEWARE"):
        messages.extend(_middleware_problems(setting, list(getattr(settings, setting, None) or [])))
    if not settings.ENABLE_RATE_LIMITING:
        messages.append(Warning("Rate limiting is off (ENABLE_RATE_LIMITING=false).", id="mvp_security.W001"))
    return messages


@register(Tags.security, deploy=True)
def check_proxy_configuration(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    # Behind a proxy every request arrives from the proxy's address; unless the proxy is trusted
    # (so the client is read from X-Forwarded-For), every visitor shares one rate limit and one
    # attacker's block locks everyone out.
    if not getattr(settings, "SECURE_PROXY_SSL_HEADER", None) or settings.TRUSTED_PROXY_NETWORKS:
        return []
    return [
        Error(
            "DJANGO_BEHIND_TLS_PROXY is on but TRUSTED_PROXIES is empty: every visitor would share the "
            "proxy's address, its rate limits and its blocks.",
            hint="Set TRUSTED_PROXIES to the proxy's addresses or network (e.g. TRUSTED_PROXIES=10.0.0.0/8).",
            id="mvp_security.E008",
        )
    ]


@register(Tags.security, deploy=True)
def check_email_backend(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    if settings.DEBUG or settings.EMAIL_BACKEND not in NOT_DELIVERING_EMAIL_BACKENDS:
        return []
    return [
        Warning(
            f"Production sends no email ({settings.EMAIL_BACKEND}): confirmation emails are not delivered, "
            "and the console or file backend writes subscribers' addresses and links to the log or disk.",
            hint="Set EMAIL_URL to the mail relay, e.g. EMAIL_URL=smtp+tls://user:password@smtp.example.com:587.",
            id="mvp_security.W002",
        )
    ]
