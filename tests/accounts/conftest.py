import re

import pytest

_LINK = re.compile(r"https?://[^/\s]+(/\S+)")


def link_path(message, contains: str = "/accounts/") -> str:
    """The path of the first link of an email that goes to `contains`."""
    for path in _LINK.findall(message.body):
        if contains in path:
            return path
    raise AssertionError(f"no link to {contains} in: {message.body}")


@pytest.fixture(autouse=True)
def _generous_limits(settings):
    # Each test of a limit sets its own; the others are not about the limits.
    settings.API_THROTTLES = {**settings.API_THROTTLES, "register": {"rate": "1000/hour", "key": "ip"}}
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup": "1000/m", "login_form": "1000/m"}
