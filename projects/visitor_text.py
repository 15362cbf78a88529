"""What anonymous visitors type into the public forms, made into what the platform stores: the
one spelling of a signup's address, and visitor text without invisible characters.

Addresses: anything invisible (control characters such as `"a\\x01b"@example.com`, bidi
controls, zero-width characters) is refused, not stripped: no real address holds one, mail would
go to another spelling than the one shown, and each such spelling would count as another
address. What remains is put in NFKC form (a full-width `ａ` typed on a CJK keyboard is the
`a` of the address meant; IDNA's UTS #46 mapping does the same to the domain before any lookup)
and lower-cased (the stored rule the unique index and the `signup_email_lowercase` constraint
rely on). Quoted local parts (`"ann"@example.com`, the same mailbox as `ann@example.com` for most
servers) and domain literals (`ann@[192.0.2.1]`) are refused: people do not sign up with them,
and each would be one more spelling of an address. The domain is stored in its ASCII form, each
non-ASCII label as its punycode `xn--` label (RFC 3492), the form DNS and mail servers use, so
`ann@exämple.com` and `ann@xn--exmple-cua.com` are one address. The labels are encoded as typed
(after NFKC and lower case), as IDNA 2008 does: Python's `idna` codec is IDNA 2003, which maps
`ß` to `ss` and `ς` to `σ`, and would send mail for `straße.de` to `strasse.de`, since 2010
another domain. Then the address is validated. Every signup path calls `signup_email` before the
uniqueness check: the landing page's form, the pre-order page's form (the same form) and
`signup_create` itself.

Names, answers and the tags a form carries lose Unicode format characters (category Cf: bidi
embeddings and overrides, zero-width spaces and joiners, BOM, tag characters), which could
reorder or hide what the founder reads in a list or an export. Emoji joined by a zero-width
joiner then show as their separate parts: the cost of a name that reads as it is stored.
"""

import functools
import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from security.sanitize import sanitize_text

MAX_EMAIL_LENGTH = 254  # RFC 5321's limit on a forward path, less the angle brackets


# The form and then `signup_create` ask for the spelling of an address: the second asks with what
# the first answered, a hit when the visitor typed it as it is stored (most do). A function of its
# argument alone; a refusal raises, and is not kept.
@functools.lru_cache(maxsize=1024)
def signup_email(value: str) -> str:
    """The stored spelling of a signup's address, or ValidationError saying what is wrong."""
    text = (value or "").strip()
    if not text.isprintable():  # control, format (bidi, zero-width), separator characters
        raise ValidationError("An email address cannot contain invisible or control characters.", code="invalid")
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).lower())
    if '"' in text:
        raise ValidationError("Type the email address without quotation marks.", code="quoted")
    local, at, domain = text.rpartition("@")
    if at:
        if domain.startswith("[") or domain.endswith("]"):
            raise ValidationError("Type the email address with a domain name after the @.", code="domain_literal")
        text = f"{local}@{_ascii_domain(domain)}"
    if len(text) > MAX_EMAIL_LENGTH:
        raise ValidationError(f"An email address has at most {MAX_EMAIL_LENGTH} characters.", code="max_length")
    validate_email(text)
    return text


# What UTS #46 reads as a label separator; NFKC has made the full-width ones U+3002 already.
_LABEL_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
_MAX_LABEL_LENGTH = 63  # RFC 1035, section 2.3.4


def _ascii_domain(domain: str) -> str:
    """The domain as DNS spells it: every non-ASCII label as its `xn--` punycode label."""
    labels = []
    for label in domain.translate(_LABEL_DOTS).split("."):
        if not label.isascii():
            label = "xn--" + label.encode("punycode").decode("ascii")
        if not 0 < len(label) <= _MAX_LABEL_LENGTH:
            raise ValidationError("The part after the @ is not a domain name mail can be sent to.", code="domain")
        labels.append(label)
    return ".".join(labels)


def _without_format_characters(text: str) -> str:
    if text.isprintable():  # nearly every name: no character to look at one by one
        return text
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def visitor_text(value: str, *, max_length: int, field: str = "") -> str:
    """A visitor's plain text as stored: invisible format characters and markup removed."""
    return sanitize_text(_without_format_characters(value or ""), max_length=max_length, field=field)
