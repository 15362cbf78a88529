"""The test card of a landing page: the hypothesis and numeric bars its demand is judged against.

:func:`build_test_card` writes it when the page goes live; the caller locks it at the first cold visitor who is a
person and not the founder (the founder may override the business assumptions *before* that, never after: bars
moved after seeing the data would make every verdict a foregone conclusion). It states the hypothesis ("at least
X % of cold visitors from <channel> will sign up for <idea> at <price>"), the metric and the numeric bars:

* signup bar: benchmark signup rate of the channel (``signup_bar.<channel>``);
* LTV = price x gross margin x lifetime periods (months for SaaS, purchases otherwise) - Skok's formula, LTV =
  ARPA x gross margin / churn, with lifetime = 1 / monthly churn;
* allowable CAC = LTV / 3 (the LTV >= 3 x CAC rule);
* allowable cost per lead = allowable CAC x signup-to-customer conversion (a signup is a lead, and only that share
  of leads ever pays);
* break-even conversion = cost per click / allowable cost per lead: below that visitor-to-signup rate every
  signup costs more in clicks than the price can carry.

The defaults come from :data:`projects.analysis.thresholds.THRESHOLDS`; :func:`projects.analysis.score.score`
judges a page's counts against the card.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from projects.analysis.counts import finite_number
from projects.analysis.json_ready import json_object
from projects.analysis.money import format_money
from projects.analysis.thresholds import BUSINESS_MODELS, CHANNELS, OVERRIDABLE
from projects.analysis.thresholds import value_of as _t

__all__ = ["TestCard", "build_test_card"]


@dataclass(frozen=True)
class TestCard:
    """The hypothesis and bars a page is judged against; written at launch, locked by the caller at its first visitor.

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
        return json_object(asdict(self))


def _validate_overrides(overrides: dict[str, Any]) -> dict[str, float]:
    unknown = sorted(set(overrides) - set(OVERRIDABLE))
    if unknown:
        raise ValueError(f"unknown override(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(OVERRIDABLE)}")
    clean: dict[str, float] = {}
    for key, raw in overrides.items():
        value = finite_number(f"override {key!r}", raw)
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
    price = finite_number("price", price)
    if price <= 0.0:
        raise ValueError(f"price must be > 0, got {price!r}")
    if not isinstance(currency, str) or len(currency.strip()) != 3 or not currency.strip().isalpha():
        raise ValueError(f"currency must be a 3-letter ISO 4217 code, got {currency!r}")
    currency = currency.strip().upper()
    if expected_cpc is not None:
        expected_cpc = finite_number("expected_cpc", expected_cpc)
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
    price_text = format_money(price, currency) + per
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
        f"Acquisition must pay: a signup may cost at most {format_money(allowable_cpl, currency)} (LTV "
        f"{format_money(ltv, currency)} / {values['ltv_cac_ratio']:g} x {values['signup_to_customer']:.1%} "
        "signup-to-customer)"
        + (
            f", i.e. conversion above {break_even:.1%} at {format_money(expected_cpc, currency)} per click"
            if break_even is not None and expected_cpc is not None
            else ""
        )
        + f", with probability >= {_t('validated_economics'):.0%} when paid.",
        f"Score >= {_t('validated_score'):g} to validate; below {_t('not_validated_score'):g}, or signup-rate "
        f"probability <= {_t('futility_pull'):.0%}, is not validated.",
        f"Minimum data: {_t('min_days'):g} days, {_t('min_visitors'):g} human cold visitors, "
        f"{_t('min_signups'):g} signups; bot share at most {_t('max_bot_share'):.0%} (judged from "
        f"{_t('min_bot_share_views'):g} views on).",
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
