"""The link an ad points at: a published page's address tagged for one campaign (pure: no Django).

    https://example.com/p/chaser/?utm_source=google&utm_medium=cpc&utm_campaign=autumn&utm_content=ad-1

`utm_source` and `utm_medium` come from the campaign's platform (`PLATFORM_TAGS`: a medium
`analysis.channels.channel_of` counts as paid even where the campaign's tag is not recognised), `utm_campaign`
is the campaign's tag (what ties a visitor to it: `analysis.channels.campaigns_claiming`), `utm_content` the
ad's name when the founder gives one. The address keeps its own query string and fragment; UTM tags it
already carries are replaced, not repeated (a visitor's first touch keeps one value per tag). Values are
percent-encoded (a space is %20), so the link survives being pasted anywhere.

Each platform's click id (`analysis.channels.CLICK_IDS`) is added by the ad platform itself when its
auto-tagging is on; the link never carries one (a click id written by hand would tie every visitor to the
same click). `click_note` says which one to keep on.
"""

from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from projects.analysis.channels import CAMPAIGN_PLATFORM_OF_CLICK, CLICK_IDS, UTM_FIELDS

__all__ = ["PLATFORM_TAGS", "TaggedLink", "click_ids_of", "click_note", "tagged_link"]

# (utm_source, utm_medium) per campaign platform (`projects.models.CampaignPlatform` values). The
# sources are the names GA4's default channel grouping knows; every medium is one of
# `channels.PAID_MEDIUMS` (a test keeps it so).
PLATFORM_TAGS = {
    "google": ("google", "cpc"),
    "meta": ("facebook", "paid_social"),
    "reddit": ("reddit", "paid_social"),
    "linkedin": ("linkedin", "paid_social"),
    "other": ("ads", "paid"),
}

# Who adds the click id, in the founder's words, per ad platform named in CLICK_IDS.
_CLICK_SOURCES = {
    "google": "Google Ads",
    "meta": "Meta Ads",
    "linkedin": "LinkedIn Ads",
    "reddit": "Reddit Ads",
    "microsoft": "Microsoft Advertising",
    "tiktok": "TikTok Ads",
}
UTM_CONTENT_MAX_LENGTH = 100


@dataclass(frozen=True)
class TaggedLink:
    url: str
    tags: tuple[tuple[str, str], ...]  # the UTM tags the link carries, in order
    click_ids: tuple[str, ...]  # the click ids the platform adds by itself
    note: str


def click_ids_of(platform: str) -> tuple[tuple[str, str], ...]:
    """(click id, ad platform) pairs of CLICK_IDS that tie a visitor to a campaign on `platform`."""
    return tuple((name, click) for name, click in CLICK_IDS if CAMPAIGN_PLATFORM_OF_CLICK.get(click) == platform)


def click_note(platform: str) -> str:
    """What the founder should know about the platform's click id, one sentence per ad platform."""
    by_source: dict[str, list[str]] = {}
    for name, click in click_ids_of(platform):
        by_source.setdefault(click, []).append(name)
    if not by_source:
        return "This platform adds no click id the page knows: the UTM tags alone tie its visitors to the campaign."
    sentences = []
    for click, names in by_source.items():
        listed = names[0] if len(names) == 1 else f"{names[0]} (or {', '.join(names[1:])})"
        sentences.append(
            f"{_CLICK_SOURCES.get(click, click)} adds {listed} to the link by itself with auto-tagging: keep it on."
        )
    return " ".join(sentences)


def tagged_link(url: str, *, platform: str, utm_campaign: str, utm_content: str = "") -> TaggedLink:
    """`url` tagged for a campaign on `platform` with tag `utm_campaign` (and `utm_content`, the ad's
    name, when given). ValueError for an unknown platform, an empty tag or an address that is not
    http(s)."""
    if platform not in PLATFORM_TAGS:
        raise ValueError(f"unknown platform {platform!r}; one of {', '.join(PLATFORM_TAGS)}")
    campaign = utm_campaign.strip()
    if not campaign:
        raise ValueError("a tagged link needs the campaign's utm_campaign value")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not a web address: {url!r}")
    source, medium = PLATFORM_TAGS[platform]
    content = " ".join(utm_content.split())[:UTM_CONTENT_MAX_LENGTH]
    tags = [("utm_source", source), ("utm_medium", medium), ("utm_campaign", campaign)]
    if content:
        tags.append(("utm_content", content))
    # The address's own parameters stay, in their order; its UTM tags give way to the campaign's.
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in UTM_FIELDS]
    query = urlencode([*kept, *tags], quote_via=quote)
    tagged = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, parts.fragment))
    names = tuple(name for name, _ in click_ids_of(platform))
    return TaggedLink(url=tagged, tags=tuple(tags), click_ids=names, note=click_note(platform))
