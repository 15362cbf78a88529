"""What anonymous visitors type into the public forms, made into what the platform stores: the
one spelling of a signup's address, and visitor text without invisible characters.

Addresses: anything invisible (control characters such as `"a\\x01b"@example.com`, bidi
controls, zero-width characters) is refused, not stripped: no real address holds one, mail would
go to another spelling than the one shown, and each such spelling would count as another
address. What remains is put in NFKC form (a full-width `ａ` typed on a CJK keyboard is the
`a` of the address meant; IDNA's UTS #46 mapping does the same to the domain before any lookup)
and lower-cased (the stored rule the unique index and the `signup_email_lowercase` constraint
rely on), then validated. Every signup path calls `signup_email` before the uniqueness check:
the landing page's form, the pre-order page's form (the same form) and `signup_create` itself.

Names, answers and the tags a form carries lose Unicode format characters (category Cf: bidi
embeddings and overrides, zero-width spaces and joiners, BOM, tag characters), which could
reorder or hide what the founder reads in a list or an export. Emoji joined by a zero-width
joiner then show as their separate parts: the cost of a name that reads as it is stored.
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from security.sanitize import sanitize_text

MAX_EMAIL_LENGTH = 254  # RFC 5321's limit on a forward path, less the angle brackets


def signup_email(value: str) -> str:
    """The stored spelling of a signup's address, or ValidationError saying what is wrong."""
    text = (value or "").strip()
    if not text.isprintable():  # control, format (bidi, zero-width), separator characters
        raise ValidationError("An email address cannot contain invisible or control characters.", code="invalid")
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).lower())
    if len(text) > MAX_EMAIL_LENGTH:
        raise ValidationError(f"An email address has at most {MAX_EMAIL_LENGTH} characters.", code="max_length")
    validate_email(text)
    return text


def _without_format_characters(text: str) -> str:
    if text.isprintable():  # nearly every name: no character to look at one by one
        return text
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def visitor_text(value: str, *, max_length: int, field: str = "") -> str:
    """A visitor's plain text as stored: invisible format characters and markup removed."""
    return sanitize_text(_without_format_characters(value or ""), max_length=max_length, field=field)
