"""Which campaign a first touch belongs to, and the channel it makes: each signal, and the
precedence between them (`projects.analysis.channels.campaigns_claiming`)."""

import pytest

from projects.analysis import channels
from projects.models import CampaignPlatform

GOOGLE = ("search", "google")
META = ("reels", "meta")
OTHER = ("bing-and-tiktok", "other")
LINKEDIN = ("b2b", "linkedin")
REDDIT = ("subs", "reddit")
ALL = (GOOGLE, META, OTHER, LINKEDIN, REDDIT)


@pytest.mark.parametrize(
    ("param", "platform", "campaign"),
    [
        ("gclid", "google", "search"),
        ("gbraid", "google", "search"),
        ("wbraid", "google", "search"),
        ("fbclid", "meta", "reels"),
        ("msclkid", "microsoft", "bing-and-tiktok"),
        ("li_fat_id", "linkedin", "b2b"),
        ("rdt_cid", "reddit", "subs"),
        ("ttclid", "tiktok", "bing-and-tiktok"),
    ],
)
def test_each_click_id_names_its_platform_and_ties_the_visitor_to_its_campaign(param, platform, campaign):
    assert channels.click_id_of({param: "x1", "utm_source": "ignored"}) == (platform, "x1")
    assert channels.campaign_of(utm_campaign="", click_platform=platform, campaigns=ALL) == campaign
    touch = channels.FirstTouch(click_platform=platform, click_id="x1")
    assert touch.channel(own_host="testserver", campaigns=ALL) == channels.PAID
    # Without a campaign on that platform, the click id alone makes no paid visitor.
    others = [c for c in ALL if c[0] != campaign]
    assert touch.channel(own_host="testserver", campaigns=others) == channels.DIRECT


def test_an_empty_click_id_is_none_and_the_first_in_the_list_wins():
    assert channels.click_id_of({"gclid": "", "fbclid": ""}) == ("", "")
    assert channels.click_id_of({"fbclid": "f", "gclid": "g"}) == ("google", "g")


def test_every_click_platform_maps_to_a_campaign_platform_choice():
    assert set(channels.CAMPAIGN_PLATFORM_OF_CLICK) == channels.CLICK_PLATFORMS
    assert set(channels.CAMPAIGN_PLATFORM_OF_CLICK.values()) <= set(CampaignPlatform.values)
    assert channels.click_platforms_of("other") == {"microsoft", "tiktok"}
    assert channels.click_platforms_of("google") == {"google"}


def test_the_campaigns_tag_ties_without_a_medium_in_any_case():
    assert channels.campaign_of(utm_campaign="Reels", click_platform="", campaigns=ALL) == "reels"
    touch = channels.FirstTouch(utm=("", "", "REELS", "", ""))
    assert touch.channel(own_host="", campaigns=ALL) == channels.PAID
    # A medium that says otherwise does not un-pay the founder's own campaign tag.
    assert (
        channels.channel_of(
            utm_source="newsletter", utm_medium="email", referrer_host="", utm_campaign="reels", campaigns=ALL
        )
        == channels.PAID
    )


def test_the_tag_comes_before_a_click_id_of_another_platform():
    assert channels.campaigns_claiming(utm_campaign="reels", click_platform="google", campaigns=ALL) == ("reels",)


def test_an_unknown_tag_falls_back_to_the_click_id_then_to_the_tags_and_referrer():
    assert channels.campaign_of(utm_campaign="spring", click_platform="google", campaigns=ALL) == "search"
    assert channels.campaign_of(utm_campaign="spring", click_platform="", campaigns=ALL) is None
    referral = channels.channel_of(
        utm_source="partner", utm_medium="", referrer_host="", utm_campaign="spring", campaigns=ALL
    )
    assert referral == channels.REFERRAL


def test_a_click_id_several_campaigns_could_claim_is_paid_but_credited_to_none():
    two = (GOOGLE, ("brand", "google"))
    assert channels.campaigns_claiming(utm_campaign="", click_platform="google", campaigns=two) == ("search", "brand")
    assert channels.campaign_of(utm_campaign="", click_platform="google", campaigns=two) is None
    assert (
        channels.channel_of(
            utm_source="", utm_medium="", referrer_host="www.google.com", click_platform="google", campaigns=two
        )
        == channels.PAID
    )
    # Its tag still names one of them.
    assert channels.campaign_of(utm_campaign="brand", click_platform="google", campaigns=two) == "brand"


def test_without_campaigns_the_channel_is_what_it_was():
    assert channels.channel_of(utm_source="", utm_medium="", referrer_host="www.google.com") == channels.SEARCH
    assert (
        channels.channel_of(utm_source="", utm_medium="", referrer_host="www.google.com", click_platform="google")
        == channels.SEARCH
    )


@pytest.mark.parametrize(
    ("touch", "says"),
    [
        (channels.FirstTouch(), False),
        (channels.FirstTouch(referrer="http://testserver/p/x/preorder"), False),  # the page's own site
        (channels.FirstTouch(referrer="https://news.example.com/"), True),
        (channels.FirstTouch(utm=("", "", "", "hero", "")), True),
        (channels.FirstTouch(click_platform="meta", click_id="f"), True),
    ],
)
def test_what_is_worth_keeping_as_a_first_touch(touch, says):
    assert touch.says_anything(own_host="testserver") is says


def test_the_pages_own_site_on_another_port_is_not_a_referrer():
    own = "127.0.0.1:8123"
    assert channels.channel_of(utm_source="", utm_medium="", referrer_host="127.0.0.1", own_host=own) == "direct"
    back = channels.FirstTouch(referrer="http://127.0.0.1:8123/p/x/preorder")
    assert not back.says_anything(own_host=own)
    assert channels.FirstTouch(referrer="http://example.org/").says_anything(own_host=own)
