"""Channel attribution: UTM tags first, then the referrer; the channel names are the model's."""

import pytest

from projects.analysis import channels
from projects.models import Channel


@pytest.mark.parametrize(
    ("source", "medium", "referrer", "channel"),
    [
        ("google", "cpc", "", "paid"),
        ("meta", "paid_social", "", "paid"),
        ("newsletter", "email", "", "email"),
        ("twitter", "social", "", "social"),
        ("partner", "", "", "referral"),
        ("", "", "www.google.com", "search"),
        ("", "", "news.ycombinator.com", "social"),
        ("", "", "t.co", "social"),
        ("", "", "blog.example.org", "referral"),
        ("", "", "testserver", "direct"),
        ("", "", "", "direct"),
    ],
)
def test_channels_from_utm_tags_then_the_referrer(source, medium, referrer, channel):
    assert (
        channels.channel_of(utm_source=source, utm_medium=medium, referrer_host=referrer, own_host="testserver")
        == channel
    )


def test_the_pure_channel_names_are_the_models():
    assert set(Channel.values) == channels.CHANNELS
