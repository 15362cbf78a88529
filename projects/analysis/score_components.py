"""The demand score's components (:func:`projects.analysis.score.score` sums and judges them).

Every probability is a Beta posterior with a uniform Beta(1, 1) prior (:func:`projects.analysis.bayesian.posterior`)
and P(rate > bar) is its survival function :func:`projects.analysis.distributions.beta_sf`. Components, weights
35/25/25/10/5 renormalised over those that have data:

* ``signup_pull`` P(cold signup rate > signup bar);
* ``purchase_intent`` P(pre-orders / signups > intent bar) - only when the page offers a pre-order;
* ``unit_economics`` P(paid signup rate > break-even conversion at the *observed* cost per paid visitor) - only when
  there is ad spend and paid visitors (the allowable cost per lead is the locked part of the card; what a visitor
  cost is a fact of the run). Paid signups / paid visitors clears cost per visitor / allowable cost per lead exactly
  when spend / paid signups, the cost per signup, is below the allowable cost per lead
  (:mod:`projects.analysis.costs`);
* ``signup_quality`` P(confirmed-or-qualified / signups > quality bar) - when confirmation is tracked;
* ``organic_pull`` P(referred visitors / all human visitors > organic bar).

Pure standard-library Python, no Django.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from projects.analysis.bayesian import prob_rate_above
from projects.analysis.score_inputs import Inputs
from projects.analysis.test_card import TestCard
from projects.analysis.thresholds import LABELS
from projects.analysis.thresholds import value_of as _t

__all__ = ["Component", "component_reason", "components_of", "total_score"]


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


_ECONOMICS_INPUTS = ("gross_margin", "ltv_periods", "ltv_cac_ratio", "signup_to_customer")


def components_of(card: TestCard, inputs: Inputs) -> tuple[Component, ...]:
    """The five components of ``inputs`` against ``card``, each with its renormalised weight (0 without data)."""
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
    cpv = inputs.cost_per_visitor
    economics_bar = cpv / card.allowable_cost_per_lead if cpv is not None else None
    raw.append(
        (
            "unit_economics",
            inputs.attributed_signups,
            inputs.attributed_visitors if economics_bar is not None else None,
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


def total_score(components: tuple[Component, ...]) -> float:
    """The demand score: the components' chances, weighted, out of 100 (one decimal)."""
    total = math.fsum(c.renormalised_weight * c.probability for c in components if c.probability is not None)
    return round(100.0 * total, 1)


def component_reason(c: Component) -> str:
    """The component's reason as the API gives it: its counts, its chance of clearing its bar, its weight, the
    threshold key cited."""
    label = LABELS[c.name].capitalize()
    if c.probability is None:
        why = {
            "purchase_intent": "no pre-order offered (or no signups yet)",
            "unit_economics": "no ad spend (or no paid visitors yet), so nothing to pay back",
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
