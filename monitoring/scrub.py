"""Secrets out of free text and key/value data: what logs, error groups and Sentry events must
never carry (bearer tokens, passwords, API keys, session and CSRF values). Pure: no Django."""

import re

FILTERED = "[Filtered]"

SENSITIVE_KEY = re.compile(r"password|passwd|secret|token|api[-_]?key|authorization|cookie|csrf|session|dsn|jwt", re.I)
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"})
# `Bearer <token>` (and `Basic <base64>`) in a message, an exception value or a logged header.
_BEARER = re.compile(r"""\b(?:(?i:Bearer)|Basic(?=\s+[A-Za-z0-9+/]{8,}))\s+[^\s"',;]+""")
# `token=...` (query strings, form bodies, `--password=...`) and `password: ...` / `"token": "..."`
# pairs inside free text. `=` must be tight so SQL such as `"session_key" = %s` stays readable.
_KEY_VALUE = re.compile(
    r"""(?P<key>[\w.-]*(?:password|passwd|secret|token|api[-_]?key|authorization|csrf|session|dsn|jwt)[\w.-]*)"""
    r"""(?P<sep>=["']?|["']?\s*:\s*["']?)(?!(?i:Bearer|Basic)\s)(?P<value>[^&\s"',;]+)""",
    re.I,
)


def is_sensitive_key(key: object) -> bool:
    return isinstance(key, str) and SENSITIVE_KEY.search(key) is not None


def redact_text(text: str) -> str:
    """Hide bearer tokens and `secret=value` pairs inside a free-text string."""
    text = _BEARER.sub(lambda m: f"{m[0].split(None, 1)[0]} {FILTERED}", text)
    return _KEY_VALUE.sub(lambda m: f"{m['key']}{m['sep']}{FILTERED}", text)
