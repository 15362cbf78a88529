"""Demand score (0-100) and verdict of a landing page, judged against its test card.

Pure standard-library Python, no Django: the caller (a service or the results API) reads the counts from the
database, builds an :class:`~projects.analysis.score_inputs.Inputs` and a
:class:`~projects.analysis.test_card.TestCard`, and stores or renders the returned :class:`Verdict`.

:func:`score` gives the demand score and verdict from counts: the weighted components
(:mod:`projects.analysis.score_components`: what each measures, its chance of clearing its bar and its reason)
summed into a score of 0-100, then judged.

The decision, in this order (the first rule that applies wins):

a. ``unhealthy`` - the experiment has a sample-ratio mismatch or more than 30 % of the page's traffic is bots.
   Checked first because broken or polluted counts make every later figure, including "not enough data",
   meaningless: the founder must fix the traffic, not wait for more of it. The bot share is judged only from 100
   views on (:mod:`projects.analysis.traffic_quality`); before that the verdict says it is too early to judge.
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
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from projects.analysis.bayesian import posterior
from projects.analysis.json_ready import json_object
from projects.analysis.money import format_money
from projects.analysis.plain_figures import plural
from projects.analysis.score_components import Component, component_reason, components_of, total_score
from projects.analysis.score_inputs import Inputs
from projects.analysis.test_card import TestCard
from projects.analysis.thresholds import COMPONENTS, LABELS, THRESHOLDS
from projects.analysis.thresholds import value_of as _t
from projects.analysis.traffic_quality import TOO_EARLY, UNHEALTHY, traffic_quality

__all__ = ["Verdict", "score"]


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
    budget_needed: float | None = None  # visitors_needed x cost per visitor (observed, else the expected per click)
    cost_per_click: float | None = None
    # Costs (projects.analysis.costs): None without spend. Per visitor is spend / paid visitors; per signup,
    # pre-order and confirmed signup are spend / the conversions attributed to the spend.
    cost_per_visitor: float | None = None
    cost_per_signup: float | None = None
    cost_per_preorder: float | None = None
    cost_per_confirmed_signup: float | None = None
    acquisition_cost_ratio: float | None = None  # cost per signup / allowable cost per lead (paid traffic)
    warm_visitors: int = 0
    warm_signups: int = 0
    thresholds: dict[str, dict[str, Any]] | None = None  # every THRESHOLDS entry the verdict relied on
    # The bot-share gate's result (projects.analysis.traffic_quality.TrafficQuality.to_dict()): status "too early",
    # "healthy" or "unhealthy", the share, the views judged, the minimum, the limit and the reason.
    traffic_quality: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready plain values (floats to 6 significant digits)."""
        return json_object(asdict(self))


def _cite(keys: list[str]) -> dict[str, dict[str, Any]]:
    return {key: {"value": THRESHOLDS[key].value, "source": THRESHOLDS[key].source} for key in dict.fromkeys(keys)}


def _needs(inputs: Inputs, cost_per_visitor: float | None) -> tuple[int, int, int | None, float | None]:
    """Visitors, signups, days and ad budget still needed to pass the minimum-data gates.

    Visitors: the larger of the gap to the visitor gate and the visitors expected to bring the missing signups at the
    current signup rate (posterior mean (signups + 1) / (visitors + 2), defined even with no signups yet). Days: the
    larger of the days left to the day gate and those visitors at the current daily cold traffic (None when there is
    no traffic yet to extrapolate from). Budget: visitors x cost per visitor (spend / paid visitors, else the card's
    expected cost per click).
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
    budget = visitors_needed * cost_per_visitor if cost_per_visitor is not None else None
    return visitors_needed, signups_needed, days_needed, budget


def score(card: TestCard, inputs: Inputs) -> Verdict:
    """Demand score and verdict of ``inputs`` against ``card`` (decision order in the module docstring)."""
    cpc = inputs.observed_cpc
    budget_cpc = cpc if cpc is not None else card.expected_cpc
    # More visitors cost what a paid visitor cost so far; before any spend, the card's expected cost per click.
    budget_cost = inputs.cost_per_visitor if inputs.cost_per_visitor is not None else card.expected_cpc
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
            "The experiment's traffic split does not match its plan (sample ratio mismatch, "
            "projects.analysis.thresholds.SRM_ALPHA): fix the split before reading any result."
        )
    quality = traffic_quality(bot_share=inputs.bot_share, views=inputs.judged_views)
    # Before enough views the share is noise (a few link previews on day 0): said, never "unhealthy".
    too_early = [quality.reason] if quality.status == TOO_EARLY else []
    if quality.status == UNHEALTHY:
        unhealthy.append(quality.reason)
    if unhealthy:
        return Verdict(
            "unhealthy",
            None,
            (),
            None,
            tuple(unhealthy + too_early + warm_reason),
            thresholds=_cite(["max_bot_share", "min_bot_share_views"]),
            traffic_quality=quality.to_dict(),
            **warm,
        )

    gate_keys = ["min_days", "min_visitors", "min_signups"]

    def not_enough(missing: list[str]) -> Verdict:
        visitors_needed, signups_needed, days_needed, budget = _needs(inputs, budget_cost)
        reasons = ["Not enough data yet: " + "; ".join(missing) + "."]
        pieces = []
        if visitors_needed:
            piece = plural(visitors_needed, "more cold visitor")
            if visitors_needed > max(0, int(_t("min_visitors")) - inputs.visitors):
                piece += " (what the missing signups take at the current signup rate)"
            pieces.append(piece)
        if signups_needed:
            pieces.append(plural(signups_needed, "more signup"))
        if days_needed is None:
            days_left = math.ceil(max(0.0, _t("min_days") - inputs.days) - 1e-9)
            pieces.append(f"at least {plural(days_left, 'more day')} (no cold traffic yet to extrapolate from)")
        elif days_needed:
            pieces.append(plural(days_needed, "more day") + (" at the current traffic" if visitors_needed else ""))
        plan = "Still needed: " + ", ".join(pieces)
        if budget is not None and budget_cost is not None and visitors_needed:
            unit = "observed" if inputs.cost_per_visitor is not None else "expected"
            each = "paid visitor" if inputs.cost_per_visitor is not None else "click"
            plan += (
                f"; about {format_money(budget, card.currency)} of ads at the {unit} "
                f"{format_money(budget_cost, card.currency)} per {each}"
            )
        reasons.append(plan + ".")
        return Verdict(
            "not enough data",
            None,
            (),
            None,
            tuple(reasons + too_early + warm_reason),
            visitors_needed=visitors_needed,
            signups_needed=signups_needed,
            days_needed=days_needed,
            budget_needed=budget,
            cost_per_click=budget_cpc,
            cost_per_visitor=inputs.cost_per_visitor,
            cost_per_signup=inputs.cost_per_signup,
            cost_per_preorder=inputs.cost_per_preorder,
            cost_per_confirmed_signup=inputs.cost_per_confirmed_signup,
            thresholds=_cite([*gate_keys, "max_bot_share", "min_bot_share_views"]),
            traffic_quality=quality.to_dict(),
            **warm,
        )

    # b. Days and cold visitors.
    missing = []
    if inputs.days < _t("min_days"):
        missing.append(f"{round(inputs.days, 1):g} of {_t('min_days'):g} days [min_days]")
    if inputs.visitors < _t("min_visitors"):
        missing.append(f"{inputs.visitors:,} of {_t('min_visitors'):g} human cold visitors [min_visitors]")
    if missing:
        return not_enough(missing)

    components = components_of(card, inputs)
    by_name = {c.name: c for c in components}
    pull = by_name["signup_pull"].probability or 0.0  # never None here: visitors >= min_visitors > 0
    economics = by_name["unit_economics"]
    intent = by_name["purchase_intent"]

    cost_per_signup = inputs.cost_per_signup
    ratio: float | None = None
    if economics.probability is not None and cost_per_signup is not None:
        ratio = cost_per_signup / card.allowable_cost_per_lead

    cited = [
        *gate_keys,
        "max_bot_share",
        "min_bot_share_views",
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
        reasons = headline + [component_reason(c) for c in components]
        if ratio is not None and cost_per_signup is not None and inputs.cost_per_visitor is not None:
            reasons.append(
                f"Acquisition: {format_money(inputs.spend, card.currency)} of ads brought "
                f"{plural(inputs.attributed_visitors, 'paid visitor')} "
                f"({format_money(inputs.cost_per_visitor, card.currency)} each) and "
                f"{plural(inputs.attributed_signups, 'signup')}, so a signup costs "
                f"{format_money(cost_per_signup, card.currency)}; the price carries "
                f"{format_money(card.allowable_cost_per_lead, card.currency)} per signup "
                f"(LTV {format_money(card.ltv, card.currency)} / {card.ltv_cac_ratio:g} x "
                f"{card.signup_to_customer:.1%} signup-to-customer), so acquisition costs "
                f"{ratio:.1f}x what the price can carry (break-even conversion {economics.bar:.1%})."
            )
        return Verdict(
            verdict,
            total_score(components),
            components,
            weakest,
            tuple(reasons + warm_reason),
            cost_per_click=cpc,
            cost_per_visitor=inputs.cost_per_visitor,
            cost_per_signup=cost_per_signup,
            cost_per_preorder=inputs.cost_per_preorder,
            cost_per_confirmed_signup=inputs.cost_per_confirmed_signup,
            acquisition_cost_ratio=ratio,
            thresholds=_cite(cited),
            traffic_quality=quality.to_dict(),
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

    total = total_score(components)
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
            f"Weakest component: {LABELS[weakest.name]} (P = {weakest.probability:.2f}, costs {lost:.1f} points).",
        ],
        weakest=weakest.name,
    )
