"""A pure-Python port of the MDN HTTP Observatory scoring, applied to a single HTTP response.

Project tests use it to score one page (status, headers including every ``Set-Cookie``, the URL
it was served from, and its HTML body) and expect the top grade::

    result = score_django_response(client.get("/", secure=True), url="https://example.com/")
    assert result.grade == "A+", result  # the repr lists every test, its result and modifier

Source of the rules and numbers
-------------------------------
Everything below is ported from the current scanner, GitHub ``mdn/mdn-http-observatory``
(JavaScript, algorithm behind https://developer.mozilla.org/en-US/observatory). Files read:

* ``src/scanner/index.js`` and ``src/constants.js``: the ten scored tests, the start at 100 and the
  two rounds: ``uncurved = 100 + sum(negative modifiers)``; if ``uncurved >= 90``
  (``MINIMUM_SCORE_FOR_EXTRA_CREDIT``) the score is ``100 + sum(all modifiers)``, otherwise it
  is ``uncurved`` (bonuses are dropped).
* ``src/grader/grader.js`` and ``src/grader/charts.js``: ``GRADE_CHART`` (100+ is A+, 90-99 A,
  85 A-, 80 B+, 70-79 B, 65 B-, 60 C+, 50-59 C, 45 C-, 40 D+, 30-39 D, 25 D-, below 25 F; the score
  is floored at 0 and rounded down to a multiple of 5 before the look-up) and ``SCORE_TABLE``
  (every modifier in ``SCORE_TABLE`` below).
* ``src/types.js``: the result ("expectation") names.
* ``src/analyzer/tests/csp.js`` and ``src/analyzer/cspParser.js``: content-security-policy.
* ``src/analyzer/tests/cookies.js`` (and the ``tough-cookie`` cookie jar it reads, for which
  cookies are stored at all: ``__Secure-``/``__Host-`` prefix rules, Domain matching).
* ``src/analyzer/tests/cors.js``, ``redirection.js``, ``referrer-policy.js``,
  ``strict-transport-security.js``, ``subresource-integrity.js``, ``x-content-type-options.js``,
  ``x-frame-options.js``, ``cross-origin-resource-policy.js``; ``src/analyzer/utils.js``.
* ``src/retriever/retriever.js``, ``session.js`` and ``utils.js`` (what the tests are given:
  ``<meta http-equiv>`` CSP and ``<meta name=referrer>`` parsed from HTML bodies, the CORS
  preflight's ``Origin``, which status codes are scanned at all).
* ``test/scanner.test.js``, ``test/cookies.test.js`` and the ``test/fixtures`` captures, used as
  cross-checks (``test_observatory_scorer.py`` reproduces the upstream 75/B and 110/A+ results).
* https://developer.mozilla.org/en-US/observatory/docs/tests_and_scoring (same chart and rounds).

The older Python scanner (``mozilla/http-observatory``, ``httpobs/scanner/...``) is superseded;
where the two differ, this module follows the MDN one.

Where one response is not a whole scan
--------------------------------------
The real scanner fetches ``http://host/`` and ``https://host/`` itself, follows redirects, sends
a CORS preflight and looks the host up in the HSTS preload list. Here there is one response, so:

* **redirection**: if ``url`` is ``https:`` the result is ``redirection-to-https`` (0, passes),
  *assumed*: the HTTP to HTTPS redirect happens elsewhere (``SECURE_SSL_REDIRECT``, the proxy) and
  is not observed. If ``url`` is ``http:``, a 301/302/303/307/308 to ``https:`` on the same host is
  ``redirection-to-https``, to another host ``redirection-off-host-from-http`` (-5), to ``http:``
  ``redirection-not-to-https`` (-20, the chain cannot be followed), no redirect ``redirection-missing``
  (-20).
* **strict-transport-security**: read from the response when ``url`` is ``https:``; for an ``http:``
  URL it is ``hsts-not-implemented-no-https`` (-20). ``hsts-preloaded`` (+5) needs the host on the
  browsers' preload list, which cannot be seen in a response: pass ``hsts_preloaded=True``. The
  ``preload`` directive alone earns nothing.
* **cross-origin-resource-sharing**: upstream reads the answer to an ``OPTIONS`` preflight sent with
  ``Origin: https://http-observatory.security.mozilla.org``; here the response's own headers are
  read and compared with ``cors_request_origin`` (that origin by default).
* **certificates** are assumed valid (``hsts-invalid-cert``/``redirection-invalid-cert`` never occur).
* **cookies** are those of this response only (upstream's jar also holds cookies from the redirect
  chain and ``/robots.txt``). Expired (deletion) cookies count: the jar keeps them.
* **subresource-integrity**: "same site" uses the registrable domain; upstream uses the full
  Public Suffix List (``tldts``), this module a built-in approximation (last two labels, or three
  for a handful of suffixes such as ``co.uk``), see ``_registrable_domain``.
* Headers are combined the way Node's ``http`` module hands them to the scanner: repeated headers
  are joined with ``", "`` (so two HSTS or two X-Frame-Options headers are invalid), a few
  (``content-type``, ``location``...) keep only the first value, ``set-cookie`` stays a list.
* ``<script>`` and ``<meta>`` tags are found with :mod:`html.parser` instead of jsdom; CSP sources
  within a directive are sorted by code point where upstream uses ``Intl.Collator("en")`` (this
  only affects which of two overlapping sources is dropped as redundant, never a score).

Quirks of the real scanner that are kept on purpose
---------------------------------------------------
* ``form-action`` and ``base-uri`` are reported in ``policy`` flags only; they change no score,
  although the +10 description mentions form-action.
* Any ``frame-ancestors`` directive (even ``*``) makes X-Frame-Options ``implemented-via-csp`` (+5).
* ``'unsafe-inline'`` next to a nonce or hash is ignored; ``'strict-dynamic'`` without a nonce or
  hash is ``csp-header-invalid`` (-25); a repeated directive makes the whole CSP invalid (-25),
  except ``report-uri``/``report-to`` which give ``csp-implemented-but-duplicate-directives`` (0,
  and the +10/+5 bonus is lost).
* ``Access-Control-Allow-Origin: *`` is "public access": 0 and a pass, whatever the resource. Only a
  reflected origin together with ``Access-Control-Allow-Credentials: true`` is penalised (-50).
* An HSTS ``max-age`` that is not a number (``max-age="63072000"``, quoted) parses as ``NaN`` in
  JavaScript, and ``NaN < 15552000`` is false, so it counts as "at least six months".
* "Six months" is 15552000 seconds (180 days), not the 15768000 the description says.
* Same-site scripts are never penalised, not even over ``http:``; protocol-relative
  (``src="//..."``) scripts always count as foreign and insecure.
* Session cookies are those whose name contains ``login`` or ``sess``, anti-CSRF ones contain
  ``csrf`` (case-insensitive). ``__Host-``/``__Secure-`` cookies that break their prefix rules are
  silently dropped by the jar, so they are not judged at all.

The upstream repository also has newer Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy
tests (its test suite counts 12 tests); their ``SCORE_TABLE`` entries were not in the copy read, so
they are not scored here. ``test/scanner.test.js`` shows that a missing COEP/COOP, and
``COOP: same-origin``, leave the score unchanged.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

__all__ = [
    "GRADE_CHART",
    "MINIMUM_SCORE_FOR_EXTRA_CREDIT",
    "SCORE_TABLE",
    "CheckResult",
    "ObservatoryError",
    "ObservatoryResult",
    "grade_for_score",
    "score_django_response",
    "score_response",
]

DEFAULT_CORS_ORIGIN = "https://http-observatory.security.mozilla.org"  # src/config.js corsOrigin
MINIMUM_SCORE_FOR_EXTRA_CREDIT = 90

# src/grader/charts.js GRADE_CHART
GRADE_CHART: dict[int, str] = {
    100: "A+",
    95: "A",
    90: "A",
    85: "A-",
    80: "B+",
    75: "B",
    70: "B",
    65: "B-",
    60: "C+",
    55: "C",
    50: "C",
    45: "C-",
    40: "D+",
    35: "D",
    30: "D",
    25: "D-",
    20: "F",
    15: "F",
    10: "F",
    5: "F",
    0: "F",
}

# src/grader/charts.js SCORE_TABLE: result name -> (modifier, description)
SCORE_TABLE: dict[str, tuple[int, str]] = {
    # content-security-policy
    "csp-implemented-with-no-unsafe-default-src-none": (10, "CSP with default-src 'none' and no unsafe sources"),
    "csp-implemented-with-no-unsafe": (5, "CSP without 'unsafe-inline' or 'unsafe-eval'"),
    "csp-implemented-with-unsafe-inline-in-style-src-only": (0, "CSP with unsafe sources only in style-src"),
    "csp-implemented-with-insecure-scheme-in-passive-content-only": (
        -10,
        "CSP lets images or media load over HTTP on an HTTPS site",
    ),
    "csp-implemented-with-unsafe-eval": (-10, "CSP allows 'unsafe-eval'"),
    "csp-implemented-with-unsafe-inline": (
        -20,
        "CSP allows 'unsafe-inline' or data: in script-src, overly broad script-src/object-src, or leaves them unset",
    ),
    "csp-implemented-with-insecure-scheme": (-20, "CSP lets resources load over HTTP on an HTTPS site"),
    "csp-implemented-but-duplicate-directives": (0, "CSP contains duplicate report-uri/report-to directives"),
    "csp-header-invalid": (-25, "CSP header cannot be parsed"),
    "csp-not-implemented": (-25, "CSP header not implemented"),
    "csp-not-implemented-but-reporting-enabled": (-25, "only Content-Security-Policy-Report-Only is set"),
    # cookies
    "cookies-secure-with-httponly-sessions-and-samesite": (
        5,
        "all cookies Secure, session cookies HttpOnly, all cookies SameSite",
    ),
    "cookies-secure-with-httponly-sessions": (0, "all cookies Secure and session cookies HttpOnly (no SameSite)"),
    "cookies-not-found": (0, "no cookies set"),
    "cookies-without-secure-flag-but-protected-by-hsts": (-5, "cookies without Secure, but HSTS protects them"),
    "cookies-session-without-secure-flag-but-protected-by-hsts": (
        -10,
        "session cookie without Secure, but HSTS protects it",
    ),
    "cookies-without-secure-flag": (-20, "cookies without Secure, or set over HTTP"),
    "cookies-samesite-flag-invalid": (-20, "SameSite is not Strict, Lax or None (or None without Secure)"),
    "cookies-anticsrf-without-samesite-flag": (-20, "anti-CSRF cookie without SameSite"),
    "cookies-session-without-httponly-flag": (-30, "session cookie without HttpOnly"),
    "cookies-session-without-secure-flag": (-40, "session cookie without Secure, or set over HTTP"),
    # cross-origin-resource-sharing
    "cross-origin-resource-sharing-not-implemented": (0, "no CORS headers"),
    "cross-origin-resource-sharing-implemented-with-public-access": (0, "Access-Control-Allow-Origin: * (public)"),
    "cross-origin-resource-sharing-implemented-with-restricted-access": (0, "CORS restricted to specific origins"),
    "cross-origin-resource-sharing-implemented-with-universal-access": (
        -50,
        "CORS reflects any origin and allows credentials",
    ),
    # redirection
    "redirection-all-redirects-preloaded": (0, "every host redirected to is HSTS-preloaded"),
    "redirection-to-https": (0, "HTTP redirects to HTTPS on the same host"),
    "redirection-not-needed-no-http": (0, "not reachable over HTTP"),
    "redirection-off-host-from-http": (-5, "HTTP redirects to HTTPS on another host"),
    "redirection-not-to-https-on-initial-redirection": (-10, "first redirect goes to another HTTP URL"),
    "redirection-not-to-https": (-20, "redirects, but not to HTTPS"),
    "redirection-missing": (-20, "does not redirect to HTTPS"),
    "redirection-invalid-cert": (-20, "invalid certificate during redirection"),
    # referrer-policy
    "referrer-policy-private": (
        5,
        "Referrer-Policy no-referrer, same-origin, strict-origin or strict-origin-when-cross-origin",
    ),
    "referrer-policy-not-implemented": (0, "Referrer-Policy not set"),
    "referrer-policy-unsafe": (-5, "Referrer-Policy set to an unsafe value"),
    "referrer-policy-header-invalid": (-5, "Referrer-Policy not recognised"),
    # strict-transport-security
    "hsts-preloaded": (5, "host is on the HSTS preload list"),
    "hsts-implemented-max-age-at-least-six-months": (0, "HSTS max-age of at least six months"),
    "hsts-implemented-max-age-less-than-six-months": (-10, "HSTS max-age below six months"),
    "hsts-not-implemented": (-20, "HSTS not set"),
    "hsts-header-invalid": (-20, "HSTS header not recognised"),
    "hsts-not-implemented-no-https": (-20, "HSTS cannot be set without HTTPS"),
    "hsts-invalid-cert": (-20, "HSTS cannot work with an invalid certificate"),
    # subresource-integrity
    "sri-implemented-and-all-scripts-loaded-securely": (5, "SRI used and all scripts from the same site"),
    "sri-implemented-and-external-scripts-loaded-securely": (5, "SRI used and external scripts loaded securely"),
    "sri-not-implemented-response-not-html": (0, "not HTML, SRI not needed"),
    "sri-not-implemented-but-no-scripts-loaded": (0, "no <script> tags"),
    "sri-not-implemented-but-all-scripts-loaded-from-secure-origin": (0, "no SRI, but every script is same-site"),
    "sri-not-implemented-but-external-scripts-loaded-securely": (-5, "external scripts over HTTPS without SRI"),
    "sri-implemented-but-external-scripts-not-loaded-securely": (
        -20,
        "external scripts with SRI over HTTP or //protocol-relative URLs",
    ),
    "sri-not-implemented-and-external-scripts-not-loaded-securely": (
        -50,
        "external scripts without SRI over HTTP or //protocol-relative URLs",
    ),
    "html-not-parseable": (-20, "claims to be HTML but cannot be parsed"),
    # x-content-type-options
    "x-content-type-options-nosniff": (0, "X-Content-Type-Options: nosniff"),
    "x-content-type-options-not-implemented": (-5, "X-Content-Type-Options not set"),
    "x-content-type-options-header-invalid": (-5, "X-Content-Type-Options not recognised"),
    # x-frame-options
    "x-frame-options-implemented-via-csp": (5, "framing controlled by CSP frame-ancestors"),
    "x-frame-options-sameorigin-or-deny": (0, "X-Frame-Options SAMEORIGIN or DENY"),
    "x-frame-options-allow-from-origin": (0, "X-Frame-Options ALLOW-FROM"),
    "x-frame-options-not-implemented": (-20, "X-Frame-Options not set (and no CSP frame-ancestors)"),
    "x-frame-options-header-invalid": (-20, "X-Frame-Options not recognised"),
    # cross-origin-resource-policy
    "corp-header-invalid": (-5, "Cross-Origin-Resource-Policy not recognised"),
    "corp-implemented-with-cross-origin": (0, "Cross-Origin-Resource-Policy: cross-origin"),
    "corp-implemented-with-same-origin": (10, "Cross-Origin-Resource-Policy: same-origin"),
    "corp-implemented-with-same-site": (10, "Cross-Origin-Resource-Policy: same-site"),
    "corp-not-implemented": (0, "Cross-Origin-Resource-Policy not set (defaults to cross-origin)"),
}

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})  # src/types.js
REDIRECT_STATUS_CODES = frozenset({301, 302, 303, 307, 308})  # src/retriever/session.js

# Node's http module: duplicates of these headers are discarded, not joined (docs of message.headers).
_NODE_SINGLE_VALUE_HEADERS = frozenset(
    {
        "age",
        "authorization",
        "content-length",
        "content-type",
        "etag",
        "expires",
        "from",
        "host",
        "if-modified-since",
        "if-unmodified-since",
        "last-modified",
        "location",
        "max-forwards",
        "proxy-authorization",
        "referer",
        "retry-after",
        "server",
        "user-agent",
    }
)


class ObservatoryError(ValueError):
    """The response is one the real scanner refuses to grade."""


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one test, as in the scanner's per-test output."""

    name: str
    result: str
    passed: bool
    expectation: str
    data: Any = None
    notes: tuple[str, ...] = ()
    policy: Mapping[str, bool] | None = None

    @property
    def modifier(self) -> int:
        return SCORE_TABLE[self.result][0]

    @property
    def description(self) -> str:
        return SCORE_TABLE[self.result][1]


@dataclass(frozen=True, repr=False)
class ObservatoryResult:
    score: int
    grade: str
    uncurved_score: int
    score_with_extra_credit: int
    tests: Mapping[str, CheckResult] = field(default_factory=dict)

    def __getitem__(self, test_name: str) -> CheckResult:
        return self.tests[test_name]

    @property
    def results(self) -> dict[str, str]:
        """Test name -> result name, e.g. ``{"content-security-policy": "csp-not-implemented", ...}``."""
        return {name: check.result for name, check in self.tests.items()}

    @property
    def modifiers(self) -> dict[str, int]:
        return {name: check.modifier for name, check in self.tests.items()}

    @property
    def failed(self) -> dict[str, CheckResult]:
        return {name: check for name, check in self.tests.items() if not check.passed}

    @property
    def tests_passed(self) -> int:
        return sum(check.passed for check in self.tests.values())

    def summary(self) -> str:
        bonus_note = (
            "bonuses counted"
            if self.uncurved_score >= MINIMUM_SCORE_FOR_EXTRA_CREDIT
            else f"bonuses dropped: penalties alone leave {self.uncurved_score} < {MINIMUM_SCORE_FOR_EXTRA_CREDIT}"
        )
        lines = [
            f"Observatory score {self.score} ({self.grade}); {bonus_note}; "
            f"{self.tests_passed}/{len(self.tests)} tests passed",
        ]
        for name, check in self.tests.items():
            status = "pass" if check.passed else "FAIL"
            lines.append(f"  {status} {check.modifier:+4d}  {name}: {check.result} ({check.description})")
            lines.extend(f"                 note: {note}" for note in check.notes)
        return "\n".join(lines)

    __repr__ = summary
    __str__ = summary


def grade_for_score(score: int) -> str:
    """src/grader/grader.js getGradeForScore."""
    score = max(score, 0)
    return GRADE_CHART[min(score - score % 5, 100)]


# --------------------------------------------------------------------------- inputs


class _Headers:
    """The response headers as the analyzers see them (``getHttpHeaders``/``getFirstHttpHeader``)."""

    def __init__(self, headers: Iterable[tuple[str, str]] | Mapping[str, Any]):
        items: Iterable[tuple[str, Any]] = headers.items() if isinstance(headers, Mapping) else headers
        self._values: dict[str, list[str]] = {}
        for name, value in items:
            values = value if isinstance(value, list | tuple) else [value]
            self._values.setdefault(name.lower(), []).extend(str(v) for v in values)

    def all(self, name: str) -> list[str]:
        values = self._values.get(name.lower())
        if not values:
            return []
        name = name.lower()
        if name == "set-cookie":
            return list(values)
        if name in _NODE_SINGLE_VALUE_HEADERS:
            return [values[0]]
        return [("; " if name == "cookie" else ", ").join(values)]

    def first(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None


class _PageParser(HTMLParser):
    """Collects ``<script>`` and ``<meta>`` attributes (first of a repeated attribute wins, as in the DOM)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[dict[str, str]] = []
        self.metas: list[dict[str, str]] = []
        self._template_depth = 0  # <template> content is not part of the document tree

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "template":
            self._template_depth += 1
            return
        if self._template_depth or tag not in ("script", "meta"):
            return
        attributes: dict[str, str] = {}
        for key, value in attrs:
            attributes.setdefault(key, value or "")
        (self.scripts if tag == "script" else self.metas).append(attributes)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "template":
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "template" and self._template_depth:
            self._template_depth -= 1


@dataclass
class _Context:
    status: int
    headers: _Headers
    scheme: str
    host: str
    path: str
    body: str
    scripts: list[dict[str, str]]
    http_equiv: dict[str, list[str]]
    hsts_preloaded: bool
    cors_request_origin: str

    @property
    def https(self) -> bool:
        return self.scheme == "https"


def _parse_http_equiv(metas: list[dict[str, str]]) -> dict[str, list[str]]:
    """src/retriever/utils.js parseHttpEquivHeaders: meta CSPs, and ``<meta name=referrer>``."""
    equiv: dict[str, list[str]] = {"content-security-policy": []}
    for meta in metas:
        if "http-equiv" in meta and "content" in meta:
            if meta["http-equiv"].lower().strip() == "content-security-policy":
                equiv["content-security-policy"].append(meta["content"])
        elif meta.get("name", "").lower().strip() == "referrer" and "content" in meta:
            equiv["referrer-policy"] = [meta["content"]]
    return equiv


# --------------------------------------------------------------------------- content-security-policy


class _CspParseError(ValueError):
    pass


_SHORTEST_DIRECTIVE_LENGTH = len("img-src") - 1
_DIRECTIVES_DISALLOWED_IN_META = ("frame-ancestors", "report-uri", "sandbox")
_ALLOWED_DUPLICATE_KEYS = frozenset({"report-uri", "report-to"})
_DUPLICATE_WARNINGS_KEY = "_observatory_duplicate_warnings"

_DANGEROUSLY_BROAD = frozenset({"ftp:", "http:", "https:", "*", "http://*", "http://*.*", "https://*", "https://*.*"})
_UNSAFE_INLINE = frozenset({"'unsafe-inline'", "data:"})
_DANGEROUSLY_BROAD_AND_UNSAFE_INLINE = _DANGEROUSLY_BROAD | _UNSAFE_INLINE
_PASSIVE_DIRECTIVES = ("img-src", "media-src")
_NONCES_HASHES = ("'sha256-", "'sha384-", "'sha512-", "'nonce-")


@dataclass
class _Source:
    source: str
    index: int
    keep: bool


def _decode_uri_component(text: str) -> str:
    """JavaScript's decodeURIComponent, which throws on malformed escapes."""
    if "%" not in text:
        return text
    if re.search(r"%(?![0-9A-Fa-f]{2})", text):
        raise _CspParseError(f"malformed URI escape in {text!r}")
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError as exc:
        raise _CspParseError(f"malformed URI escape in {text!r}") from exc


def _path_part_match(path_a: str, path_b: str) -> bool:
    """src/analyzer/cspParser.js pathPartMatch."""
    if not path_a:
        return True
    if path_a == "/" and not path_b:
        return True
    exact_match = not path_a.endswith("/")
    parts_a, parts_b = path_a.split("/"), path_b.split("/")
    if len(parts_a) > len(parts_b):
        return False
    if exact_match and len(parts_a) != len(parts_b):
        return False
    if not exact_match:
        parts_a.pop()
    return all(_decode_uri_component(a) == _decode_uri_component(b) for a, b in zip(parts_a, parts_b, strict=False))


def _parse_csp(csp_list: list[str]) -> dict[str, set[str]]:
    """src/analyzer/cspParser.js parseCsp: directive -> set of (lower-cased) sources."""
    clean = [re.sub(r"[\r\n]", "", policy).strip() for policy in csp_list]
    if not clean:
        return {}
    for policy in clean:
        if not policy or len(policy) < _SHORTEST_DIRECTIVE_LENGTH:
            raise _CspParseError(f"invalid policy: {policy!r}")

    csp: dict[str, list[_Source]] = {}
    duplicate_warnings: set[str] = set()
    for policy_index, policy in enumerate(clean):
        seen: set[str] = set()
        for entry in policy.split(";"):
            directive_entry, *value_entries = re.split(r"\s+", entry.strip())
            if not directive_entry:
                continue
            directive = directive_entry.lower()
            if directive in seen:
                if directive not in _ALLOWED_DUPLICATE_KEYS:
                    raise _CspParseError(f"duplicate directive {directive} in policy {policy_index}")
                duplicate_warnings.add(directive)
            else:
                seen.add(directive)

            keep = policy_index == 0
            if value_entries:
                values = [_Source(raw.strip().lower(), policy_index, keep) for raw in value_entries]
            elif directive.endswith("-src"):
                values = [_Source("'none'", policy_index, keep)]  # an empty source list means 'none'
            else:
                values = []
            combined = list(values) if policy_index == 0 else [*csp.get(directive, []), *values]
            combined.sort(key=lambda s: s.source)
            for i in range(1, len(combined)):
                source, prev = combined[i], combined[i - 1]
                # within one policy a longer source starting with a shorter one is redundant
                if source.index == prev.index and source.source.startswith(prev.source):
                    source.keep = False
                # across policies a source must be allowed by both to count
                if source.index != prev.index and _path_part_match(prev.source, source.source):
                    source.keep = True
            csp[directive] = [s for s in combined if s.keep]
            if policy_index == 0 and len(csp_list) > 1:
                for s in csp[directive]:
                    s.keep = False

    final = {d: ({s.source for s in sources} if sources else {"'none'"}) for d, sources in csp.items()}
    if duplicate_warnings:
        final[_DUPLICATE_WARNINGS_KEY] = duplicate_warnings
    return final


def _parse_csp_meta(csp_list: list[str]) -> dict[str, set[str]]:
    parsed = _parse_csp(csp_list)
    for directive in _DIRECTIVES_DISALLOWED_IN_META:
        parsed.pop(directive, None)
    return parsed


def _split_csp_headers(raw_headers: list[str]) -> list[str]:
    return [policy.strip() for value in raw_headers for policy in value.split(",")]


def _has_nonce_or_hash(sources: Iterable[str]) -> bool:
    return any(source.startswith(prefix) for source in sources for prefix in _NONCES_HASHES)


def _lookup(csp: dict[str, set[str]], *directives: str) -> set[str] | None:
    """``csp.get(a) || csp.get(b)``: returns the very set stored in ``csp`` (mutations are shared)."""
    for directive in directives:
        if directive in csp:
            return csp[directive]
    return None


def _csp_test(ctx: _Context) -> CheckResult:
    """src/analyzer/tests/csp.js contentSecurityPolicyTest."""
    name, expectation = "content-security-policy", "csp-implemented-with-no-unsafe"
    http_policies = _split_csp_headers(ctx.headers.all("content-security-policy"))
    equiv_policies = _split_csp_headers(ctx.http_equiv.get("content-security-policy", []))

    try:
        csp = _parse_csp([*http_policies, *equiv_policies])
    except _CspParseError as exc:
        return CheckResult(name, "csp-header-invalid", False, expectation, notes=(str(exc),))
    try:
        header_only_csp = _parse_csp(http_policies)
    except _CspParseError:
        header_only_csp = {}
    try:
        meta_csp = _parse_csp_meta(equiv_policies)
    except _CspParseError:
        meta_csp = {}

    if len(header_only_csp) + len(meta_csp) == 0:
        if ctx.headers.first("content-security-policy-report-only"):
            return CheckResult(name, "csp-not-implemented-but-reporting-enabled", False, expectation)
        return CheckResult(name, "csp-not-implemented", False, expectation)

    result: str | None = None
    policy = {
        "antiClickjacking": False,
        "defaultNone": False,
        "insecureBaseUri": False,
        "insecureFormAction": False,
        "insecureSchemeActive": False,
        "insecureSchemePassive": False,
        "strictDynamic": False,
        "unsafeEval": False,
        "unsafeInline": False,
        "unsafeInlineStyle": False,
        "unsafeObjects": False,
    }
    base_uri = _lookup(csp, "base-uri") or {"*"}
    frame_ancestors = _lookup(header_only_csp, "frame-ancestors") or {"*"}  # not allowed in <meta>
    form_action = _lookup(csp, "form-action") or {"*"}
    object_src = _lookup(csp, "object-src", "default-src") or {"*"}
    script_src = _lookup(csp, "script-src", "default-src") or {"*"}
    style_src = _lookup(csp, "style-src", "default-src") or {"*"}

    # 'unsafe-inline' is ignored by browsers when a nonce or hash is present
    for source_list in (script_src, style_src):
        if _has_nonce_or_hash(source_list) and "'unsafe-inline'" in source_list:
            source_list.discard("'unsafe-inline'")

    # 'strict-dynamic' needs a nonce or hash; it then disables host/scheme sources, 'self' and 'unsafe-inline'
    if _has_nonce_or_hash(script_src) and "'strict-dynamic'" in script_src:
        for source in list(script_src):
            if any(source.startswith(broad) for broad in _DANGEROUSLY_BROAD) or source in ("'self'", "'unsafe-inline'"):
                script_src.discard(source)
        policy["strictDynamic"] = True
    elif "'strict-dynamic'" in script_src and result is None:
        result = "csp-header-invalid"

    active_sources = [
        source
        for directive, sources in csp.items()
        if directive not in _PASSIVE_DIRECTIVES and directive != "script-src"
        for source in sources
    ]
    active_sources.extend(script_src)
    passive_sources = [
        source for directive in _PASSIVE_DIRECTIVES for source in (_lookup(csp, directive, "default-src") or ())
    ]

    def insecure(sources: Iterable[str]) -> bool:
        return any(source.startswith(("http:", "ftp:")) for source in sources)

    if any(s in _DANGEROUSLY_BROAD_AND_UNSAFE_INLINE for s in script_src) or any(
        s in _DANGEROUSLY_BROAD for s in object_src
    ):
        result = result or "csp-implemented-with-unsafe-inline"
        policy["unsafeInline"] = True
    if ctx.https and insecure(active_sources):
        result = result or "csp-implemented-with-insecure-scheme"
        policy["insecureSchemeActive"] = True
    if "'unsafe-eval'" in script_src | style_src:
        result = result or "csp-implemented-with-unsafe-eval"
        policy["unsafeEval"] = True
    if ctx.https and insecure(passive_sources):
        result = result or "csp-implemented-with-insecure-scheme-in-passive-content-only"
        policy["insecureSchemePassive"] = True
    if any(s in _DANGEROUSLY_BROAD_AND_UNSAFE_INLINE for s in style_src):
        result = result or "csp-implemented-with-unsafe-inline-in-style-src-only"
        policy["unsafeInlineStyle"] = True
    default_src = csp.get("default-src")
    if default_src is not None and "'none'" in default_src and len(default_src) == 1:
        result = result or "csp-implemented-with-no-unsafe-default-src-none"
        policy["defaultNone"] = True
    else:
        result = result or "csp-implemented-with-no-unsafe"

    policy["antiClickjacking"] = not any(s in _DANGEROUSLY_BROAD for s in frame_ancestors)
    policy["insecureBaseUri"] = any(s in _DANGEROUSLY_BROAD_AND_UNSAFE_INLINE for s in base_uri)
    policy["insecureFormAction"] = any(s in _DANGEROUSLY_BROAD for s in form_action)
    policy["unsafeObjects"] = any(s in _DANGEROUSLY_BROAD for s in object_src)

    passed = result in (
        expectation,
        "csp-implemented-with-no-unsafe-default-src-none",
        "csp-implemented-with-unsafe-inline-in-style-src-only",
        "csp-implemented-with-insecure-scheme-in-passive-content-only",
    )
    if passed and _DUPLICATE_WARNINGS_KEY in csp:
        result = "csp-implemented-but-duplicate-directives"
    data = {key: sorted(value) for key, value in csp.items() if key != _DUPLICATE_WARNINGS_KEY}
    notes = tuple(flag for flag, value in policy.items() if value and flag not in ("antiClickjacking", "defaultNone"))
    return CheckResult(name, result, passed, expectation, data=data, notes=notes, policy=policy)


# --------------------------------------------------------------------------- cookies


@dataclass
class _Cookie:
    key: str
    secure: bool = False
    http_only: bool = False
    same_site: str | None = None  # "strict" | "lax" | "none" | None, as tough-cookie stores it
    domain: str | None = None
    path: str | None = None
    host_only: bool = True


def _parse_set_cookie(header: str) -> _Cookie | None:
    """tough-cookie's Cookie.parse (non-loose mode): the attributes the analyzer reads."""
    header = header.strip()
    pair, _, attributes = header.partition(";")
    if "=" not in pair or pair.index("=") == 0:
        return None
    key = pair.split("=", 1)[0].strip()
    if not key or re.search(r"[\x00-\x1f]", pair):
        return None
    cookie = _Cookie(key=key)
    for attribute in attributes.split(";"):
        attribute = attribute.strip()
        if not attribute:
            continue
        attr_name, _, attr_value = attribute.partition("=")
        attr_name, attr_value = attr_name.strip().lower(), attr_value.strip()
        if attr_name == "secure":
            cookie.secure = True
        elif attr_name == "httponly":
            cookie.http_only = True
        elif attr_name == "samesite":
            value = attr_value.lower()
            cookie.same_site = value if value in ("strict", "lax", "none") else None
        elif attr_name == "domain" and attr_value:
            cookie.domain = attr_value.lstrip(".").lower()
        elif attr_name == "path":
            cookie.path = attr_value if attr_value.startswith("/") else None
    return cookie


def _default_path(request_path: str) -> str:
    if not request_path.startswith("/") or request_path.count("/") <= 1:
        return "/"
    return request_path[: request_path.rindex("/")]


def _cookie_jar(ctx: _Context) -> tuple[list[_Cookie], list[str]]:
    """The cookies a tough-cookie jar keeps after this response (prefix rules in 'silent' mode)."""
    jar: dict[tuple[str, str, str], _Cookie] = {}
    dropped: list[str] = []
    for raw in ctx.headers.all("set-cookie"):
        cookie = _parse_set_cookie(raw)
        if cookie is None:
            continue
        if cookie.domain:
            if _registrable_domain(cookie.domain) is None:
                dropped.append(f"{cookie.key}: Domain={cookie.domain} is a public suffix, cookie ignored")
                continue
            if not (ctx.host == cookie.domain or ctx.host.endswith("." + cookie.domain)):
                dropped.append(f"{cookie.key}: Domain={cookie.domain} does not match {ctx.host}, cookie ignored")
                continue
            cookie.host_only = False
        else:
            cookie.domain = ctx.host
        if not cookie.path:
            cookie.path = _default_path(ctx.path)
        if cookie.key.startswith("__Secure-") and not cookie.secure:
            dropped.append(f"{cookie.key}: __Secure- prefix without Secure, cookie ignored")
            continue
        if cookie.key.startswith("__Host-") and not (cookie.secure and cookie.host_only and cookie.path == "/"):
            dropped.append(f"{cookie.key}: __Host- prefix needs Secure, no Domain and Path=/, cookie ignored")
            continue
        if cookie.key == "heroku-session-affinity":  # COOKIES_TO_DELETE
            continue
        jar[(cookie.domain, cookie.path, cookie.key)] = cookie
    return list(jar.values()), dropped


def _contains_invalid_same_site(raw_cookie: str) -> bool:
    for part in raw_cookie.strip().split(";"):
        pieces = part.strip().split("=")
        key, value = pieces[0], pieces[1] if len(pieces) > 1 else ""
        if key.strip().lower() == "samesite" and (not value or value.strip().lower() not in ("lax", "strict", "none")):
            return True
    return False


_COOKIE_GOODNESS = (
    "cookies-without-secure-flag-but-protected-by-hsts",
    "cookies-without-secure-flag",
    "cookies-session-without-secure-flag-but-protected-by-hsts",
    "cookies-samesite-flag-invalid",
    "cookies-anticsrf-without-samesite-flag",
    "cookies-session-without-httponly-flag",
    "cookies-session-without-secure-flag",
)


def _only_if_worse(new: str, old: str | None, order: tuple[str, ...]) -> str:
    """src/analyzer/utils.js onlyIfWorse."""
    if not old:
        return new
    return new if order.index(new) > order.index(old) else old


def _cookies_test(ctx: _Context) -> CheckResult:
    """src/analyzer/tests/cookies.js cookiesTest."""
    name, expectation = "cookies", "cookies-secure-with-httponly-sessions"
    hsts = _hsts_test(ctx).passed
    result: str | None = None
    notes: list[str] = []

    for raw in ctx.headers.all("set-cookie"):
        if _contains_invalid_same_site(raw):
            result = _only_if_worse("cookies-samesite-flag-invalid", result, _COOKIE_GOODNESS)
            notes.append(f"invalid SameSite in {raw.split(';', 1)[0].split('=', 1)[0]!r}")

    cookies, dropped = _cookie_jar(ctx)
    notes.extend(dropped)
    data: dict[str, dict[str, Any]] | None = None
    if not cookies:
        result = "cookies-not-found"
    else:
        missing_same_site = False
        for cookie in cookies:
            lowered = cookie.key.lower()
            session_id = "login" in lowered or "sess" in lowered
            anticsrf = "csrf" in lowered
            flaws: list[str] = []
            if not cookie.secure and cookie.same_site == "none":
                result = _only_if_worse("cookies-samesite-flag-invalid", result, _COOKIE_GOODNESS)
                flaws.append("SameSite=None without Secure")
            if not cookie.secure:
                result = _only_if_worse(
                    "cookies-without-secure-flag-but-protected-by-hsts" if hsts else "cookies-without-secure-flag",
                    result,
                    _COOKIE_GOODNESS,
                )
                flaws.append("no Secure")
            if anticsrf and not cookie.same_site:
                result = _only_if_worse("cookies-anticsrf-without-samesite-flag", result, _COOKIE_GOODNESS)
                flaws.append("anti-CSRF cookie without SameSite")
            if session_id and not cookie.secure:
                result = _only_if_worse(
                    "cookies-session-without-secure-flag-but-protected-by-hsts"
                    if hsts
                    else "cookies-session-without-secure-flag",
                    result,
                    _COOKIE_GOODNESS,
                )
            if session_id and not cookie.http_only:
                result = _only_if_worse("cookies-session-without-httponly-flag", result, _COOKIE_GOODNESS)
                flaws.append("session cookie without HttpOnly")
            if not cookie.same_site:
                missing_same_site = True
                flaws.append("no SameSite")
            if flaws:
                notes.append(f"{cookie.key}: {', '.join(flaws)}")
        if not result:
            result = (
                "cookies-secure-with-httponly-sessions"
                if missing_same_site
                else "cookies-secure-with-httponly-sessions-and-samesite"
            )
        data = {
            c.key: {
                "domain": c.domain,
                "httponly": c.http_only,
                "path": c.path,
                "samesite": c.same_site,
                "secure": c.secure,
            }
            for c in cookies
        }
    passed = result in ("cookies-not-found", "cookies-secure-with-httponly-sessions-and-samesite", expectation)
    return CheckResult(name, result, passed, expectation, data=data, notes=tuple(notes))


# --------------------------------------------------------------------------- the other tests


def _cors_test(ctx: _Context) -> CheckResult:
    """src/analyzer/tests/cors.js crossOriginResourceSharingTest (on this response, not a preflight)."""
    name, expectation = "cross-origin-resource-sharing", "cross-origin-resource-sharing-not-implemented"
    result = "cross-origin-resource-sharing-not-implemented"
    acao = ctx.headers.first("access-control-allow-origin")
    credentials = ctx.headers.first("access-control-allow-credentials")
    data = None
    if acao:
        data = acao[:256].strip().lower()
        if data == "*":
            result = "cross-origin-resource-sharing-implemented-with-public-access"
        elif acao == ctx.cors_request_origin and credentials and credentials.lower().strip() == "true":
            result = "cross-origin-resource-sharing-implemented-with-universal-access"
        else:
            result = "cross-origin-resource-sharing-implemented-with-restricted-access"
    passed = result in (
        "cross-origin-resource-sharing-implemented-with-public-access",
        "cross-origin-resource-sharing-implemented-with-restricted-access",
        expectation,
    )
    return CheckResult(name, result, passed, expectation, data=data)


def _redirection_test(ctx: _Context) -> CheckResult:
    """src/analyzer/tests/redirection.js, reduced to what one response shows (see the module docstring)."""
    name, expectation = "redirection", "redirection-to-https"
    if ctx.https:
        return CheckResult(
            name,
            "redirection-to-https",
            True,
            expectation,
            notes=("assumed: the page is served over HTTPS; the HTTP->HTTPS redirect itself is not observed",),
        )
    location = ctx.headers.first("location")
    if ctx.status not in REDIRECT_STATUS_CODES or not location:
        result = "redirection-missing"
    else:
        target = urlsplit(urljoin(f"{ctx.scheme}://{ctx.host}{ctx.path}", location))
        if target.scheme != "https":
            result = "redirection-not-to-https"
        elif (target.hostname or "") != ctx.host:
            result = "redirection-off-host-from-http"
        else:
            result = "redirection-to-https"
    passed = result in ("redirection-not-needed-no-http", "redirection-all-redirects-preloaded", expectation)
    return CheckResult(name, result, passed, expectation, data=location)


_REFERRER_GOOD = ("no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin")
_REFERRER_BAD = ("origin", "origin-when-cross-origin", "unsafe-url", "no-referrer-when-downgrade")


def _referrer_policy_test(ctx: _Context) -> CheckResult:
    """src/analyzer/tests/referrer-policy.js referrerPolicyTest (header, then ``<meta name=referrer>``)."""
    name, expectation = "referrer-policy", "referrer-policy-private"
    values = [*ctx.headers.all("referrer-policy"), *ctx.http_equiv.get("referrer-policy", [])]
    if not values:
        return CheckResult(name, "referrer-policy-not-implemented", True, expectation)
    data = ", ".join(values)
    valid = [v.lower().strip() for v in data.split(",") if v.lower().strip() in (*_REFERRER_GOOD, *_REFERRER_BAD)]
    policy = valid[-1] if valid else ""  # the last valid value wins
    if policy in _REFERRER_GOOD:
        result = "referrer-policy-private"
    elif policy in _REFERRER_BAD:
        result = "referrer-policy-unsafe"
    else:
        result = "referrer-policy-header-invalid"
    passed = result in ("referrer-policy-private", "referrer-policy-not-implemented")
    return CheckResult(name, result, passed, expectation, data=data)


SIX_MONTHS = 15_552_000  # strict-transport-security.js: "a lot of sites use 15552000, so a white lie"


def _js_parse_int(text: str) -> float:
    match = re.match(r"\s*([+-]?\d+)", text)
    return int(match.group(1)) if match else math.nan


def _hsts_test(ctx: _Context) -> CheckResult:
    """src/analyzer/tests/strict-transport-security.js strictTransportSecurityTest."""
    name, expectation = "strict-transport-security", "hsts-implemented-max-age-at-least-six-months"
    data: dict[str, Any] | None = None
    notes: list[str] = []
    if not ctx.https:
        result = "hsts-not-implemented-no-https"
    else:
        result = "hsts-not-implemented"
        values = ctx.headers.all("strict-transport-security")
        if values:
            header = (values[0] or "")[:1024]
            max_age: float | None = None
            include_subdomains = preload = False
            for parameter in (p.strip().lower() for p in header.split(";")):
                if parameter.startswith("max-age="):
                    max_age = _js_parse_int(parameter[8:128])
                elif parameter == "includesubdomains":
                    include_subdomains = True
                elif parameter == "preload":
                    preload = True
            data = {"header": header, "maxAge": max_age, "includeSubDomains": include_subdomains, "preload": preload}
            if "," in header:
                result = "hsts-header-invalid"
                notes.append("header set more than once")
            elif max_age is None:
                result = "hsts-header-invalid"
                notes.append("max-age missing")
            elif max_age < SIX_MONTHS:  # NaN compares false, as in JavaScript
                result = "hsts-implemented-max-age-less-than-six-months"
            else:
                result = "hsts-implemented-max-age-at-least-six-months"
        if ctx.hsts_preloaded:
            result = "hsts-preloaded"
    passed = result in ("hsts-implemented-max-age-at-least-six-months", "hsts-preloaded", expectation)
    return CheckResult(name, result, passed, expectation, data=data, notes=tuple(notes))


# A small stand-in for the Public Suffix List, for registrable-domain comparisons (tldts in upstream).
_MULTI_LABEL_SUFFIXES = frozenset(
    {
        "ac.uk",
        "co.uk",
        "gov.uk",
        "ltd.uk",
        "me.uk",
        "net.uk",
        "org.uk",
        "plc.uk",
        "com.au",
        "net.au",
        "org.au",
        "edu.au",
        "gov.au",
        "co.nz",
        "org.nz",
        "co.jp",
        "ne.jp",
        "or.jp",
        "co.in",
        "co.za",
        "co.kr",
        "com.br",
        "com.cn",
        "com.mx",
        "com.tr",
        "com.tw",
        "github.io",
        "herokuapp.com",
        "pages.dev",
        "vercel.app",
        "netlify.app",
    }
)


def _registrable_domain(host: str | None) -> str | None:
    if not host:
        return None
    host = host.strip(".").lower()
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return None
    labels = host.split(".")
    size = 3 if ".".join(labels[-2:]) in _MULTI_LABEL_SUFFIXES else 2
    return ".".join(labels[-size:]) if len(labels) >= size else None


_SRI_GOODNESS = (
    "sri-implemented-and-all-scripts-loaded-securely",
    "sri-implemented-and-external-scripts-loaded-securely",
    "sri-implemented-but-external-scripts-not-loaded-securely",
    "sri-not-implemented-but-external-scripts-loaded-securely",
    "sri-not-implemented-and-external-scripts-not-loaded-securely",
    "sri-not-implemented-response-not-html",
)


def _normalise_script_src(src: str) -> str:
    """What jsdom's ``script.src`` returns without a document URL: absolute URLs normalised, others raw."""
    stripped = src.strip()
    if re.match(r"^https?://", stripped, re.IGNORECASE):
        parts = urlsplit(stripped)
        return parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower()).geturl()
    return src


def _sri_test(ctx: _Context) -> CheckResult:
    """src/analyzer/tests/subresource-integrity.js subresourceIntegrityTest."""
    name, expectation = "subresource-integrity", "sri-implemented-and-external-scripts-loaded-securely"
    mime = (ctx.headers.first("content-type") or "").split(";")[0]
    if mime and mime not in HTML_TYPES:
        return CheckResult(name, "sri-not-implemented-response-not-html", True, expectation)

    result: str | None = None
    data: dict[str, dict[str, str | None]] = {}
    foreign = False
    site_domain = _registrable_domain(ctx.host)
    for script in ctx.scripts:
        src = _normalise_script_src(script.get("src", ""))
        if not src:
            continue
        integrity = script.get("integrity") or None
        relative_origin = relative_protocol = same_site = False
        if re.match(r"^//[^/]", src):
            relative_protocol = same_site = True
        elif re.match(r"^https?://", src):
            same_site = _registrable_domain(urlsplit(src).hostname) == site_domain
        else:
            relative_origin = same_site = True
        secure_origin = relative_origin or (same_site and not relative_protocol)
        if not secure_origin:
            foreign = True
        scheme = None if relative_protocol or relative_origin else urlsplit(src).scheme
        secure_scheme = scheme == "https" or (relative_origin and ctx.https)

        if not secure_origin:
            data[src] = {"crossorigin": script.get("crossorigin"), "integrity": integrity}
            if integrity and not secure_scheme:
                result = _only_if_worse(
                    "sri-implemented-but-external-scripts-not-loaded-securely", result, _SRI_GOODNESS
                )
            elif not integrity and secure_scheme:
                result = _only_if_worse(
                    "sri-not-implemented-but-external-scripts-loaded-securely", result, _SRI_GOODNESS
                )
            elif not integrity and not secure_scheme:
                result = _only_if_worse(
                    "sri-not-implemented-and-external-scripts-not-loaded-securely", result, _SRI_GOODNESS
                )
        elif integrity and secure_scheme and not result:
            result = "sri-implemented-and-all-scripts-loaded-securely"  # a bonus even for same-site SRI

    if not ctx.scripts:
        result = "sri-not-implemented-but-no-scripts-loaded"
    elif not result:
        result = (
            "sri-implemented-and-external-scripts-loaded-securely"
            if foreign
            else "sri-not-implemented-but-all-scripts-loaded-from-secure-origin"
        )
    passed = result in (
        "sri-implemented-and-all-scripts-loaded-securely",
        "sri-implemented-and-external-scripts-loaded-securely",
        "sri-not-implemented-response-not-html",
        "sri-not-implemented-but-all-scripts-loaded-from-secure-origin",
        "sri-not-implemented-but-no-scripts-loaded",
        expectation,
    )
    notes = tuple(f"external script {src} integrity={info['integrity']!r}" for src, info in data.items())
    return CheckResult(name, result, passed, expectation, data=data, notes=notes)


def _x_content_type_options_test(ctx: _Context) -> CheckResult:
    name, expectation = "x-content-type-options", "x-content-type-options-nosniff"
    header = ctx.headers.first("x-content-type-options")
    if not header:
        result = "x-content-type-options-not-implemented"
    elif header[:256].strip().lower() == "nosniff":
        result = "x-content-type-options-nosniff"
    else:
        result = "x-content-type-options-header-invalid"
    return CheckResult(name, result, result == expectation, expectation, data=header)


def _x_frame_options_test(ctx: _Context) -> CheckResult:
    """src/analyzer/tests/x-frame-options.js: any CSP frame-ancestors directive takes precedence."""
    name, expectation = "x-frame-options", "x-frame-options-sameorigin-or-deny"
    header = ctx.headers.first("x-frame-options")
    if header:
        xfo = header[:1024].strip().lower()
        if xfo in ("deny", "sameorigin"):
            result = "x-frame-options-sameorigin-or-deny"
        elif xfo.startswith("allow-from"):
            result = "x-frame-options-allow-from-origin"
        else:
            result = "x-frame-options-header-invalid"
    else:
        result = "x-frame-options-not-implemented"
    csp = _csp_test(ctx)
    if csp.data and csp.data.get("frame-ancestors"):
        result = "x-frame-options-implemented-via-csp"
    passed = result in (
        "x-frame-options-allow-from-origin",
        "x-frame-options-sameorigin-or-deny",
        "x-frame-options-implemented-via-csp",
        expectation,
    )
    return CheckResult(name, result, passed, expectation, data=header)


def _corp_test(ctx: _Context) -> CheckResult:
    name, expectation = "cross-origin-resource-policy", "corp-implemented-with-same-site"
    header = ctx.headers.first("cross-origin-resource-policy")
    result = "corp-not-implemented"
    if header:
        value = header[:256].strip().lower()
        result = {
            "same-site": "corp-implemented-with-same-site",
            "same-origin": "corp-implemented-with-same-origin",
            "cross-origin": "corp-implemented-with-cross-origin",
        }.get(value, "corp-header-invalid")
    return CheckResult(name, result, result != "corp-header-invalid", expectation, data=header)


# src/constants.js ALL_TESTS, in order
_ALL_TESTS = (
    _csp_test,
    _cookies_test,
    _cors_test,
    _redirection_test,
    _referrer_policy_test,
    _hsts_test,
    _sri_test,
    _x_content_type_options_test,
    _x_frame_options_test,
    _corp_test,
)


# --------------------------------------------------------------------------- entry points


def score_response(
    *,
    status: int,
    headers: Iterable[tuple[str, str]] | Mapping[str, Any],
    url: str,
    body: str = "",
    hsts_preloaded: bool = False,
    cors_request_origin: str = DEFAULT_CORS_ORIGIN,
) -> ObservatoryResult:
    """Score one response the way the MDN HTTP Observatory scores a site.

    ``headers`` is a list of ``(name, value)`` pairs (repeat ``Set-Cookie`` once per cookie) or a
    mapping whose values may be lists. ``url`` is the URL the response was served from (its scheme
    and host matter). ``body`` is the HTML, for ``<script>`` SRI checks and ``<meta>`` policies.
    """
    # src/scanner/index.js: only 2xx, 3xx, 401 and 403 responses are graded.
    if status < 200 or (status >= 400 and status not in (401, 403)):
        raise ObservatoryError(f"the Observatory does not grade a response with status {status}")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ObservatoryError(f"need an absolute http(s) URL, got {url!r}")

    parsed_headers = _Headers(headers)
    parser = _PageParser()
    parser.feed(body or "")
    parser.close()
    content_type = parsed_headers.first("content-type")
    is_html = content_type is not None and content_type.split(";")[0] in HTML_TYPES
    ctx = _Context(
        status=status,
        headers=parsed_headers,
        scheme=parts.scheme,
        host=parts.hostname,
        path=parts.path or "/",
        body=body or "",
        scripts=parser.scripts,
        http_equiv=_parse_http_equiv(parser.metas) if is_html and body else {},
        hsts_preloaded=hsts_preloaded,
        cors_request_origin=cors_request_origin,
    )

    checks = [test(ctx) for test in _ALL_TESTS]
    with_extra_credit = 100 + sum(check.modifier for check in checks)
    uncurved = 100 + sum(check.modifier for check in checks if check.modifier < 0)
    score = with_extra_credit if uncurved >= MINIMUM_SCORE_FOR_EXTRA_CREDIT else uncurved
    score = max(score, 0)
    return ObservatoryResult(
        score=score,
        grade=grade_for_score(score),
        uncurved_score=uncurved,
        score_with_extra_credit=with_extra_credit,
        tests={check.name: check for check in checks},
    )


def score_django_response(response: Any, *, url: str, **options: Any) -> ObservatoryResult:
    """Score a Django (test client) response: its headers, every cookie in ``response.cookies``, its body.

    ``url`` is where the page would be served from, e.g. ``"https://example.com/"``; request the page
    with ``secure=True`` so ``SecurityMiddleware`` adds HSTS. ``options`` go to :func:`score_response`.
    """
    headers: list[tuple[str, str]] = [(name, value) for name, value in response.items() if name.lower() != "set-cookie"]
    headers.extend(("Set-Cookie", morsel.OutputString()) for morsel in response.cookies.values())
    body = ""
    if not getattr(response, "streaming", False):
        body = response.content.decode(getattr(response, "charset", None) or "utf-8", errors="replace")
    return score_response(status=response.status_code, headers=headers, url=url, body=body, **options)
