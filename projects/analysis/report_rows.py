"""The report page's tables, as text: the score's components, the bars and rules of the verdict with their sources,
the costs and the test card's figures, each row tied to its glossary entry (the anchor ``#g-<glossary>``). Built
from the report as :func:`projects.selectors.reports.project_report` returns it (plain values, read defensively).
No Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from projects.analysis.money import format_money
from projects.analysis.plain_figures import as_count, as_number, chance, percent
from projects.analysis.plain_reasons import COMPONENT_TERMS, plain_source
from projects.analysis.thresholds import THRESHOLDS

__all__ = [
    "THRESHOLD_TERMS",
    "CostFigure",
    "Row",
    "card_rows",
    "component_row",
    "cost_figures",
    "rule_texts",
    "threshold_row",
]

# The bars and rules of the verdict (keys of projects.analysis.thresholds.THRESHOLDS) in plain words, with their
# glossary entry; a key with a suffix (``signup_bar.paid_search``) is looked up by its prefix and the suffix named
# in brackets.
THRESHOLD_TERMS: Mapping[str, tuple[str, str]] = {
    "signup_bar": ("Sign-up rate to beat", "conversion-rate"),
    "gross_margin": ("Gross margin assumed", "allowable-cost"),
    "ltv_periods": ("Billing periods a customer is assumed to pay", "allowable-cost"),
    "ltv_cac_ratio": ("A customer must be worth this many times what winning them costs", "allowable-cost"),
    "signup_to_customer": ("Share of signups assumed to become paying customers", "allowable-cost"),
    "intent_bar": ("Pre-order rate to beat", "pre-order-rate"),
    "quality_bar": ("Confirmation rate to beat", "confirmation-rate"),
    "organic_bar": ("Word-of-mouth share to beat", "word-of-mouth-share"),
    "min_days": ("Fewest days of testing before a verdict", "minimum-data"),
    "min_visitors": ("Fewest cold visitors before a verdict", "minimum-data"),
    "min_signups": ("Fewest cold signups before a verdict", "minimum-data"),
    "max_bot_share": ("Highest bot share the counts can carry", "bot-share"),
    "min_bot_share_views": ("Fewest views before the bot share is judged", "bot-share"),
    "validated_score": ("Score needed to call it validated", "score"),
    "not_validated_score": ("Score below which it is not validated", "score"),
    "validated_pull": ("Chance the sign-up rate beats its bar, needed to validate", "chance-above-bar"),
    "validated_economics": ("Chance the ad costs pay back, needed to validate", "chance-above-bar"),
    "validated_intent": ("Chance the pre-order rate beats its bar, needed to validate", "chance-above-bar"),
    "futility_pull": ("Stop early when the chance the sign-up rate beats its bar falls to", "chance-above-bar"),
    "weight": ("Weight in the score", "weight"),
}
_PERCENT_THRESHOLDS = frozenset(
    {
        "signup_bar",
        "gross_margin",
        "signup_to_customer",
        "intent_bar",
        "quality_bar",
        "organic_bar",
        "max_bot_share",
        "validated_pull",
        "validated_economics",
        "validated_intent",
        "futility_pull",
    }
)
_SUFFIXES = {
    "paid_search": "paid search",
    "paid_social": "paid social",
    "saas": "subscription software",
    "service": "service",
    "product": "physical product",
    "course": "course",
}

# The costs a report may carry, in the order a founder reads them: (report field, label, glossary entry). A
# report without the field leaves the row out; a field that is None (no spend) is shown as a dash.
_COSTS: tuple[tuple[str, str, str], ...] = (
    ("cost_per_signup", "Cost per signup", "cost-per-signup"),
    ("cost_per_preorder", "Cost per pre-order", "cost-per-preorder"),
    ("cost_per_confirmed_signup", "Cost per confirmed signup", "cost-per-confirmed-signup"),
    ("cost_per_confirmed", "Cost per confirmed signup", "cost-per-confirmed-signup"),
    ("cost_per_paid_visitor", "Cost per paid visitor", "cost-per-paid-visitor"),
    ("cost_per_visitor", "Cost per paid visitor", "cost-per-paid-visitor"),
    ("cost_per_click", "Cost per click", "cost-per-click"),
)

# The test card's figures a founder reads: (field, label, glossary entry, money rather than a share).
_CARD: tuple[tuple[str, str, str, bool], ...] = (
    ("signup_bar", "Sign-up rate to beat", "conversion-rate", False),
    ("intent_bar", "Pre-order rate to beat", "pre-order-rate", False),
    ("allowable_cost_per_lead", "Most a signup may cost", "allowable-cost", True),
    ("expected_cpc", "Expected cost per click", "cost-per-click", True),
    ("break_even_conversion", "Break-even sign-up rate", "break-even-rate", False),
)


@dataclass(frozen=True)
class Row:
    """One line of a statistics table: what it is, its glossary entry and its figures as text."""

    label: str
    glossary: str
    cells: tuple[str, ...]


@dataclass(frozen=True)
class CostFigure:
    label: str
    glossary: str
    amount: float | None  # None: no spend to divide (shown as a dash)


def threshold_row(key: str, entry: Mapping[str, Any]) -> Row:
    """A bar or rule of the verdict: its plain label, its value as text and where it comes from."""
    prefix, _, suffix = key.partition(".")
    label, glossary = THRESHOLD_TERMS.get(prefix, (prefix.replace("_", " ").capitalize(), "score"))
    if prefix == "weight" and suffix in COMPONENT_TERMS:
        label = f"Weight of “{COMPONENT_TERMS[suffix][0].lower()}” in the score"
    elif suffix:
        label = f"{label} ({_SUFFIXES.get(suffix, suffix.replace('_', ' '))})"
    value = as_number(entry.get("value"))
    if value is None:
        shown = "—"
    elif prefix in _PERCENT_THRESHOLDS:
        shown = percent(value)
    elif prefix == "weight":
        shown = f"{value:g} of 100"
    else:
        shown = f"{value:g}"
    return Row(label, glossary, (shown, plain_source(str(entry.get("source") or ""))))


def rule_texts() -> dict[str, str]:
    """The verdict's rules by threshold key, as the glossary's sentences quote them ("100 visitors")."""
    return {key: threshold_row(key, {"value": entry.value}).cells[0] for key, entry in THRESHOLDS.items()}


def component_row(component: Mapping[str, Any]) -> Row:
    """A score component: its counts, the observed rate, its bar, its chance of clearing it and its weight."""
    name = str(component.get("name"))
    label, glossary = COMPONENT_TERMS.get(name, (name.replace("_", " ").capitalize(), "score"))
    successes, trials = component.get("successes"), component.get("trials")
    counts = f"{as_count(successes):,} of {as_count(trials):,}" if successes is not None and trials else "no data"
    probability = as_number(component.get("probability"))
    weight = as_number(component.get("renormalised_weight"))
    return Row(
        label,
        glossary,
        (
            counts,
            percent(as_number(component.get("observed"))) if probability is not None else "not scored",
            percent(as_number(component.get("bar"))),
            chance(probability),
            percent(weight, 0) if probability is not None and weight is not None else "—",
        ),
    )


def cost_figures(report: Mapping[str, Any]) -> tuple[CostFigure, ...]:
    """The costs the report carries (top-level or under "costs"), one per glossary entry, in reading order."""
    seen: set[str] = set()
    costs = []
    nested = report.get("costs")
    figures = {**(nested if isinstance(nested, Mapping) else {}), **report}
    for field, label, glossary in _COSTS:
        if field in figures and glossary not in seen:
            seen.add(glossary)
            costs.append(CostFigure(label, glossary, as_number(figures[field])))
    return tuple(costs)


def card_rows(card: Mapping[str, Any], currency: str) -> tuple[Row, ...]:
    """The test card's bars a founder reads, one cell each (money in the card's currency, shares as percentages)."""
    rows = []
    for field, label, glossary, as_money in _CARD:
        value = as_number(card.get(field))
        if value is not None:
            rows.append(Row(label, glossary, (format_money(value, currency) if as_money else percent(value),)))
    return tuple(rows)
