"""Who visits a demo page (`projects.demo_traffic`): real browsers' user agents with their device
classes, known bots, the organic sources and channel mix, the paid touches per ad platform and
their costs per click, and the names signups use. Data only; demo data and tests only."""

from decimal import Decimal

from projects.models import (
    Device,
)

# --- Who visits -------------------------------------------------------------------------------

# Real browsers' user agents, each with the device class it is (Event.device).
BROWSERS: tuple[tuple[str, str, int], ...] = (
    # (user agent, device, weight)
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Mobile/15E148 Safari/604.1",
        Device.PHONE,
        26,
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
        "Mobile Safari/537.36",
        Device.PHONE,
        18,
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
        "Mobile/15E148 Safari/604.1",
        Device.TABLET,
        6,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Safari/605.1.15",
        Device.DESKTOP,
        20,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
        "Safari/537.36",
        Device.DESKTOP,
        24,
    ),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", Device.DESKTOP, 6),
)
# A few known bots (the public page counts them apart: `events.visit.is_bot`). They keep no
# cookie, so each fetch is a new visitor, and they run no script (no beacon).
BOTS: tuple[tuple[str, str], ...] = (
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", ""),
    ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", ""),
    ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "https://www.facebook.com/"),
    ("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", ""),
    ("python-requests/2.32.3", ""),
)
FOUNDER_BROWSER = BROWSERS[3]

# Organic first touches: (referrer, utm tags) by channel, as the page's address and Referer say.
ORGANIC: dict[str, tuple[tuple[str, dict[str, str]], ...]] = {
    "search": (
        ("https://www.google.com/", {}),
        ("https://www.google.co.uk/", {}),
        ("https://www.bing.com/", {}),
        ("https://duckduckgo.com/", {}),
    ),
    "social": (
        ("https://news.ycombinator.com/", {}),
        ("https://www.reddit.com/r/freelance/", {}),
        ("https://t.co/", {}),
        ("https://www.linkedin.com/", {}),
    ),
    "referral": (
        ("https://www.indiehackers.com/post/late-invoices", {}),
        ("https://www.producthunt.com/", {}),
        ("", {"utm_source": "freelancers-union", "utm_medium": "partner"}),
    ),
    "email": (("", {"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "launch-note"}),),
    "direct": (("", {}),),
}
# The share of a day's people by the channel they came by (paid: when campaigns run that day).
CHANNEL_MIX: dict[str, float] = {
    "paid": 40,
    "search": 18,
    "social": 13,
    "direct": 16,
    "referral": 7,
    "email": 6,
}
# How likely each channel's people are to act, against the rates below (warm traffic acts more).
CHANNEL_INTENT: dict[str, float] = {
    "paid": 0.9,
    "search": 1.1,
    "social": 0.7,
    "direct": 1.0,
    "referral": 1.3,
    "email": 1.8,
}

# What a paid click's address carries, by campaign platform: its tags and its click id parameter.
PAID_TOUCH: dict[str, tuple[str, str, str, str]] = {
    # platform: (utm_source, utm_medium, click id parameter, referrer)
    "google": ("google", "cpc", "gclid", "https://www.google.com/"),
    "meta": ("facebook", "paid_social", "fbclid", "https://m.facebook.com/"),
    "reddit": ("reddit", "cpc", "rdt_cid", "https://www.reddit.com/"),
    "linkedin": ("linkedin", "paid_social", "li_fat_id", "https://www.linkedin.com/"),
    "other": ("bing", "cpc", "msclkid", "https://www.bing.com/"),
}
PAID_TERMS = ("invoice reminders", "late payment freelancer", "chase unpaid invoices", "")
PAID_CONTENT = ("ad-a", "ad-b", "carousel", "")
# Cost per click of each platform (a base the day's noise moves): search costs more than feeds.
PLATFORM_CPC: dict[str, Decimal] = {
    "google": Decimal("2.40"),
    "meta": Decimal("1.10"),
    "reddit": Decimal("0.90"),
    "linkedin": Decimal("5.20"),
    "other": Decimal("1.60"),
}

FIRST_NAMES = ("ana", "ben", "chloe", "dev", "emma", "farid", "grace", "hugo", "ines", "jonas", "kira", "liam")
