"""What every CSV the platform writes goes through: cells a spreadsheet cannot run, and the
one rule for which `Accept` headers a CSV answer satisfies (pure: no Django).

Formula injection (https://owasp.org/www-community/attacks/CSV_Injection): a spreadsheet runs a
cell that starts with `=`, `+`, `-` or `@` (and one that starts with a tab or carriage return
once it trims them). Prefixing the cell with `'` is not enough: Excel in German, French,
Spanish, Italian or Dutch locales splits a comma-separated file on `;`, and import dialogs
offer tab, `|` and `,` too, so `Ann;=1+41` arrives unquoted and becomes the cells `Ann` and
`=1+41`. A `'` therefore goes before the trigger at the start of every piece a spreadsheet may
split a field into. Numbers the platform writes as numbers (`-3.5`, a Decimal) stay numbers:
they are not text anyone typed and hold nothing a spreadsheet could run; a visitor's text that
looks like a number (`-3`) is text, and gets its `'` like any other.
"""

import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

CSV_MEDIA_TYPE = "text/csv"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"

# What a spreadsheet may split one field on, and what makes the piece after it a formula. The
# full-width forms are included: some locales' spreadsheets read them as their ASCII twins.
_SEPARATORS = ";,\t|\r\n"
_TRIGGERS = "=+-@\t\r\uff1d\uff0b\uff0d\uff20"
# A zero-width position at the start of the field or right after a separator, followed (past
# any spaces, which spreadsheets trim when converting, and quotes, which a splitting import reads
# as an empty quoted part before the rest: `;"=1+41` gives the piece `""=1+41`) by a trigger:
# the `'` goes there.
_PIECE_STARTING_A_FORMULA = re.compile(
    rf"""(?:^|(?<=[{re.escape(_SEPARATORS)}]))(?=[ \u00a0"']*+[{re.escape(_TRIGGERS)}])"""
)

_ANY_TRIGGER = re.compile(f"[{re.escape(_TRIGGERS)}]")


def safe_cell(value: object) -> str:
    """One cell's text, with no piece of it a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    # Most cells hold no trigger at all: one scan for any of them skips the piece-by-piece pass.
    return _PIECE_STARTING_A_FORMULA.sub("'", text) if _ANY_TRIGGER.search(text) else text


def safe_row(values: Iterable[object]) -> list[str]:
    return [safe_cell(value) for value in values]


def _media_ranges(accept: str) -> Iterable[tuple[str, float]]:
    for item in accept.split(","):
        media_range, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            name, _, number = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(number)
                except ValueError:
                    quality = 0.0
        if media_range:
            yield media_range.lower(), quality


# How closely a media range names CSV: the closest range in a header decides (RFC 9110 §12.5.1).
_SPECIFICITY = {"*/*": 0, "text/*": 1, CSV_MEDIA_TYPE: 2}


def accepts_csv(accept: str | None) -> bool:
    """Whether an `Accept` header admits a CSV answer (RFC 9110 §12.5.1): no header, `*/*`,
    `text/*` or `text/csv` with any parameters (`charset`, `header=present`). The most specific
    range decides, so `text/csv;q=0, */*` refuses it."""
    if not accept or not accept.strip():
        return True
    best: tuple[int, float] | None = None  # (specificity, quality) of the closest range
    for media_range, quality in _media_ranges(accept):
        specificity = _SPECIFICITY.get(media_range)
        if specificity is not None and (best is None or specificity > best[0]):
            best = (specificity, quality)
    return best is not None and best[1] > 0
