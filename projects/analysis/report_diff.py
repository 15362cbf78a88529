"""What changed between two kept reports, in a founder's words: the inputs the verdict was computed from (cold
visitors, signups, confirmed signups, pre-orders, spend, clicks...), the costs, the test card's terms, and the
verdict and score themselves. Each line carries both values as the page shows them, whether the figure went up or
down, and by how much ("+120", "-1.5 points", "+30.00 EUR").

Reads the report dicts as :func:`projects.selectors.reports.project_report` returns them and
``ReportSnapshot.data`` keeps them (plain JSON values; money as decimal strings), defensively: a field that one of
the two reports lacks (an older snapshot) is shown as a dash and counts as a change only when the other has a value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from projects.analysis.money import format_money
from projects.analysis.thresholds import CHANNELS

__all__ = ["Change", "ReportDiff", "report_diff"]

Kind = Literal["count", "money", "share", "number", "text"]
Direction = Literal["up", "down", "same", "changed"]

DASH = "—"

# (where in the report, field, label, kind, glossary entry). "inputs" is the report's inputs, "report" its top
# level, "card" its test card.
_VERDICT: tuple[tuple[str, str, str, Kind, str], ...] = (
    ("report", "verdict", "Verdict", "text", "verdict"),
    ("report", "score", "Demand score", "number", "score"),
)
_INPUTS: tuple[tuple[str, str, str, Kind, str], ...] = (
    ("inputs", "days", "Days since launch", "number", "minimum-data"),
    ("inputs", "visitors", "Cold visitors", "count", "cold-visitors"),
    ("inputs", "signups", "Cold signups", "count", "signups"),
    ("inputs", "confirmed", "Confirmed signups", "count", "confirmation-rate"),
    ("inputs", "preorders", "Pre-orders", "count", "preorders"),
    ("inputs", "warm_visitors", "Warm visitors (not counted)", "count", "warm-traffic"),
    ("inputs", "warm_signups", "Warm signups (not counted)", "count", "warm-traffic"),
    ("inputs", "referred_visitors", "Visitors by word of mouth", "count", "word-of-mouth-share"),
    ("inputs", "bot_share", "Bot share", "share", "bot-share"),
    ("inputs", "spend", "Ad spend", "money", "spend"),
    ("inputs", "clicks", "Ad clicks", "count", "cost-per-click"),
    ("inputs", "paid_visitors", "Visitors from ads", "count", "cost-per-paid-visitor"),
    ("inputs", "paid_signups", "Signups from ads", "count", "cost-per-signup"),
)
_COSTS: tuple[tuple[str, str, str, Kind, str], ...] = (
    ("report", "cost_per_click", "Cost per click", "money", "cost-per-click"),
    ("report", "cost_per_visitor", "Cost per paid visitor", "money", "cost-per-paid-visitor"),
    ("report", "cost_per_signup", "Cost per signup", "money", "cost-per-signup"),
    ("report", "cost_per_confirmed_signup", "Cost per confirmed signup", "money", "cost-per-confirmed-signup"),
    ("report", "cost_per_preorder", "Cost per pre-order", "money", "cost-per-preorder"),
)
_CARD: tuple[tuple[str, str, str, Kind, str], ...] = (
    ("card", "channel", "Channel of the test", "text", "cold-visitors"),
    ("card", "price", "Price", "money", "allowable-cost"),
    ("card", "expected_cpc", "Expected cost per click", "money", "cost-per-click"),
    ("card", "signup_bar", "Sign-up rate to beat", "share", "conversion-rate"),
    ("card", "intent_bar", "Pre-order rate to beat", "share", "pre-order-rate"),
    ("card", "quality_bar", "Confirmation rate to beat", "share", "confirmation-rate"),
    ("card", "organic_bar", "Word-of-mouth share to beat", "share", "word-of-mouth-share"),
    ("card", "gross_margin", "Gross margin assumed", "share", "allowable-cost"),
    ("card", "ltv_periods", "Billing periods a customer pays", "number", "allowable-cost"),
    ("card", "ltv_cac_ratio", "Customer worth ÷ cost to win them", "number", "allowable-cost"),
    ("card", "signup_to_customer", "Signups who become customers", "share", "allowable-cost"),
    ("card", "allowable_cost_per_lead", "Most a signup may cost", "money", "allowable-cost"),
    ("card", "locked_at", "Test card locked", "text", "test-card"),
)


@dataclass(frozen=True)
class Change:
    """One figure of the two reports: its values as text, the direction and the difference (as text, "" when none)."""

    key: str  # "<where>.<field>", e.g. "inputs.visitors"
    label: str
    glossary: str
    before: str
    after: str
    direction: Direction
    difference: str

    @property
    def changed(self) -> bool:
        return self.direction != "same"


@dataclass(frozen=True)
class ReportDiff:
    verdict: tuple[Change, ...]
    inputs: tuple[Change, ...]
    costs: tuple[Change, ...]
    card: tuple[Change, ...]

    @property
    def changes(self) -> tuple[Change, ...]:
        """Every line that changed, in the page's order."""
        return tuple(c for c in (*self.verdict, *self.inputs, *self.costs, *self.card) if c.changed)


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _text(value: Any, kind: Kind, currency: str, field: str) -> str:
    if value is None or value == "":
        return DASH
    if kind == "text":
        if field == "channel":
            return CHANNELS.get(str(value), str(value))
        if field == "locked_at":
            return str(value)[:16].replace("T", " ") + " UTC"
        return str(value)
    number = _number(value)
    if number is None:
        return str(value)
    if kind == "count":
        return f"{round(number):,}"
    if kind == "money":
        return format_money(number, currency) if currency else f"{number:,.2f}"
    if kind == "share":
        return f"{number:.1%}"
    return f"{number:,.1f}" if number != round(number) else f"{round(number):,}"


def _difference(before: float, after: float, kind: Kind, currency: str) -> str:
    delta = after - before
    sign = "+" if delta > 0 else "−"  # a minus sign, not a hyphen
    size = abs(delta)
    if kind == "count":
        return f"{sign}{round(size):,}"
    if kind == "money":
        return sign + (format_money(size, currency) if currency else f"{size:,.2f}")
    if kind == "share":
        return f"{sign}{size * 100:.1f} points"
    return f"{sign}{size:,.1f}" if size != round(size) else f"{sign}{round(size):,}"


def _section(
    rows: tuple[tuple[str, str, str, Kind, str], ...],
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    currency: tuple[str, str],
) -> tuple[Change, ...]:
    out: list[Change] = []

    def part(report: Mapping[str, Any], where: str) -> Mapping[str, Any]:
        if where == "report":
            return report
        value = report.get("test_card" if where == "card" else where)
        return value if isinstance(value, Mapping) else {}

    for where, field, label, kind, glossary in rows:
        old, new = part(before, where).get(field), part(after, where).get(field)
        if old is None and new is None and field not in part(before, where) and field not in part(after, where):
            continue  # neither report has the figure at all: no line
        old_text, new_text = _text(old, kind, currency[0], field), _text(new, kind, currency[1], field)
        direction: Direction = "same"
        difference = ""
        if kind == "text":
            if old_text != new_text:
                direction = "changed"
        else:
            a, b = _number(old), _number(new)
            if a is not None and b is not None and currency[0] == currency[1]:
                if b > a:
                    direction = "up"
                elif b < a:
                    direction = "down"
                if direction != "same":
                    difference = _difference(a, b, kind, currency[1])
            elif old_text != new_text:
                direction = "changed"
        # Values equal once shown (a change below the shown precision) read as unchanged.
        if direction in ("up", "down") and old_text == new_text:
            direction, difference = "same", ""
        out.append(Change(f"{where}.{field}", label, glossary, old_text, new_text, direction, difference))
    return tuple(out)


def report_diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> ReportDiff:
    """The lines of two reports side by side, `before` first (the older kept report), each marked with its change."""

    def currency(report: Mapping[str, Any]) -> str:
        card = report.get("test_card")
        return str(card.get("currency") or "") if isinstance(card, Mapping) else ""

    currencies = (currency(before), currency(after))
    return ReportDiff(
        verdict=_section(_VERDICT, before, after, currencies),
        inputs=_section(_INPUTS, before, after, currencies),
        costs=_section(_COSTS, before, after, currencies),
        card=_section(_CARD, before, after, currencies),
    )
