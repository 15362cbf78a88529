"""The device class of a visit (phone, tablet, desktop, other) from its user agent.

Substring tests on the lower-cased user agent, in the order that decides: the markers follow
the browsers' own user agent strings (https://developer.mozilla.org/en-US/docs/Web/HTTP/Browser_detection_using_the_user_agent#mobile_tablet_or_desktop:
"Mobi" anywhere means a phone; Android without "Mobile" is a tablet). It runs on every public
page view, so it is a handful of `in` tests (well under a microsecond or two), no regular
expression and no table of models. An iPad on iPadOS 13 or later asks for the desktop site
and says "Macintosh": it counts as a desktop, as it asked to be treated. Known bots are told
apart before this (`projects.events.visit.is_bot`); their device is "other".
"""

DESKTOP = "desktop"
PHONE = "phone"
TABLET = "tablet"
OTHER = "other"
# The values of `projects.models.Device` (a test keeps the two equal).
DEVICES = frozenset({DESKTOP, PHONE, TABLET, OTHER})

_TABLET_MARKERS = ("ipad", "tablet", "kindle", "silk/", "playbook")
_PHONE_MARKERS = ("iphone", "ipod", "mobi", "windows phone", "blackberry", "opera mini", "phone")
_DESKTOP_MARKERS = ("windows nt", "macintosh", "x11", "linux", "cros", "windows")


def device_of(user_agent: str) -> str:
    """The device class of a browser's user agent; "other" for anything that names no browser
    platform (an empty header, a command-line client, an unknown device)."""
    ua = user_agent.lower()
    if not ua.startswith("mozilla/") and not ua.startswith("opera/"):
        return OTHER
    if any(marker in ua for marker in _TABLET_MARKERS):
        return TABLET
    if "android" in ua:
        # Android phones say "Mobile"; Android tablets leave it out.
        return PHONE if "mobi" in ua else TABLET
    if any(marker in ua for marker in _PHONE_MARKERS):
        return PHONE
    if any(marker in ua for marker in _DESKTOP_MARKERS):
        return DESKTOP
    return OTHER
