"""The one place user-supplied text is made safe to show on a page.

Two kinds of field: plain text (markup removed, stored plain, escaped by the template) and
simple formatting (a small allow-list of tags, rendered as HTML). Every service that stores
user text shown in HTML calls one of these.
"""

import html
import re
from functools import partial
from typing import Any, cast

from bleach.linkifier import LinkifyFilter
from bleach.sanitizer import Cleaner

from mvpvalidator.control_characters import CONTROL_CHARACTERS

# Tags a founder may use in the few rich fields (value proposition): emphasis, lists, links.
ALLOWED_TAGS = frozenset({"p", "br", "strong", "b", "em", "i", "ul", "ol", "li", "a"})
ALLOWED_ATTRIBUTES = {"a": ["href", "title", "rel", "target"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})


def _safe_link(attrs: dict[Any, str], new: bool = False) -> dict[Any, str]:
    # Outbound links from user content pass neither the page's authority nor a window handle.
    attrs[(None, "rel")] = "nofollow noopener noreferrer"
    attrs[(None, "target")] = "_blank"
    return attrs


_PLAIN = Cleaner(tags=set(), attributes={}, strip=True, strip_comments=True)
_RICH = Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[partial(LinkifyFilter, callbacks=[_safe_link], parse_email=False)],
)


# What the cleaner may change: without any of these the text is already plain.
_NEEDS_CLEANING = re.compile(r"[<&\r]")

# Each round peels one layer of HTML escaping; real text needs one or two.
_MAX_DECODE_ROUNDS = 16


def sanitize_text(value: str, *, max_length: int | None = None, field: str = "") -> str:
    """Plain text: tags removed, entities decoded, control characters dropped, trimmed.

    Cleaning repeats until stable so encoded markup (`&lt;script&gt;`) goes the way of the
    literal kind. Templates autoescape the result, so what remains is shown, never run.
    """
    text = CONTROL_CHARACTERS.sub("", value or "")
    if field:
        _report(text, field)
    # No tag, no entity, no carriage return (the HTML parser turns CR LF into LF): the cleaner
    # would hand the text back unchanged, so it is skipped (most fields of a signup are so).
    if _NEEDS_CLEANING.search(text):
        text = _strip_markup(text)
    text = text.strip()
    return text[:max_length] if max_length is not None else text


def _strip_markup(text: str) -> str:
    for _ in range(_MAX_DECODE_ROUNDS):
        cleaned = html.unescape(_PLAIN.clean(text))
        if cleaned == text:
            return text
        text = cleaned
    # Still decoding to something new after this many layers of escaping: keep the last
    # cleaned form escaped rather than hand back markup that one more decode produced.
    return cast(str, _PLAIN.clean(text))


def sanitize_html(value: str, *, max_length: int | None = None, field: str = "") -> str:
    """Simple formatting: only the allow-listed tags, attributes and URL schemes survive."""
    text = CONTROL_CHARACTERS.sub("", value or "").strip()
    if field:
        _report(text, field)
    if max_length is not None:
        text = text[:max_length]
    return cast(str, _RICH.clean(text))


def contains_markup(value: str) -> bool:
    """Whether sanitising changed the text: a sign of markup or script payloads in input."""
    return sanitize_text(value) != (value or "").strip()


def _report(value: str, field: str) -> None:
    # Deferred import: this module stays usable without Django (the inspector records events).
    from security.inspect import report

    report(value, field=field)
