"""A visit's first touch: where it came from (its UTM tags, referrer and ad click id), read from
the page view's address and Referer header, from a signup form's hidden fields, or from the
signed cookie the visit's first page view set; every text cleaned and cut to its column. Every
signup keeps it, whichever form it came through.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

from mvpvalidator.control_characters import CONTROL_CHARACTERS
from projects.analysis.channels import CLICK_ID_MAX_LENGTH, CLICK_PLATFORMS, UTM_FIELDS, FirstTouch, click_id_of

# The visit's first touch (its UTM tags, referrer and click id), set with the channel cookie by the
# page view that began the visit: every signup keeps it, whichever form it came through.
FIRST_TOUCH_COOKIE = "mvp_ft"
_FIRST_TOUCH_SALT = "projects.first-touch"
# A visit's first touch is its own: a copy of the cookie kept for weeks is not this visit's.
FIRST_TOUCH_MAX_AGE_SECONDS = 7 * 24 * 3600


# The lengths of the columns that keep them (`Signup`, `Event`).
UTM_MAX_LENGTH = 200
REFERRER_MAX_LENGTH = 500


def _clean(value: object, max_length: int) -> str:
    # From anyone's address or cookie: control characters out (PostgreSQL refuses NUL in text).
    return CONTROL_CHARACTERS.sub("", value if isinstance(value, str) else "")[:max_length]


def _touch(utm: Iterable[object], referrer: object, click_platform: object, click_id: object) -> FirstTouch:
    tags = [_clean(v, UTM_MAX_LENGTH) for v in utm][: len(UTM_FIELDS)]
    tags += [""] * (len(UTM_FIELDS) - len(tags))
    platform = click_platform if isinstance(click_platform, str) and click_platform in CLICK_PLATFORMS else ""
    return FirstTouch(
        utm=(tags[0], tags[1], tags[2], tags[3], tags[4]),
        referrer=_clean(referrer, REFERRER_MAX_LENGTH),
        click_platform=platform,
        click_id=_clean(click_id, CLICK_ID_MAX_LENGTH) if platform else "",
    )


# Where most page views say they came from: nowhere (no query string, no Referer header).
NO_TOUCH = FirstTouch()


def says_nothing(request: HttpRequest) -> bool:
    """Whether the request came with no query string and no Referer: nothing says where it came
    from (a typed address, a bookmark, most apps' in-app browsers), and nothing needs parsing."""
    return not request.META.get("QUERY_STRING") and not request.META.get("HTTP_REFERER")


def request_touch(request: HttpRequest) -> FirstTouch:
    """What a page view's address (UTM tags, click id) and Referer header say of where it came from."""
    if says_nothing(request):
        return NO_TOUCH  # nothing to parse or clean
    platform, click_id = click_id_of(request.GET)
    return _touch(
        (request.GET.get(name, "") for name in UTM_FIELDS), request.META.get("HTTP_REFERER", ""), platform, click_id
    )


def form_touch(fields: Mapping[str, object]) -> FirstTouch:
    """The first touch a signup form's hidden fields carry (`ref` and the UTM tags): only for a
    visit that kept none (`kept_touch`), since a page can send them blank."""
    return _touch((carried(fields, name) for name in UTM_FIELDS), carried(fields, "ref"), "", "")


def carried(fields: Mapping[str, object], name: str) -> str:
    """What a form carried in its hidden input `name` (`ref` or a UTM tag), as the first touch
    keeps it: control characters out, cut to its column, trimmed."""
    value = fields.get(name)
    limit = REFERRER_MAX_LENGTH if name == "ref" else UTM_MAX_LENGTH
    return _clean(value.strip(), limit).strip() if isinstance(value, str) else ""


def kept_touch(request: HttpRequest) -> FirstTouch | None:
    """The visit's first touch, from its cookie (None: none kept, or not one this platform signed)."""
    raw = request.COOKIES.get(FIRST_TOUCH_COOKIE)
    if not raw:
        return None
    try:
        value = signing.loads(raw, salt=_FIRST_TOUCH_SALT, max_age=FIRST_TOUCH_MAX_AGE_SECONDS)
    except signing.BadSignature:
        return None
    if not isinstance(value, list) or len(value) != 4 or not isinstance(value[0], list):
        return None
    return _touch(value[0], value[1], value[2], value[3])


# Browsers drop a cookie over 4,096 bytes, and a proxy's default header buffer (nginx: 4 KB) turns
# a larger Set-Cookie into a 502. Tags and a referrer cut to their columns fit in ASCII (~2 KB),
# but not in CJK or emoji, which JSON escapes six bytes a character: those are cut further.
FIRST_TOUCH_MAX_BYTES = 3000


def _first_touch_value(touch: FirstTouch) -> str | None:
    """The signed cookie value, its text cut until it fits FIRST_TOUCH_MAX_BYTES (None: it never
    does, and the visit keeps no first touch rather than one the browser would drop)."""
    limit = REFERRER_MAX_LENGTH
    while limit >= 25:
        value = signing.dumps(
            [[t[:limit] for t in touch.utm], touch.referrer[:limit], touch.click_platform, touch.click_id[:limit]],
            salt=_FIRST_TOUCH_SALT,
            compress=True,
        )
        if len(value) <= FIRST_TOUCH_MAX_BYTES:
            return value
        limit //= 2
    return None


def set_first_touch_cookie(response: HttpResponse, touch: FirstTouch, *, path: str) -> None:
    """A session cookie (one visit) beside the channel cookie, scoped to the page's addresses.
    Signed, so what a signup keeps is what the page view saw (at most FIRST_TOUCH_MAX_BYTES)."""
    value = _first_touch_value(touch)
    if value is None:
        return
    response.set_cookie(
        FIRST_TOUCH_COOKIE, value, path=path, secure=settings.SESSION_COOKIE_SECURE, httponly=True, samesite="Lax"
    )
