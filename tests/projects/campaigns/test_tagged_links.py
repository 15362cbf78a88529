"""The tagged link a campaign's ads point at (`projects.analysis.tagged_links`): every platform's
tags, the encoding, an address that already has a query string, and the click id notes."""

from urllib.parse import parse_qsl, urlsplit

import pytest

from projects.analysis.channels import CLICK_IDS, PAID, PAID_MEDIUMS, channel_of, click_id_of
from projects.analysis.tagged_links import PLATFORM_TAGS, click_ids_of, click_note, tagged_link
from projects.models import CampaignPlatform

PAGE = "https://mvp.example/p/chaser/"


def test_every_platform_of_the_model_has_tags_and_every_medium_is_paid():
    assert set(PLATFORM_TAGS) == set(CampaignPlatform.values)
    for source, medium in PLATFORM_TAGS.values():
        assert medium in PAID_MEDIUMS
        # Even a visitor whose campaign tag the project no longer knows counts as paid.
        assert channel_of(utm_source=source, utm_medium=medium, referrer_host="") == PAID


@pytest.mark.parametrize("platform", sorted(PLATFORM_TAGS))
def test_each_platform_tags_the_link_with_its_source_medium_and_the_campaign(platform):
    link = tagged_link(PAGE, platform=platform, utm_campaign="autumn-sale")
    parts = urlsplit(link.url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "mvp.example", "/p/chaser/")
    source, medium = PLATFORM_TAGS[platform]
    assert parse_qsl(parts.query) == [("utm_source", source), ("utm_medium", medium), ("utm_campaign", "autumn-sale")]
    assert link.tags == (("utm_source", source), ("utm_medium", medium), ("utm_campaign", "autumn-sale"))


def test_the_exact_google_link():
    link = tagged_link(PAGE, platform="google", utm_campaign="autumn", utm_content="Ad 1")
    assert (
        link.url
        == "https://mvp.example/p/chaser/?utm_source=google&utm_medium=cpc&utm_campaign=autumn&utm_content=Ad%201"
    )
    assert link.click_ids == ("gclid", "gbraid", "wbraid")
    assert link.note == "Google Ads adds gclid (or gbraid, wbraid) to the link by itself with auto-tagging: keep it on."


def test_the_ads_name_is_percent_encoded_and_decodes_back():
    name = "Spring & summer / 50% off? ünïcode#1"
    link = tagged_link(PAGE, platform="meta", utm_campaign="spring", utm_content=name)
    query = urlsplit(link.url).query
    assert "&summer" not in query and "#" not in link.url and " " not in link.url and "+" not in query
    assert dict(parse_qsl(query))["utm_content"] == name


def test_whitespace_in_the_ads_name_is_collapsed_and_an_empty_name_leaves_no_tag():
    link = tagged_link(PAGE, platform="reddit", utm_campaign="x", utm_content="  a \n b ")
    assert dict(parse_qsl(urlsplit(link.url).query))["utm_content"] == "a b"
    assert "utm_content" not in tagged_link(PAGE, platform="reddit", utm_campaign="x", utm_content="   ").url


def test_an_existing_query_string_and_fragment_are_kept_and_old_utm_tags_replaced():
    url = "https://mvp.example/p/chaser/?ref=hn&utm_source=newsletter&utm_term=x&lang=en#pricing"
    link = tagged_link(url, platform="linkedin", utm_campaign="b2b")
    parts = urlsplit(link.url)
    assert parts.fragment == "pricing"
    assert parse_qsl(parts.query) == [
        ("ref", "hn"),
        ("lang", "en"),
        ("utm_source", "linkedin"),
        ("utm_medium", "paid_social"),
        ("utm_campaign", "b2b"),
    ]


def test_an_address_without_a_path_gets_one():
    assert tagged_link("http://mvp.example", platform="other", utm_campaign="x").url.startswith("http://mvp.example/?")


@pytest.mark.parametrize(
    ("url", "platform", "tag"),
    [
        ("ftp://mvp.example/p/x/", "google", "x"),
        ("/p/x/", "google", "x"),
        (PAGE, "tiktok", "x"),
        (PAGE, "google", "  "),
    ],
)
def test_what_cannot_make_a_link_is_refused(url, platform, tag):
    with pytest.raises(ValueError):
        tagged_link(url, platform=platform, utm_campaign=tag)


def test_the_click_ids_named_are_those_the_visit_reads_for_the_platform():
    named = {name for platform in PLATFORM_TAGS for name, _ in click_ids_of(platform)}
    assert named == {name for name, _ in CLICK_IDS}  # every click id belongs to one platform's note
    for platform in PLATFORM_TAGS:
        for name, click in click_ids_of(platform):
            assert click_id_of({name: "abc"})[0] == click
            assert name in click_note(platform)


def test_the_notes_name_the_platform_that_adds_the_click_id():
    assert click_note("meta") == "Meta Ads adds fbclid to the link by itself with auto-tagging: keep it on."
    assert "Microsoft Advertising adds msclkid" in click_note("other") and "TikTok Ads adds ttclid" in click_note(
        "other"
    )
    assert "rdt_cid" in click_note("reddit") and "li_fat_id" in click_note("linkedin")
