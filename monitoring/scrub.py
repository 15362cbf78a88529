"""Secrets out of free text and key/value data: what logs, error groups and Sentry events must
never carry (bearer tokens, passwords, API keys, session and CSRF values). Pure: no Django.

Every pattern here runs on text a client chose (a 404's path, a refused `Host` header, an
exception message), so each must take time linear in its input: a match may only start where a
word starts, and the runs that make one up are possessive or atomic, so a failed attempt is
given up at once instead of retried at every split of a long run (the backtracking that let
one request hold a worker for half a minute).
"""

import re
from urllib.parse import parse_qsl, urlencode

FILTERED = "[Filtered]"

_SENSITIVE_WORDS = r"password|passwd|secret|token|api[-_]?key|authorization|cookie|csrf|session|dsn|jwt"
SENSITIVE_KEY = re.compile(_SENSITIVE_WORDS, re.I)
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"})
# `Bearer <token>` (and `Basic <base64>`) in a message, an exception value or a logged header.
# The value cannot start with a space, so the spaces before it are taken possessively.
_BEARER = re.compile(r"""\b(?:(?i:Bearer)|Basic(?=\s++[A-Za-z0-9+/]{8}))\s++[^\s"',;]++""")
# `token=...` (query strings, form bodies, `--password=...`) and `password: ...` / `"token": "..."`
# pairs inside free text. `=` must be tight so SQL such as `"session_key" = %s` stays readable.
# The key is a whole run of `[\w.-]` (never the tail of one) holding a sensitive word; it is
# atomic: once the run is read to its end, a missing separator fails the match at that start.
_KEY_VALUE = re.compile(
    rf"""(?<![\w.-])(?P<key>(?>[\w.-]*?(?:{_SENSITIVE_WORDS})[\w.-]*+))"""
    r"""(?P<sep>=["']?+|["']?+\s*+:\s*+["']?+)(?!(?i:Bearer|Basic)\s)(?P<value>[^&\s"',;]++)""",
    re.I,
)


def is_sensitive_key(key: object) -> bool:
    return isinstance(key, str) and SENSITIVE_KEY.search(key) is not None


def redact_text(text: str) -> str:
    """Hide bearer tokens and `secret=value` pairs inside a free-text string."""
    text = _BEARER.sub(lambda m: f"{m[0].split(None, 1)[0]} {FILTERED}", text)
    return _KEY_VALUE.sub(lambda m: f"{m['key']}{m['sep']}{FILTERED}", text)


def scrub_query_string(query: str) -> str:
    """A query string (`a=1&token=x`) with sensitive parameters filtered and the other values
    redacted; the parameter names are read decoded, so `pass%77ord=` is caught too."""
    pairs = parse_qsl(query, keep_blank_values=True)
    if not pairs:
        return redact_text(query)
    return urlencode([(k, FILTERED if is_sensitive_key(k) else redact_text(v)) for k, v in pairs], safe="[]")


def scrub_url(path: str, query: str) -> str:
    """`path?query` for a log line, secrets in either redacted."""
    path = redact_text(path)
    return f"{path}?{scrub_query_string(query)}" if query else path
