"""Where a visitor came from: the acquisition channel of a page view, from the project's
campaigns, its UTM tags, its ad platform click id and its referrer; the names of the UTM tags and
click ids themselves; and which of the project's campaigns a first touch belongs to."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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


def _hostname(host: str) -> str:
    # The request's Host header may carry a port ("127.0.0.1:8000"); a referrer's hostname never does.
    try:
        return (urlsplit(f"//{host}").hostname or "") if host else ""
    except ValueError:
        return host.lower()


def referrer_host(referrer: str) -> str:
    try:
        host = urlsplit(referrer).hostname or ""
    except ValueError:
        return ""
    return strip_control_characters(host)[:255]


# --- Ad platform click ids ------------------------------------------------------------------------

# The click id an ad platform's auto-tagging adds to the landing address, and the platform it names,
# in the order they are looked for (an address rarely carries two; the first found is kept).
# https://support.google.com/google-ads/answer/9744275 (gclid, gbraid, wbraid); Meta's fbclid;
# Microsoft Advertising's msclkid; LinkedIn's li_fat_id; Reddit's rdt_cid; TikTok's ttclid.
CLICK_IDS = (
    ("gclid", "google"), ("gbraid", "google"), ("wbraid", "google"), ("fbclid", "meta"),
    ("msclkid", "microsoft"), ("li_fat_id", "linkedin"), ("rdt_cid", "reddit"), ("ttclid", "tiktok"),
)  # fmt: skip
CLICK_PLATFORMS = frozenset(platform for _, platform in CLICK_IDS)
# The campaign platform (`projects.models.CampaignPlatform`) a click's platform is bought on.
# Microsoft Advertising and TikTok have no choice of their own: a founder registers such campaigns
# as "other", so their click ids tie a visitor to the project's "other" campaign.
CAMPAIGN_PLATFORM_OF_CLICK = {
    "google": "google", "meta": "meta", "linkedin": "linkedin", "reddit": "reddit",
    "microsoft": "other", "tiktok": "other",
}  # fmt: skip
CLICK_ID_MAX_LENGTH = 255


def click_id_of(params: Mapping[str, str]) -> tuple[str, str]:
    """(platform, click id) of the first click id in CLICK_IDS that `params` (an address's query)
    carries with a value; ("", "") when none does."""
    for name, platform in CLICK_IDS:
        value = params.get(name, "")
        if value:
            return platform, value
    return "", ""


def click_platforms_of(campaign_platform: str) -> frozenset[str]:
    """The click platforms whose click ids can tie a visitor to a campaign on `campaign_platform`."""
    return frozenset(click for click, bought in CAMPAIGN_PLATFORM_OF_CLICK.items() if bought == campaign_platform)


# --- Which campaign a first touch belongs to ---------------------------------------------------


def _tag(value: str) -> str:
    # Campaign tags are stored as slugs (lower case); an ad's address may spell them otherwise.
    return value.lower()


def campaigns_claiming(
    *, utm_campaign: str, click_platform: str, campaigns: Iterable[tuple[str, str]]
) -> tuple[str, ...]:
    """The tags of the project's campaigns (`campaigns`: (utm_campaign, platform) pairs) that a
    first touch ties the visitor to. The precedence, written here and nowhere else:

    1. a `utm_campaign` equal to a campaign's tag (any case; with or without utm_medium): that
       campaign alone, whatever click id came with it (the founder's own tag names the campaign);
    2. otherwise a platform click id (CLICK_IDS) whose platform is that of campaigns of the
       project (CAMPAIGN_PLATFORM_OF_CLICK): every such campaign (several when the project runs
       more than one on that platform: the visitor is paid, but which campaign is not known);
    3. otherwise none: the visitor is no campaign's, and the UTM tags and referrer decide the
       channel (`channel_of`).
    """
    pairs = list(campaigns)
    tag = _tag(utm_campaign)
    if tag:
        named = tuple(t for t, _ in pairs if _tag(t) == tag)
        if named:
            return named[:1]
    bought_on = CAMPAIGN_PLATFORM_OF_CLICK.get(click_platform)
    if bought_on is None:
        return ()
    return tuple(t for t, platform in pairs if platform == bought_on)


def campaign_of(*, utm_campaign: str, click_platform: str, campaigns: Iterable[tuple[str, str]]) -> str | None:
    """The tag of the one campaign a first touch is credited to, or None: none claims it, or
    several could (a click id of a platform the project runs several campaigns on)."""
    claiming = campaigns_claiming(utm_campaign=utm_campaign, click_platform=click_platform, campaigns=campaigns)
    return claiming[0] if len(claiming) == 1 else None


# --- The channel -------------------------------------------------------------------------------


def channel_of(
    *,
    utm_source: str,
    utm_medium: str,
    referrer_host: str,
    own_host: str = "",
    utm_campaign: str = "",
    click_platform: str = "",
    campaigns: Iterable[tuple[str, str]] = (),
) -> str:
    """The acquisition channel: paid when the first touch ties the visitor to one of the
    project's campaigns (`campaigns_claiming`: its tag, or a click id of its platform); otherwise
    from the UTM tags (they are what the founder controls) and the referrer, by the rules of GA4's
    default channel grouping, simplified (https://support.google.com/analytics/answer/9756891)."""
    if campaigns_claiming(utm_campaign=utm_campaign, click_platform=click_platform, campaigns=campaigns):
        return PAID
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
    if not host or host == _hostname(own_host):
        return DIRECT
    if any(marker in host for marker in SEARCH_HOSTS):
        return SEARCH
    if any(host == marker.rstrip(".") or marker in host for marker in SOCIAL_HOSTS):
        return SOCIAL
    if any(host.startswith(marker) for marker in EMAIL_HOSTS):
        return EMAIL
    return REFERRAL


# --- The first touch ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FirstTouch:
    """What brought a visitor: the UTM tags, the referrer (its address) and the click id of the
    page view that began their visit. Every signup keeps it, whatever form it came through."""

    utm: tuple[str, str, str, str, str] = ("", "", "", "", "")
    referrer: str = ""
    click_platform: str = ""
    click_id: str = ""

    def tag(self, name: str) -> str:
        return self.utm[UTM_FIELDS.index(name)]

    def utm_fields(self) -> dict[str, str]:
        return dict(zip(UTM_FIELDS, self.utm, strict=True))

    def channel(self, *, own_host: str, campaigns: Iterable[tuple[str, str]]) -> str:
        return channel_of(
            utm_source=self.tag("utm_source"),
            utm_medium=self.tag("utm_medium"),
            referrer_host=referrer_host(self.referrer),
            own_host=own_host,
            utm_campaign=self.tag("utm_campaign"),
            click_platform=self.click_platform,
            campaigns=campaigns,
        )

    def says_anything(self, *, own_host: str) -> bool:
        """A tag, a click id or another site's referrer: something worth keeping as the visit's
        first touch (a view from the page's own site, or with nothing at all, is not)."""
        host = referrer_host(self.referrer).lower()
        return any(self.utm) or bool(self.click_id) or bool(host and host != _hostname(own_host))


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
