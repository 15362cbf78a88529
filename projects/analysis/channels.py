"""Where a visitor came from: the acquisition channel of a page view, from its UTM tags and
its referrer, and the names of the UTM tags themselves."""

from urllib.parse import urlsplit

from mvpvalidator.control_characters import strip_control_characters

# The channels: the values of `projects.models.Channel` (a test keeps the two equal).
DIRECT = "direct"
SEARCH = "search"
PAID = "paid"
SOCIAL = "social"
EMAIL = "email"
REFERRAL = "referral"
CHANNELS = frozenset({DIRECT, SEARCH, PAID, SOCIAL, EMAIL, REFERRAL})

# The UTM tags a page view's address may carry, in the order events store them.
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")

PAID_MEDIUMS = frozenset(
    {"cpc", "ppc", "cpm", "paid", "paidsearch", "paid_search", "paid-social", "paid_social", "display", "ads", "ad"}
)
SOCIAL_MEDIUMS = frozenset({"social", "social-network", "social_media", "sm"})
SEARCH_HOSTS = ("google.", "bing.", "duckduckgo.", "yahoo.", "baidu.", "yandex.", "ecosia.", "brave.", "startpage.")
SOCIAL_HOSTS = (
    "facebook.", "instagram.", "t.co", "twitter.", "x.com", "linkedin.", "reddit.", "youtube.", "tiktok.",
    "news.ycombinator.", "pinterest.", "threads.",
)  # fmt: skip
EMAIL_HOSTS = ("mail.", "outlook.", "substack.")


def referrer_host(referrer: str) -> str:
    try:
        host = urlsplit(referrer).hostname or ""
    except ValueError:
        return ""
    return strip_control_characters(host)[:255]


def channel_of(*, utm_source: str, utm_medium: str, referrer_host: str, own_host: str = "") -> str:
    """The acquisition channel, from the UTM tags first (they are what the founder controls)
    and the referrer otherwise; the rules of GA4's default channel grouping, simplified
    (https://support.google.com/analytics/answer/9756891)."""
    medium, source = utm_medium.lower(), utm_source.lower()
    if medium in PAID_MEDIUMS or medium.startswith(("paid", "cp")):
        return PAID
    if medium == "email" or source in {"email", "newsletter"}:
        return EMAIL
    if medium in SOCIAL_MEDIUMS:
        return SOCIAL
    if medium in {"organic", "search"}:
        return SEARCH
    if medium or source:
        return REFERRAL
    host = referrer_host.lower()
    if not host or (own_host and host == own_host.lower()):
        return DIRECT
    if any(marker in host for marker in SEARCH_HOSTS):
        return SEARCH
    if any(host == marker.rstrip(".") or marker in host for marker in SOCIAL_HOSTS):
        return SOCIAL
    if any(host.startswith(marker) for marker in EMAIL_HOSTS):
        return EMAIL
    return REFERRAL


# --- Which channels count for the verdict ----------------------------------------------------

# People who did not know the page: their signups can validate demand. Email (the founder's own
# list) and referrals are warm: shown, never validating on their own.
COLD_CHANNELS = (PAID, SEARCH, SOCIAL, DIRECT)
# Ad platforms whose paid traffic is paid social (the rest, Google Ads and "other", paid search).
SOCIAL_PLATFORMS = frozenset({"meta", "reddit", "linkedin"})


def paid_card_channel(platforms: frozenset[str]) -> str:
    """The test card's channel for paid traffic bought on `platforms` (the campaigns' platforms):
    paid social when every one of them is a social network, paid search otherwise."""
    return "paid_social" if platforms and platforms <= SOCIAL_PLATFORMS else "paid_search"


def card_channel(main: str, *, platforms: frozenset[str]) -> str:
    """The test card's channel for the cold visit channel most visitors came by."""
    return paid_card_channel(platforms) if main == PAID else main
