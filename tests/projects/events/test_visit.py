"""The visitor rules of a visit: known bots by their user agent."""

import pytest

from projects.events import visit
from tests.projects.experiments.helpers import BROWSER


@pytest.mark.parametrize(
    ("user_agent", "bot"),
    [
        (BROWSER, False),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", False),
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", True),
        ("facebookexternalhit/1.1", True),
        ("curl/8.5.0", True),
        ("python-requests/2.32", True),
        ("Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/120.0", True),
        ("", True),
    ],
)
def test_known_bots_by_user_agent(user_agent, bot):
    assert visit.is_bot(user_agent) is bot
