"""Demand score (0-100) and verdict of a landing page, and the test card it is judged against.

Pure standard-library Python, no Django: the caller (a service or the results API) reads the counts from the
database, builds an :class:`Inputs` and a :class:`TestCard`, and stores or renders the returned :class:`Verdict`.

The pieces, in the order a page lives through them:

1. :func:`build_test_card` - written when the page goes live, then locked by the caller once traffic arrives (the
   founder may override the business assumptions *before* launch, never after: bars moved after seeing the data
   would make every verdict a foregone conclusion). It states the hypothesis ("at least X % of cold visitors from
   <channel> will sign up for <idea> at <price>"), the metric and the numeric bars:

   * signup bar: benchmark signup rate of the channel (``signup_bar.<channel>``);
   * LTV = price x gross margin x lifetime periods (months for SaaS, purchases otherwise) - Skok's formula, LTV =
     ARPA x gross margin / churn, with lifetime = 1 / monthly churn;
   * allowable CAC = LTV / 3 (the LTV >= 3 x CAC rule);
   * allowable cost per lead = allowable CAC x signup-to-customer conversion (a signup is a lead, and only that share
     of leads ever pays);
   * break-even conversion = cost per click / allowable cost per lead: below that visitor-to-signup rate every
     signup costs more in clicks than the price can carry.

2. :func:`score` - the demand score and verdict from counts. Every probability is a Beta posterior with a uniform
   Beta(1, 1) prior (the prior of :mod:`projects.stats`) and P(rate > bar) is its survival function
   :func:`beta_sf`. Components, weights 35/25/25/10/5 renormalised over those that have data:

   * ``signup_pull`` P(cold signup rate > signup bar);
   * ``purchase_intent`` P(pre-orders / signups > intent bar) - only when the page offers a pre-order;
   * ``unit_economics`` P(cold signup rate > break-even conversion at the *observed* cost per click) - only when there
     is ad spend (the allowable cost per lead is the locked part of the card; the click price is a fact of the run);
   * ``signup_quality`` P(confirmed-or-qualified / signups > quality bar) - when confirmation is tracked;
   * ``organic_pull`` P(referred visitors / all human visitors > organic bar).

   The decision, in this order (the first rule that applies wins):

   a. ``unhealthy`` - the experiment has a sample-ratio mismatch or more than 30 % of the page's traffic is bots.
      Checked first because broken or polluted counts make every later figure, including "not enough data",
      meaningless: the founder must fix the traffic, not wait for more of it.
   b. ``not enough data`` - under 7 days or under 300 cold human visitors. No score is given (gates precede scoring:
      an early score is mostly noise and founders read it anyway); the verdict says how many visitors, signups and
      days are still needed and what the visitors cost at the current cost per click.
   c. ``not validated`` (futility stop) - P(signup rate > bar) <= 0.1. Allowed before 25 signups: a page that
      converts 0.3 % would need ~8,000 more visitors to reach 25 signups, and the 300-visitor gate already met is
      what makes the low rate trustworthy.
   d. ``not enough data`` - under 25 cold signups (the component shares are ratios *of signups*).
   e. ``validated`` - score >= 70 and signup pull >= 0.8 and unit economics >= 0.8 (when paid) and purchase intent
      >= 0.5 (when measured).
   f. ``not validated`` - score < 35.
   g. ``inconclusive`` otherwise, naming the weakest component: the one that costs the score the most points,
      renormalised weight x (1 - P).

Warm traffic (the founder's own list, referrals, friends) is reported but never counts toward the gates, the signup
pull or any rate except the referred share of organic pull: people who already know the founder sign up out of
goodwill, so 500 signups from a newsletter say nothing about cold demand.

Every default lives in :data:`THRESHOLDS` with its source and the reason for the number; the verdict cites the keys
it used. Where no published benchmark exists for exactly the quantity (e.g. a waitlist signup from organic social),
the entry says so and names the benchmark it was anchored on.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from types import MappingProxyType
from typing import Any

from projects.stats import json_ready, posterior

__all__ = [
    "BUSINESS_MODELS",
    "CHANNELS",
    "COMPONENTS",
    "OVERRIDABLE",
    "THRESHOLDS",
    "VERDICTS",
    "Component",
    "Inputs",
    "TestCard",
    "Threshold",
    "Verdict",
    "beta_sf",
    "build_test_card",
    "prob_rate_above",
    "score",
]


# --- The one table of defaults -------------------------------------------------------------------------------------


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
            7.0,
            "projects.stats.MIN_DAYS (same rule as A/B experiments)",
            "A full week covers the weekday/weekend cycle of landing-page traffic.",
        ),
        "min_visitors": Threshold(
            300.0,
            _ISSUE,
            "With 300 cold visitors the posterior standard deviation of a 5-10 % rate is 1.3-1.7 points, so "
            "P(rate > bar) moves clearly away from 0.5 once the rate is ~3 points off the bar.",
        ),
        "min_signups": Threshold(
            25.0,
            "projects.stats.MIN_CONVERSIONS_PER_VARIANT (same rule as A/B experiments)",
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

_LABELS = {
    "signup_pull": "signup pull",
    "purchase_intent": "purchase intent",
    "unit_economics": "unit economics",
    "signup_quality": "signup quality",
    "organic_pull": "organic pull",
}

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


def _t(key: str) -> float:
    return THRESHOLDS[key].value


# --- Beta survival function ----------------------------------------------------------------------------------------

_CF_EPS = 1e-15
_CF_TINY = 1e-300


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz's method).

    Numerical Recipes (Press, Teukolsky, Vetterling, Flannery, 3rd ed., section 6.4, routine ``betacf``;
    https://numerical.recipes/book.html): I_x(a, b) = x^a (1 - x)^b / (a B(a, b)) * 1 / (1 + d1 / (1 + d2 / ...)) with
    d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)) and d_{2m} = m (b - m) x / ((a + 2m - 1)(a + 2m)).
    It converges fast for x < (a + 1) / (a + b + 2), in O(sqrt(max(a, b))) iterations; callers use the symmetry
    I_x(a, b) = 1 - I_{1-x}(b, a) on the other side.
    """
    qab = a + b
    qap = a + 1.0
    qam = a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    if abs(d) < _CF_TINY:
        d = _CF_TINY
    d = 1.0 / d
    h = d
    max_iterations = 10_000 + int(20.0 * math.sqrt(max(a, b)))
    for m in range(1, max_iterations):
        m2 = 2 * m
        # Even step.
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        if abs(d) < _CF_TINY:
            d = _CF_TINY
        c = 1.0 + aa / c
        if abs(c) < _CF_TINY:
            c = _CF_TINY
        d = 1.0 / d
        h *= d * c
        # Odd step.
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        if abs(d) < _CF_TINY:
            d = _CF_TINY
        c = 1.0 + aa / c
        if abs(c) < _CF_TINY:
            c = _CF_TINY
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _CF_EPS:
            return h
    raise ArithmeticError(f"incomplete beta continued fraction did not converge for a={a}, b={b}, x={x}")


_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _stirlerr(z: float) -> float:
    """log Gamma(z) - [(z - 1/2) log z - z + log sqrt(2 pi)], the error of Stirling's formula.

    Below 15 by subtraction (every term is small, nothing cancels); above, the Stirling series
    1/(12 z) - 1/(360 z^3) + 1/(1260 z^5) - 1/(1680 z^7), whose next term is < 1e-13 there. Source: Loader (see
    :func:`_bd0`); https://en.wikipedia.org/wiki/Stirling%27s_approximation#Speed_of_convergence_and_error_estimates
    """
    if z < 15.0:
        return math.lgamma(z) - ((z - 0.5) * math.log(z) - z + _HALF_LOG_2PI)
    inv2 = 1.0 / (z * z)
    return (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0 - inv2 / 1680.0) * inv2) * inv2) / z


def _bd0(x: float, m: float) -> float:
    """x log(x / m) + m - x without cancellation when x is close to m.

    Catherine Loader, "Fast and Accurate Computation of Binomial Probabilities" (2000), the deviance term behind
    R's dbinom: for |x - m| < 0.1 (x + m) the series 2 x sum v^(2j+1) / (2j+1) - (x - m) v with v = (x - m) / (x + m).
    """
    if abs(x - m) < 0.1 * (x + m):
        v = (x - m) / (x + m)
        total = (x - m) * v
        term = 2.0 * x * v
        v2 = v * v
        for j in range(1, 1000):
            term *= v2
            updated = total + term / (2 * j + 1)
            if updated == total:
                break
            total = updated
        return total
    return x * math.log(x / m) + m - x


def _log_beta_prefactor(bar: float, a: float, b: float) -> float:
    """log[bar^a (1 - bar)^b / B(a, b)], accurate for counts in the millions.

    Written directly, a log(bar) + b log(1 - bar) - log B(a, b) subtracts numbers of size ~a log a (1e7 for a
    million visitors), losing ~1e-9 of relative precision. Expanding each lgamma with Stirling's formula makes the
    large terms cancel analytically (Loader 2000, see :func:`_bd0`):
    -bd0(a, n bar) - bd0(b, n (1 - bar)) + log sqrt(a b / n) - log sqrt(2 pi) - (stirlerr(a) + stirlerr(b) -
    stirlerr(n)) with n = a + b.
    """
    n = a + b
    return (
        -_bd0(a, n * bar)
        - _bd0(b, n * (1.0 - bar))
        + 0.5 * math.log(a * b / n)
        - _HALF_LOG_2PI
        - (_stirlerr(a) + _stirlerr(b) - _stirlerr(n))
    )


def beta_sf(bar: float, a: float, b: float) -> float:
    """P(X > bar) for X ~ Beta(a, b): the regularized incomplete beta 1 - I_bar(a, b) (scipy.stats.beta.sf).

    The prefactor x^a (1 - x)^b / B(a, b) is computed in log space (:func:`_log_beta_prefactor`) so counts in
    the millions neither overflow, underflow nor lose precision. The side whose continued fraction converges is
    evaluated directly: for bar above the bulk of the distribution the (small) upper tail itself, keeping its
    relative precision, and below it 1 - the (small) lower tail. Outside (0, 1) the answer is exact: 1 below the
    support, 0 above. (Not :func:`projects.stats.log_beta`: its lgamma difference loses ~1e-9 at a million visitors.)
    """
    if not (a > 0.0 and b > 0.0 and math.isfinite(a) and math.isfinite(b)):
        raise ValueError(f"Beta shape parameters must be positive and finite, got a={a}, b={b}")
    if math.isnan(bar):
        raise ValueError("bar must be a number, got NaN")
    if bar <= 0.0:
        return 1.0
    if bar >= 1.0:
        return 0.0
    log_prefactor = _log_beta_prefactor(bar, a, b)
    if bar < (a + 1.0) / (a + b + 2.0):
        lower = math.exp(log_prefactor) * _betacf(a, b, bar) / a
        return min(1.0, max(0.0, 1.0 - lower))
    upper = math.exp(log_prefactor) * _betacf(b, a, 1.0 - bar) / b
    return min(1.0, max(0.0, upper))


def prob_rate_above(successes: int, trials: int, bar: float) -> float:
    """Posterior P(rate > bar) after ``successes`` of ``trials``, uniform Beta(1, 1) prior (as in projects.stats)."""
    a, b = posterior(successes, trials)
    return beta_sf(bar, a, b)


# --- Test card -----------------------------------------------------------------------------------------------------


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _money(amount: float, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


@dataclass(frozen=True)
class TestCard:
    """The hypothesis and bars a page is judged against; written at launch, locked by the caller once traffic arrives.

    ``sources`` maps each assumption/bar to the :data:`THRESHOLDS` key it came from, or to ``"override"`` when the
    founder changed it before launch. ``break_even_conversion`` is None when no cost per click was expected.
    """

    __test__ = False  # not a pytest test class despite the name

    idea: str
    hypothesis: str
    metric: str
    criteria: tuple[str, ...]
    channel: str
    price: float
    currency: str
    business_model: str
    signup_bar: float
    intent_bar: float
    quality_bar: float
    organic_bar: float
    gross_margin: float
    ltv_periods: float
    ltv_cac_ratio: float
    signup_to_customer: float
    ltv: float
    allowable_cac: float
    allowable_cost_per_lead: float
    expected_cpc: float | None
    break_even_conversion: float | None
    sources: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready plain values (floats to 6 significant digits)."""
        return json_ready(asdict(self))


def _number(name: str, value: Any) -> float:
    # bool is an int subclass: True as a margin is a bug, not 1.0.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _validate_overrides(overrides: dict[str, Any]) -> dict[str, float]:
    unknown = sorted(set(overrides) - set(OVERRIDABLE))
    if unknown:
        raise ValueError(f"unknown override(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(OVERRIDABLE)}")
    clean: dict[str, float] = {}
    for key, raw in overrides.items():
        value = _number(f"override {key!r}", raw)
        low, high, low_inclusive, high_inclusive = OVERRIDABLE[key]
        above = value >= low if low_inclusive else value > low
        below = value <= high if high_inclusive else value < high
        if not (above and below):
            interval = f"{'[' if low_inclusive else '('}{low:g}, {high:g}{']' if high_inclusive else ')'}"
            raise ValueError(f"override {key!r} must be in {interval}, got {value!r}")
        clean[key] = value
    return clean


def build_test_card(
    *,
    idea: str,
    channel: str,
    price: float,
    currency: str,
    business_model: str,
    expected_cpc: float | None = None,
    overrides: dict[str, Any] | None = None,
) -> TestCard:
    """Write the test card of a page about to go live.

    ``price`` is per month for ``saas``, per purchase otherwise. ``overrides`` may replace any key of
    :data:`OVERRIDABLE`; anything else, or a value outside its range, is a ValueError naming the key.
    """
    if not isinstance(idea, str) or not idea.strip():
        raise ValueError("idea must be a non-empty string")
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; expected one of {', '.join(CHANNELS)}")
    if business_model not in BUSINESS_MODELS:
        raise ValueError(f"unknown business model {business_model!r}; expected one of {', '.join(BUSINESS_MODELS)}")
    price = _number("price", price)
    if price <= 0.0:
        raise ValueError(f"price must be > 0, got {price!r}")
    if not isinstance(currency, str) or len(currency.strip()) != 3 or not currency.strip().isalpha():
        raise ValueError(f"currency must be a 3-letter ISO 4217 code, got {currency!r}")
    currency = currency.strip().upper()
    if expected_cpc is not None:
        expected_cpc = _number("expected_cpc", expected_cpc)
        if expected_cpc <= 0.0:
            raise ValueError(f"expected_cpc must be > 0, got {expected_cpc!r}")
    chosen = _validate_overrides(dict(overrides or {}))

    defaults = {
        "signup_bar": f"signup_bar.{channel}",
        "intent_bar": "intent_bar",
        "quality_bar": "quality_bar",
        "organic_bar": "organic_bar",
        "gross_margin": f"gross_margin.{business_model}",
        "ltv_periods": f"ltv_periods.{business_model}",
        "ltv_cac_ratio": "ltv_cac_ratio",
        "signup_to_customer": "signup_to_customer",
    }
    values = {name: chosen.get(name, _t(key)) for name, key in defaults.items()}
    sources = {name: ("override" if name in chosen else key) for name, key in defaults.items()}

    # Skok: LTV = ARPA x gross margin x lifetime; allowable CAC = LTV / 3; a signup is a lead of which only
    # `signup_to_customer` pay, so a lead may cost at most that share of the allowable CAC.
    ltv = price * values["gross_margin"] * values["ltv_periods"]
    allowable_cac = ltv / values["ltv_cac_ratio"]
    allowable_cpl = allowable_cac * values["signup_to_customer"]
    break_even = expected_cpc / allowable_cpl if expected_cpc is not None else None

    per = " per month" if business_model == "saas" else ""
    price_text = _money(price, currency) + per
    channel_text = CHANNELS[channel]
    hypothesis = (
        f"At least {values['signup_bar']:.1%} of cold visitors from {channel_text} will sign up for "
        f"{idea.strip()} at {price_text}."
    )
    metric = (
        f"Signup rate = signups / human cold visitors from {channel_text} (bots, the founder and warm traffic "
        "excluded), with pre-order, confirmation and referral shares alongside."
    )
    criteria = [
        f"Signup rate above {values['signup_bar']:.1%} with probability >= {_t('validated_pull'):.0%}.",
        f"Pre-orders above {values['intent_bar']:.1%} of signups with probability >= {_t('validated_intent'):.0%} "
        "(when a pre-order is offered).",
        f"Acquisition must pay: a signup may cost at most {_money(allowable_cpl, currency)} (LTV "
        f"{_money(ltv, currency)} / {values['ltv_cac_ratio']:g} x {values['signup_to_customer']:.1%} "
        "signup-to-customer)"
        + (
            f", i.e. conversion above {break_even:.1%} at {_money(expected_cpc, currency)} per click"
            if break_even is not None and expected_cpc is not None
            else ""
        )
        + f", with probability >= {_t('validated_economics'):.0%} when paid.",
        f"Score >= {_t('validated_score'):g} to validate; below {_t('not_validated_score'):g}, or signup-rate "
        f"probability <= {_t('futility_pull'):.0%}, is not validated.",
        f"Minimum data: {_t('min_days'):g} days, {_t('min_visitors'):g} human cold visitors, "
        f"{_t('min_signups'):g} signups; bot share at most {_t('max_bot_share'):.0%}.",
    ]
    return TestCard(
        idea=idea.strip(),
        hypothesis=hypothesis,
        metric=metric,
        criteria=tuple(criteria),
        channel=channel,
        price=price,
        currency=currency,
        business_model=business_model,
        signup_bar=values["signup_bar"],
        intent_bar=values["intent_bar"],
        quality_bar=values["quality_bar"],
        organic_bar=values["organic_bar"],
        gross_margin=values["gross_margin"],
        ltv_periods=values["ltv_periods"],
        ltv_cac_ratio=values["ltv_cac_ratio"],
        signup_to_customer=values["signup_to_customer"],
        ltv=ltv,
        allowable_cac=allowable_cac,
        allowable_cost_per_lead=allowable_cpl,
        expected_cpc=expected_cpc,
        break_even_conversion=break_even,
        sources=sources,
    )


# --- Inputs and verdict --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inputs:
    """Counts of one page since launch.

    ``visitors``/``signups`` and the shares built on them are *cold* traffic only: human visitors from the card's
    channel (identified bots and the founder's own visits excluded). ``confirmed`` (confirmed address or qualifying
    answer) and ``preorders`` are subsets of those signups; None means "not measured" (no confirmation step, no
    pre-order button) and removes the component rather than scoring it 0. Warm traffic - the founder's list,
    referrals, friends - goes in ``warm_*``; ``referred_visitors`` is the part of it that came by word of mouth.
    Cost per click: ``cost_per_click`` if given, else ``spend / clicks``, else ``spend / visitors`` (a paid visitor
    is a click). ``bot_share`` is the share of the page's visits identified as bots.
    """

    days: float
    visitors: int
    signups: int
    confirmed: int | None = None
    preorders: int | None = None
    warm_visitors: int = 0
    warm_signups: int = 0
    referred_visitors: int = 0
    spend: float = 0.0
    clicks: int | None = None
    cost_per_click: float | None = None
    srm_unhealthy: bool = False
    bot_share: float = 0.0

    def __post_init__(self) -> None:
        counts = {
            "visitors": self.visitors,
            "signups": self.signups,
            "confirmed": self.confirmed,
            "preorders": self.preorders,
            "warm_visitors": self.warm_visitors,
            "warm_signups": self.warm_signups,
            "referred_visitors": self.referred_visitors,
            "clicks": self.clicks,
        }
        for name, value in counts.items():
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        for part, whole in (
            ("signups", "visitors"),
            ("confirmed", "signups"),
            ("preorders", "signups"),
            ("warm_signups", "warm_visitors"),
            ("referred_visitors", "warm_visitors"),
        ):
            if counts[part] is not None and counts[part] > counts[whole]:
                raise ValueError(f"{part} ({counts[part]}) cannot exceed {whole} ({counts[whole]})")
        if _number("days", self.days) < 0.0:
            raise ValueError(f"days must be >= 0, got {self.days!r}")
        if _number("spend", self.spend) < 0.0:
            raise ValueError(f"spend must be >= 0, got {self.spend!r}")
        if self.cost_per_click is not None and not _number("cost_per_click", self.cost_per_click) > 0.0:
            raise ValueError(f"cost_per_click must be > 0, got {self.cost_per_click!r}")
        if not 0.0 <= _number("bot_share", self.bot_share) <= 1.0:
            raise ValueError(f"bot_share must be in [0, 1], got {self.bot_share!r}")
        if not isinstance(self.srm_unhealthy, bool):
            raise ValueError(f"srm_unhealthy must be a bool, got {self.srm_unhealthy!r}")

    @property
    def paid(self) -> bool:
        return self.spend > 0.0

    @property
    def observed_cpc(self) -> float | None:
        if self.cost_per_click is not None:
            return float(self.cost_per_click)
        if self.spend > 0.0 and self.clicks:
            return self.spend / self.clicks
        if self.spend > 0.0 and self.visitors:
            return self.spend / self.visitors
        return None


@dataclass(frozen=True)
class Component:
    """One term of the score. ``probability`` is None (and ``renormalised_weight`` 0) when it has no data."""

    name: str
    probability: float | None
    weight: float
    renormalised_weight: float
    bar: float | None
    observed: float | None
    successes: int | None
    trials: int | None
    source_key: str  # the THRESHOLDS key of the bar, or "override"


@dataclass(frozen=True)
class Verdict:
    verdict: str  # one of VERDICTS
    score: float | None  # 0-100, one decimal; None while a gate holds the verdict back
    components: tuple[Component, ...]
    weakest: str | None  # for "inconclusive": the component costing the most points
    reasons: tuple[str, ...]
    visitors_needed: int | None = None  # for "not enough data"
    signups_needed: int | None = None
    days_needed: int | None = None  # None when the daily traffic is unknown
    budget_needed: float | None = None  # visitors_needed x cost per click, when a cost per click is known
    cost_per_click: float | None = None
    cost_per_signup: float | None = None
    acquisition_cost_ratio: float | None = None  # cost per signup / allowable cost per lead (paid traffic)
    warm_visitors: int = 0
    warm_signups: int = 0
    thresholds: dict[str, dict[str, Any]] | None = None  # every THRESHOLDS entry the verdict relied on

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready plain values (floats to 6 significant digits)."""
        return json_ready(asdict(self))


# --- Scoring -------------------------------------------------------------------------------------------------------


_ECONOMICS_INPUTS = ("gross_margin", "ltv_periods", "ltv_cac_ratio", "signup_to_customer")


def _components(card: TestCard, inputs: Inputs, cpc: float | None) -> tuple[Component, ...]:
    raw: list[tuple[str, int | None, int | None, float | None, str]] = []
    # (name, successes, trials, bar, source key); trials None or 0 -> no data.
    raw.append(("signup_pull", inputs.signups, inputs.visitors, card.signup_bar, card.sources["signup_bar"]))
    raw.append(
        (
            "purchase_intent",
            inputs.preorders,
            inputs.signups if inputs.preorders is not None else None,
            card.intent_bar,
            card.sources["intent_bar"],
        )
    )
    economics_bar = cpc / card.allowable_cost_per_lead if inputs.paid and cpc is not None else None
    raw.append(
        (
            "unit_economics",
            inputs.signups,
            inputs.visitors if economics_bar is not None else None,
            economics_bar,
            # The bar follows from the LTV >= 3 x CAC rule; "override" when the founder changed any input of it.
            "override" if any(card.sources[k] == "override" for k in _ECONOMICS_INPUTS) else "ltv_cac_ratio",
        )
    )
    raw.append(
        (
            "signup_quality",
            inputs.confirmed,
            inputs.signups if inputs.confirmed is not None else None,
            card.quality_bar,
            card.sources["quality_bar"],
        )
    )
    human = inputs.visitors + inputs.warm_visitors
    raw.append(("organic_pull", inputs.referred_visitors, human, card.organic_bar, card.sources["organic_bar"]))

    present_weight = math.fsum(_t(f"weight.{name}") for name, _, trials, _, _ in raw if trials)
    components = []
    for name, successes, trials, bar, source in raw:
        weight = _t(f"weight.{name}")
        if trials and successes is not None and bar is not None:
            probability = prob_rate_above(successes, trials, bar)
            components.append(
                Component(
                    name,
                    probability,
                    weight,
                    weight / present_weight,
                    bar,
                    successes / trials,
                    successes,
                    trials,
                    source,
                )
            )
        else:
            components.append(Component(name, None, weight, 0.0, bar, None, successes, trials or None, source))
    return tuple(components)


def _score(components: tuple[Component, ...]) -> float:
    total = math.fsum(c.renormalised_weight * c.probability for c in components if c.probability is not None)
    return round(100.0 * total, 1)


def _cite(keys: list[str]) -> dict[str, dict[str, Any]]:
    return {key: {"value": THRESHOLDS[key].value, "source": THRESHOLDS[key].source} for key in dict.fromkeys(keys)}


def _needs(card: TestCard, inputs: Inputs, cpc: float | None) -> tuple[int, int, int | None, float | None]:
    """Visitors, signups, days and ad budget still needed to pass the minimum-data gates.

    Visitors: the larger of the gap to the visitor gate and the visitors expected to bring the missing signups at the
    current signup rate (posterior mean (signups + 1) / (visitors + 2), defined even with no signups yet). Days: the
    larger of the days left to the day gate and those visitors at the current daily cold traffic (None when there is
    no traffic yet to extrapolate from). Budget: visitors x cost per click (observed, else the card's expected one).
    """
    signups_needed = max(0, int(_t("min_signups")) - inputs.signups)
    visitors_for_gate = max(0, int(_t("min_visitors")) - inputs.visitors)
    visitors_for_signups = 0
    if signups_needed:
        a, b = posterior(inputs.signups, inputs.visitors)
        visitors_for_signups = -(-signups_needed * (a + b) // a)  # ceil(signups_needed / (a / (a + b))), exact
    visitors_needed = max(visitors_for_gate, visitors_for_signups)
    days_left = max(0.0, _t("min_days") - inputs.days)
    days_needed: int | None = math.ceil(days_left - 1e-9)
    if visitors_needed:
        if inputs.visitors > 0 and inputs.days > 0.0:
            per_day = inputs.visitors / inputs.days
            days_needed = math.ceil(max(days_left, visitors_needed / per_day) - 1e-9)
        else:
            days_needed = None
    budget = round(visitors_needed * cpc, 2) if cpc is not None else None
    return visitors_needed, signups_needed, days_needed, budget


def _component_reason(c: Component) -> str:
    label = _LABELS[c.name].capitalize()
    if c.probability is None:
        why = {
            "purchase_intent": "no pre-order offered (or no signups yet)",
            "unit_economics": "no ad spend, so nothing to pay back",
            "signup_quality": "confirmations not tracked (or no signups yet)",
            "organic_pull": "no human visitors",
            "signup_pull": "no cold visitors",
        }[c.name]
        return f"{label}: not scored - {why}; the other weights are renormalised."
    what = {
        "signup_pull": "cold visitors signed up",
        "purchase_intent": "signups pre-ordered",
        "unit_economics": "cold visitors signed up",
        "signup_quality": "signups confirmed or qualified",
        "organic_pull": "human visitors came by referral",
    }[c.name]
    return (
        f"{label}: {c.successes:,} of {c.trials:,} {what} ({c.observed:.1%}); "
        f"P(rate > {'break-even ' if c.name == 'unit_economics' else ''}{c.bar:.1%}) = "
        f"{c.probability:.2f}, weight {c.renormalised_weight * 100:.1f} [{c.source_key}]."
    )


def score(card: TestCard, inputs: Inputs) -> Verdict:
    """Demand score and verdict of ``inputs`` against ``card`` (decision order in the module docstring)."""
    cpc = inputs.observed_cpc
    budget_cpc = cpc if cpc is not None else card.expected_cpc
    warm = {"warm_visitors": inputs.warm_visitors, "warm_signups": inputs.warm_signups}
    warm_reason = []
    if inputs.warm_visitors:
        warm_rate = inputs.warm_signups / inputs.warm_visitors
        warm_reason.append(
            f"Warm traffic (own list, referrals, friends): {inputs.warm_visitors:,} visitors, {inputs.warm_signups:,} "
            f"signups ({warm_rate:.1%}) - shown for context only; it never counts toward the gates or the signup "
            "pull (only its referred share feeds organic pull)."
        )

    # a. Unhealthy: broken or polluted counts invalidate everything after, including "not enough data".
    unhealthy = []
    if inputs.srm_unhealthy:
        unhealthy.append(
            "The experiment's traffic split does not match its plan (sample ratio mismatch, projects.stats.SRM_ALPHA): "
            "fix the split before reading any result."
        )
    if inputs.bot_share > _t("max_bot_share"):
        unhealthy.append(
            f"{inputs.bot_share:.0%} of the traffic is bots, above the {_t('max_bot_share'):.0%} limit "
            "[max_bot_share]: the visitor counts cannot be trusted; check the ad placements for click fraud."
        )
    if unhealthy:
        return Verdict(
            "unhealthy", None, (), None, tuple(unhealthy + warm_reason), thresholds=_cite(["max_bot_share"]), **warm
        )

    gate_keys = ["min_days", "min_visitors", "min_signups"]

    def not_enough(missing: list[str]) -> Verdict:
        visitors_needed, signups_needed, days_needed, budget = _needs(card, inputs, budget_cpc)
        reasons = ["Not enough data yet: " + "; ".join(missing) + "."]
        pieces = []
        if visitors_needed:
            piece = _plural(visitors_needed, "more cold visitor")
            if visitors_needed > max(0, int(_t("min_visitors")) - inputs.visitors):
                piece += " (what the missing signups take at the current signup rate)"
            pieces.append(piece)
        if signups_needed:
            pieces.append(_plural(signups_needed, "more signup"))
        if days_needed is None:
            days_left = math.ceil(max(0.0, _t("min_days") - inputs.days) - 1e-9)
            pieces.append(f"at least {_plural(days_left, 'more day')} (no cold traffic yet to extrapolate from)")
        elif days_needed:
            pieces.append(_plural(days_needed, "more day") + (" at the current traffic" if visitors_needed else ""))
        plan = "Still needed: " + ", ".join(pieces)
        if budget is not None and visitors_needed:
            kind = "observed" if cpc is not None else "expected"
            click = _money(budget_cpc or 0.0, card.currency)
            plan += f"; about {_money(budget, card.currency)} of ads at the {kind} {click} per click"
        reasons.append(plan + ".")
        return Verdict(
            "not enough data",
            None,
            (),
            None,
            tuple(reasons + warm_reason),
            visitors_needed=visitors_needed,
            signups_needed=signups_needed,
            days_needed=days_needed,
            budget_needed=budget,
            cost_per_click=budget_cpc,
            thresholds=_cite(gate_keys),
            **warm,
        )

    # b. Days and cold visitors.
    missing = []
    if inputs.days < _t("min_days"):
        missing.append(f"{inputs.days:g} of {_t('min_days'):g} days [min_days]")
    if inputs.visitors < _t("min_visitors"):
        missing.append(f"{inputs.visitors:,} of {_t('min_visitors'):g} human cold visitors [min_visitors]")
    if missing:
        return not_enough(missing)

    components = _components(card, inputs, cpc)
    by_name = {c.name: c for c in components}
    pull = by_name["signup_pull"].probability or 0.0  # never None here: visitors >= min_visitors > 0
    economics = by_name["unit_economics"]
    intent = by_name["purchase_intent"]

    cost_per_signup = ratio = None
    if economics.probability is not None and cpc is not None and inputs.signups:
        cost_per_signup = cpc * inputs.visitors / inputs.signups
        ratio = cost_per_signup / card.allowable_cost_per_lead

    cited = [
        *gate_keys,
        "futility_pull",
        "validated_score",
        "not_validated_score",
        "validated_pull",
        "validated_economics",
        "validated_intent",
        "ltv_cac_ratio",
        "signup_to_customer",
        *(f"weight.{name}" for name in COMPONENTS),
        *(c.source_key for c in components if c.source_key in THRESHOLDS),
    ]

    def scored(verdict: str, headline: list[str], weakest: str | None = None) -> Verdict:
        reasons = headline + [_component_reason(c) for c in components]
        if ratio is not None and cost_per_signup is not None and cpc is not None:
            reasons.append(
                f"Acquisition: at {_money(cpc, card.currency)} per click and {by_name['signup_pull'].observed:.1%} "
                f"conversion a signup costs {_money(cost_per_signup, card.currency)}; the price carries "
                f"{_money(card.allowable_cost_per_lead, card.currency)} per signup "
                f"(LTV {_money(card.ltv, card.currency)} / {card.ltv_cac_ratio:g} x {card.signup_to_customer:.1%} "
                "signup-to-customer), so acquisition costs "
                f"{ratio:.1f}x what the price can carry (break-even conversion {economics.bar:.1%})."
            )
        return Verdict(
            verdict,
            _score(components),
            components,
            weakest,
            tuple(reasons + warm_reason),
            cost_per_click=cpc,
            cost_per_signup=cost_per_signup,
            acquisition_cost_ratio=ratio,
            thresholds=_cite(cited),
            **warm,
        )

    # c. Futility stop: allowed before 25 signups, the visitor gate makes a very low rate trustworthy.
    if pull <= _t("futility_pull"):
        return scored(
            "not validated",
            [
                f"Not validated (futility stop): P(signup rate > {card.signup_bar:.1%}) = {pull:.2f} <= "
                f"{_t('futility_pull'):g} [futility_pull] - more traffic is very unlikely to clear the bar; change "
                "the offer, audience or price rather than buying more clicks."
            ],
        )

    # d. Signups.
    if inputs.signups < _t("min_signups"):
        return not_enough([f"{inputs.signups:,} of {_t('min_signups'):g} cold signups [min_signups]"])

    total = _score(components)
    unmet = []
    if total < _t("validated_score"):
        unmet.append(f"score {total:.1f} < {_t('validated_score'):g} [validated_score]")
    if pull < _t("validated_pull"):
        unmet.append(f"signup pull {pull:.2f} < {_t('validated_pull'):g} [validated_pull]")
    if economics.probability is not None and economics.probability < _t("validated_economics"):
        unmet.append(
            f"unit economics {economics.probability:.2f} < {_t('validated_economics'):g} [validated_economics]"
        )
    if intent.probability is not None and intent.probability < _t("validated_intent"):
        unmet.append(f"purchase intent {intent.probability:.2f} < {_t('validated_intent'):g} [validated_intent]")

    # e. Validated.
    if not unmet:
        return scored(
            "validated",
            [f"Validated: score {total:.1f} >= {_t('validated_score'):g} and every required component clears its bar."],
        )
    # f. Not validated on score.
    if total < _t("not_validated_score"):
        return scored(
            "not validated",
            [f"Not validated: score {total:.1f} < {_t('not_validated_score'):g} [not_validated_score]."],
        )
    # g. Inconclusive: name what costs the most points.
    present = [c for c in components if c.probability is not None]
    weakest = max(present, key=lambda c: c.renormalised_weight * (1.0 - (c.probability or 0.0)))
    lost = 100.0 * weakest.renormalised_weight * (1.0 - (weakest.probability or 0.0))
    return scored(
        "inconclusive",
        [
            "Inconclusive: " + "; ".join(unmet) + ".",
            f"Weakest component: {_LABELS[weakest.name]} (P = {weakest.probability:.2f}, costs {lost:.1f} points).",
        ],
        weakest=weakest.name,
    )
