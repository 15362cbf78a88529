"""Every threshold a verdict depends on, in one place, each with its source.

Two families: the minimum-data gates and significance levels of A/B experiments (module constants read by
:mod:`projects.analysis.experiments`), and the table :data:`THRESHOLDS` of the demand score and test card, where
each default carries its source and the reason for the number; the verdict cites the keys it used. Where no
published benchmark exists for exactly the quantity (e.g. a waitlist signup from organic social), the entry says so
and names the benchmark it was anchored on. Where both families state the same rule (days of traffic, signups per
arm), the table reads the experiment constant: one number, one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "BOT_SHARE_LIMIT",
    "BUSINESS_MODELS",
    "CHANNELS",
    "COMPONENTS",
    "LABELS",
    "MIN_CONVERSIONS_PER_VARIANT",
    "MIN_DAYS",
    "MIN_VISITORS_PER_VARIANT",
    "OVERRIDABLE",
    "SEQUENTIAL_ALPHA",
    "SRM_ALPHA",
    "THRESHOLDS",
    "VERDICTS",
    "Threshold",
    "value_of",
]

# --- A/B experiments -----------------------------------------------------------------------------------------------

# Minimum-data gates. The normal approximations behind the z-test, the Wilson interval and the mixture SPRT are poor
# with fewer than ~25 successes per arm, and a week covers the weekday/weekend cycle of landing-page traffic. The
# demand score reads MIN_DAYS and MIN_CONVERSIONS_PER_VARIANT (THRESHOLDS "min_days", "min_signups"); its visitor
# gate ("min_visitors") is a different rule: cold visitors of a whole page, not visitors per arm.
MIN_VISITORS_PER_VARIANT = 100
MIN_CONVERSIONS_PER_VARIANT = 25
MIN_DAYS = 7

# A sample-ratio mismatch is a bug in the traffic split, not a statistical fluke; the conventional threshold
# (Fabijan et al., "Diagnosing Sample Ratio Mismatch", KDD 2019, https://doi.org/10.1145/3292500.3330722) is kept
# strict because a false alarm blocks the verdict.
SRM_ALPHA = 0.001

# Significance level of the sequential decision (always-valid p-values, Holm-adjusted across variants).
SEQUENTIAL_ALPHA = 0.05


# --- The one table of defaults (demand score and test card) --------------------------------------------------------


@dataclass(frozen=True)
class Threshold:
    value: float
    source: str  # the publication (and URL) the number comes from, or "product decision (issue)"
    why: str  # how the number follows from the source, in one or two sentences


_UNBOUNCE = (
    "Unbounce Conversion Benchmark Report 2024 (41,000 landing pages, 464 M visitors, Jul 2023-Jul 2024): median "
    "landing-page conversion 6.6 % across industries; https://unbounce.com/conversion-benchmark-report/"
)
_LOCALIQ_SEARCH = (
    "LocaliQ / WordStream Search Advertising Benchmarks 2024 (17,000+ US Google/Microsoft Ads campaigns, "
    "Apr 2023-Mar 2024): average conversion rate 6.96 %, CPC $4.66, cost per lead $66.69; "
    "https://www.wordstream.com/blog/ws/2016/02/29/google-adwords-industry-benchmarks"
)
_SKOK = (
    'David Skok, "SaaS Metrics 2.0 - A Guide to Measuring and Improving What Matters", For Entrepreneurs; '
    "https://www.forentrepreneurs.com/saas-metrics-2/"
)
_ISSUE = "product decision (MVP Validator issue: demand score and verdict)"

THRESHOLDS: MappingProxyType[str, Threshold] = MappingProxyType(
    {
        # Signup bars: visitor -> email signup on a one-field waitlist form, per acquisition channel. One bar per
        # channel, not per business model: the signup is free, so the price does not move it - price enters
        # through purchase intent and unit economics instead.
        "signup_bar.paid_search": Threshold(
            0.05,
            _LOCALIQ_SEARCH,
            "Searchers typed the problem, the highest-intent cold channel. 5 % sits below the 6.96 % average of "
            "established advertisers (brand, reviews, a product to show) and the 6.6 % Unbounce median: a new, "
            "unknown idea that clears 5 % with paid search is pulling like a real product.",
        ),
        "signup_bar.paid_social": Threshold(
            0.03,
            _UNBOUNCE + "; " + _LOCALIQ_SEARCH,
            "House default anchored on the two benchmarks: feed ads interrupt people who were not looking, so a "
            "click carries less intent than a search; about 60 % of the paid-search bar.",
        ),
        "signup_bar.social": Threshold(
            0.02,
            _UNBOUNCE,
            "House default: organic posts reach the broadest, least qualified audience; 40 % of the paid-search bar.",
        ),
        "signup_bar.email": Threshold(
            0.08,
            _UNBOUNCE,
            "House default for a *third-party* list (sponsored newsletter): readers chose the publication's topic, "
            "so higher than the 6.6 % median. The founder's own list is warm traffic and never validates.",
        ),
        "signup_bar.referral": Threshold(
            0.06,
            _UNBOUNCE,
            "House default near the 6.6 % median: a link from another site (forum, directory) carries a "
            "recommendation's context but no personal tie to the founder.",
        ),
        "signup_bar.search": Threshold(
            0.04,
            _UNBOUNCE + "; " + _LOCALIQ_SEARCH,
            "House default: organic searchers have paid-search intent but land from broader, informational "
            "queries a new page ranks for; 80 % of the paid-search bar.",
        ),
        "signup_bar.direct": Threshold(
            0.04,
            _UNBOUNCE,
            "House default: typed-in or untagged visits (often dark social); same as organic search.",
        ),
        # Business model -> gross margin (share of the price left after the cost of delivering it).
        "gross_margin.saas": Threshold(
            0.80,
            "KeyBanc Capital Markets / Sapphire Ventures Private SaaS Company Survey (median subscription gross "
            "margin ~77-80 % in recent editions); Benchmarkit 2025 SaaS Performance Metrics (median software gross "
            "margin 80 %)",
            "Hosting, support and payment fees are the only delivery costs of software.",
        ),
        "gross_margin.service": Threshold(
            0.50,
            "Damodaran, Margins by Sector (US), https://pages.stern.nyu.edu/~adamodar/New_Home_Page/datafile/margin.html",
            "Labour is the cost of delivery; services sectors sit far below software there, and 50 % is the usual "
            "target of agencies and consultancies.",
        ),
        "gross_margin.product": Threshold(
            0.40,
            "Damodaran, Margins by Sector (US), https://pages.stern.nyu.edu/~adamodar/New_Home_Page/datafile/margin.html",
            "Physical goods carry manufacturing, shipping and returns; retail and consumer-product sectors have "
            "gross margins in the 30-50 % range. 40 % is the middle.",
        ),
        "gross_margin.course": Threshold(
            0.85,
            _SKOK,
            "Digital delivery like software: platform and payment fees (~10-15 %) are the cost of delivery.",
        ),
        # Lifetime in payments of `price`: months for a subscription, purchases for one-off models.
        "ltv_periods.saas": Threshold(
            20.0,
            "Recurly Research, churn benchmarks (B2B subscription average ~3.5-5 % monthly; SMB-focused SaaS "
            "commonly 3-7 %), https://recurly.com/research/churn-rate-benchmarks/; lifetime = 1 / churn per " + _SKOK,
            "5 % monthly churn, the middle of the SMB range a new self-serve product starts in, gives a lifetime "
            "of 1 / 0.05 = 20 months.",
        ),
        "ltv_periods.service": Threshold(
            1.0,
            _ISSUE,
            "One paid engagement: repeat business cannot be assumed before the first sale, so the LTV is "
            "conservative (the founder may override before launch).",
        ),
        "ltv_periods.product": Threshold(1.0, _ISSUE, "One purchase, for the same reason as services."),
        "ltv_periods.course": Threshold(1.0, _ISSUE, "One purchase: a course is bought once."),
        "ltv_cac_ratio": Threshold(
            3.0,
            _SKOK,
            "LTV should be at least 3 x CAC: the margin left after acquisition must also pay for product, "
            "overheads and the cash tied up until CAC is recovered.",
        ),
        "signup_to_customer": Threshold(
            0.05,
            "OpenView Partners, SaaS/Product Benchmarks 2022: median freemium free-to-paid conversion 2-5 %",
            "A waitlist signup is a free, email-only commitment like a freemium account; 5 % is the top of the "
            "median range, i.e. generous to the founder, so an economics failure is robust to this assumption.",
        ),
        "intent_bar": Threshold(
            0.03,
            "OpenView Partners, SaaS/Product Benchmarks 2022: median freemium free-to-paid conversion 2-5 %",
            "Share of signups who pre-order. Inside the 2-5 % free-to-paid range, below the 5 % used for economics: "
            "paying for something that does not exist yet is a bigger step than upgrading after using it.",
        ),
        "quality_bar": Threshold(
            0.60,
            "Double opt-in drop-off of 20-40 % is the figure email practitioners report (e.g. Mailchimp, "
            "http://blog.mailchimp.com/double-opt-in-vs-single-opt-in-stats/, on why confirmed lists engage more)",
            "At least 60 % of signups confirm their address or answer the qualifying question: the bottom of the "
            "60-80 % normal range. Below it, signups are typos, throwaways or bots.",
        ),
        "organic_bar": Threshold(
            0.05,
            "LaunchSuite, waitlist metrics (referred share of signups: below 5 % people are not sharing, 5-15 % "
            "healthy), https://launchsuite.co/blog/waitlist-analytics",
            "Referred share of all human visitors: 1 in 20 arriving by word of mouth is the first sign people pass "
            "the idea on unprompted. Weight 5: a supporting signal only.",
        ),
        # Gates.
        "min_days": Threshold(
            float(MIN_DAYS),
            "projects.analysis.thresholds.MIN_DAYS (same rule as A/B experiments)",
            "A full week covers the weekday/weekend cycle of landing-page traffic.",
        ),
        "min_visitors": Threshold(
            300.0,
            _ISSUE,
            "With 300 cold visitors the posterior standard deviation of a 5-10 % rate is 1.3-1.7 points, so "
            "P(rate > bar) moves clearly away from 0.5 once the rate is ~3 points off the bar.",
        ),
        "min_signups": Threshold(
            float(MIN_CONVERSIONS_PER_VARIANT),
            "projects.analysis.thresholds.MIN_CONVERSIONS_PER_VARIANT (same rule as A/B experiments)",
            "Intent and quality are shares *of signups*: with fewer than ~25 the shares are too coarse to compare "
            "with a bar (1 pre-order moves the share by 4 points).",
        ),
        "max_bot_share": Threshold(
            0.30,
            "Imperva Bad Bot Report 2023: bad bots were 30.2 % of all internet traffic in 2022 (32 % in 2023 per "
            "the 2024 report); https://www.imperva.com/resources/resource-library/reports/2023-imperva-bad-bot-report/",
            "A page whose identified bot share exceeds the internet-wide bad-bot background is receiving click "
            "fraud or scraping aimed at it; its visitor counts cannot be trusted.",
        ),
        "min_bot_share_views": Threshold(
            100.0,
            "Margin of error of a proportion, z x sqrt(p(1 - p) / n) (NIST/SEMATECH e-Handbook of Statistical "
            "Methods, 7.2.4, https://www.itl.nist.gov/div898/handbook/prc/section2/prc24.htm)",
            "The bot-share gate judges a share only from 100 views (people and known bots) on. At 100 views the 95 % "
            "margin of a share near the 30 % limit is +/-9 points (1.96 x sqrt(0.3 x 0.7 / 100)), and 44 bot views "
            "of 100 are clearly over it (Wilson 35-54 %). On day 0, 11 bot views of 25 are also 44 %, but their "
            "interval is 27-63 %, which holds the limit, and each view moves the share by 4 points. The same count "
            "as the experiments' minimum of visitors per variant (MIN_VISITORS_PER_VARIANT).",
        ),
        # Verdict rules.
        "validated_score": Threshold(70.0, _ISSUE, "Score at or above which the page may be called validated."),
        "not_validated_score": Threshold(35.0, _ISSUE, "Score below which demand is called absent."),
        "validated_pull": Threshold(
            0.80,
            _ISSUE,
            "Validated needs an 80 % posterior probability that the signup rate clears its bar: the core claim of "
            "the hypothesis must be more likely than not by a wide margin, not carried by the other components.",
        ),
        "validated_economics": Threshold(
            0.80,
            _ISSUE,
            "With ad spend, validated also needs 80 % probability that acquisition pays for itself: demand that "
            "costs more than the price carries is not a business.",
        ),
        "validated_intent": Threshold(
            0.50,
            _ISSUE,
            "When pre-orders are offered, the pre-order share must at least as likely be above its bar as below.",
        ),
        "futility_pull": Threshold(
            0.10,
            "Bayesian futility stopping, e.g. Berry, Carlin, Lee, Mueller, Bayesian Adaptive Methods for Clinical "
            "Trials (CRC 2010), ch. 4: stop when the posterior probability of success falls below ~10 %",
            "P(signup rate > bar) <= 0.1: more traffic is very unlikely to lift the rate over the bar, so the "
            "founder should change the offer rather than buy more clicks.",
        ),
        # Component weights (points of the 0-100 score when every component has data).
        "weight.signup_pull": Threshold(35.0, _ISSUE, "The hypothesis itself: do cold visitors want it?"),
        "weight.purchase_intent": Threshold(25.0, _ISSUE, "Willingness to pay, the strongest evidence a page gets."),
        "weight.unit_economics": Threshold(25.0, _ISSUE, "Can the price carry the cost of acquiring customers?"),
        "weight.signup_quality": Threshold(10.0, _ISSUE, "Real, reachable people rather than throwaway addresses."),
        "weight.organic_pull": Threshold(5.0, _ISSUE, "Word of mouth; a supporting signal only."),
    }
)

CHANNELS: MappingProxyType[str, str] = MappingProxyType(
    {
        "paid_search": "paid search",
        "paid_social": "paid social",
        "social": "social",
        "email": "email",
        "referral": "referral",
        "search": "organic search",
        "direct": "direct",
    }
)
BUSINESS_MODELS: tuple[str, ...] = ("saas", "service", "product", "course")
COMPONENTS: tuple[str, ...] = ("signup_pull", "purchase_intent", "unit_economics", "signup_quality", "organic_pull")
VERDICTS: tuple[str, ...] = ("validated", "inconclusive", "not validated", "not enough data", "unhealthy")

# How a component is named in a reason.
LABELS: MappingProxyType[str, str] = MappingProxyType(
    {
        "signup_pull": "signup pull",
        "purchase_intent": "purchase intent",
        "unit_economics": "unit economics",
        "signup_quality": "signup quality",
        "organic_pull": "organic pull",
    }
)

# What a founder may override before launch, and the allowed range (low, high, low inclusive, high inclusive). Gates
# and verdict rules are not overridable: they protect the statistics, not the business assumptions.
OVERRIDABLE: MappingProxyType[str, tuple[float, float, bool, bool]] = MappingProxyType(
    {
        "signup_bar": (0.0, 1.0, False, False),
        "intent_bar": (0.0, 1.0, False, False),
        "quality_bar": (0.0, 1.0, False, False),
        "organic_bar": (0.0, 1.0, False, False),
        "gross_margin": (0.0, 1.0, False, True),
        "ltv_periods": (0.0, 120.0, False, True),
        "ltv_cac_ratio": (1.0, 10.0, True, True),
        "signup_to_customer": (0.0, 1.0, False, True),
    }
)


def value_of(key: str) -> float:
    """The value of the :data:`THRESHOLDS` entry ``key``."""
    return THRESHOLDS[key].value


# The most bot traffic a page may have before its counts are distrusted (the demand verdict's "unhealthy" rule, and
# the same limit for the results of an experiment).
BOT_SHARE_LIMIT = value_of("max_bot_share")
