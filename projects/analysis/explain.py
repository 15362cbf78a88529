"""The demand report in a founder's words: the verdict in one sentence, what it rests on and what to do next.

The verdict's ``reasons`` (:mod:`projects.analysis.score`) stay as they are for the API: they cite the thresholds
by key (``[max_bot_share]``) and name the score's components (``signup pull``) so a client or an auditor can trace
every figure. A founder who is not a statistician reads this instead, on the report page: plain sentences built
from the same report fields, each statistic tied to a glossary entry (``glossary``: the anchor of its entry on the
page, ``#g-<glossary>``). Pure standard-library Python, no Django; the input is the report as
:func:`projects.selectors.reports.project_report` returns it (plain values), read defensively so a field added or
left out by a newer report still renders.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from projects.analysis.bayesian import expected_loss, prob_beat_control
from projects.analysis.frequentist import wilson_interval
from projects.analysis.money import format_money
from projects.analysis.thresholds import LABELS, THRESHOLDS

__all__ = [
    "COMPONENT_TERMS",
    "CostFigure",
    "Explanation",
    "Fact",
    "Row",
    "explain",
    "plain_reason",
    "rule_texts",
    "variant_rows",
]

# Each score component: what it measures in plain words, and its glossary entry.
COMPONENT_TERMS: Mapping[str, tuple[str, str]] = {
    "signup_pull": ("Cold visitors who signed up", "conversion-rate"),
    "purchase_intent": ("Signups who pre-ordered", "pre-order-rate"),
    "unit_economics": ("Ads paying for themselves", "break-even-rate"),
    "signup_quality": ("Signups who confirmed their email", "confirmation-rate"),
    "organic_pull": ("Visitors who came by word of mouth", "word-of-mouth-share"),
}

# The bars and rules of the verdict (keys of projects.analysis.thresholds.THRESHOLDS) in plain words; a key with a
# suffix (``signup_bar.paid_search``) is looked up by its prefix and the suffix named in brackets.
_THRESHOLD_TERMS: Mapping[str, tuple[str, str]] = {
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

_TOO_EARLY_TO_JUDGE = "too early to judge traffic quality"


@dataclass(frozen=True)
class Row:
    """One line of a statistics table: what it is, its glossary entry and its figures as text."""

    label: str
    glossary: str
    cells: tuple[str, ...]


@dataclass(frozen=True)
class Fact:
    """A sentence of what the verdict rests on, and the glossary entry of the figure it turns on."""

    text: str
    glossary: str
    term: str  # the figure's name, for the link's accessible label


@dataclass(frozen=True)
class CostFigure:
    label: str
    glossary: str
    amount: float | None  # None: no spend to divide (shown as a dash)


@dataclass(frozen=True)
class Explanation:
    verdict: str
    headline: str  # the verdict in one sentence
    rests_on: tuple[Fact, ...]
    next_steps: tuple[str, ...]
    components: tuple[Row, ...]  # empty when a gate held the score back: no table to show
    thresholds: tuple[Row, ...]
    costs: tuple[CostFigure, ...]
    card: tuple[Row, ...]  # the test card's bars, one cell each
    locked_by: str  # what locked the test card (the first real visit), in words; "" when unknown
    criteria: tuple[str, ...]  # the test card's criteria, in plain words
    bot_share: str  # the share of the page's views made by bots, as a percentage
    rules: Mapping[str, str]  # the verdict's rules by threshold key, as text, for the glossary's sentences
    notes: tuple[str, ...]  # the verdict's own reasons, in plain words


def _num(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        number = float(value)
        return number if math.isfinite(number) else None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _int(value: Any) -> int:
    number = _num(value)
    return int(number) if number is not None else 0


def _pct(share: float | None, digits: int = 1) -> str:
    """A share as a percentage, multiplied by 100 once: 0.2 is "20%", 0.034 is "3.4%"."""
    if share is None:
        return "—"
    text = f"{share * 100:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{share * 100:.0f}"
    return f"{text}%"


def _chance(probability: float | None) -> str:
    """A probability as a whole percentage, never a false certainty: 0.9996 is "over 99%", 0.003 "under 1%"."""
    if probability is None:
        return "—"
    if probability > 0.99:
        return "over 99%"
    if probability < 0.01:
        return "under 1%"
    return _pct(probability, 0)


def _plural(count: int, noun: str, nouns: str | None = None) -> str:
    return f"{count:,} {noun if count == 1 else (nouns or noun + 's')}"


def _threshold(key: str) -> float | None:
    entry = THRESHOLDS.get(key)
    return float(entry.value) if entry is not None else None


def _threshold_row(key: str, entry: Mapping[str, Any]) -> Row:
    prefix, _, suffix = key.partition(".")
    label, glossary = _THRESHOLD_TERMS.get(prefix, (prefix.replace("_", " ").capitalize(), "score"))
    if prefix == "weight" and suffix in COMPONENT_TERMS:
        label = f"Weight of “{COMPONENT_TERMS[suffix][0].lower()}” in the score"
    elif suffix:
        label = f"{label} ({_SUFFIXES.get(suffix, suffix.replace('_', ' '))})"
    value = _num(entry.get("value"))
    if value is None:
        shown = "—"
    elif prefix in _PERCENT_THRESHOLDS:
        shown = _pct(value)
    elif prefix == "weight":
        shown = f"{value:g} of 100"
    else:
        shown = f"{value:g}"
    return Row(label, glossary, (shown, _plain_source(str(entry.get("source") or ""))))


def _plain_source(source: str) -> str:
    """Where a bar comes from, without the code's own names: a published source stays as written."""
    if source.startswith("product decision"):
        return "MVP Validator's own rule, set with the demand score."
    if source.startswith("projects.analysis"):
        rule = _MODULE.sub("", source).strip(" ()")
        return rule[:1].upper() + rule[1:] + "." if rule else "MVP Validator's own rule."
    return source


def _component_row(component: Mapping[str, Any]) -> Row:
    name = str(component.get("name"))
    label, glossary = COMPONENT_TERMS.get(name, (name.replace("_", " ").capitalize(), "score"))
    successes, trials = component.get("successes"), component.get("trials")
    counts = f"{_int(successes):,} of {_int(trials):,}" if successes is not None and trials else "no data"
    probability = _num(component.get("probability"))
    weight = _num(component.get("renormalised_weight"))
    return Row(
        label,
        glossary,
        (
            counts,
            _pct(_num(component.get("observed"))) if probability is not None else "not scored",
            _pct(_num(component.get("bar"))),
            _chance(probability),
            _pct(weight, 0) if probability is not None and weight is not None else "—",
        ),
    )


# Reasons are written for the API; on the page the threshold keys go and the components get their plain names.
_KEY = re.compile(r"\s*\[[A-Za-z0-9_.]+\]")
_MODULE = re.compile(r",?\s*projects\.analysis\.[A-Za-z0-9_.]*[A-Za-z0-9_]")
_PROBABILITY = re.compile(r"P\((?P<what>[^)]*?)\s*>\s*(?P<bar>[^)]+)\)\s*=\s*(?P<p>[0-9.]+)")
_FRACTIONAL_DAYS = re.compile(r"\b(\d+\.\d+) of (\d+) days")
_BARE_P = re.compile(r"\bP = (?P<p>[0-9.]+)")
_SCORE_PHRASES = (
    ("Weakest component", "What holds the score back most"),
    ("Inconclusive:", "Not clear yet:"),
    ("futility stop", "stopped early"),
    ("renormalised", "shared out again"),
    ("LTV", "a customer's value"),
    ("signup-to-customer", "of signups becoming customers"),
    ("signup-rate probability", "chance the sign-up rate beats its bar"),
    ("with probability", "with a chance of"),
    (" >= ", " at least "),
    (" <= ", " at most "),
    (" < ", " below "),
)


def _chance_sentence(match: re.Match[str]) -> str:
    what = match.group("what").strip() or "rate"
    return f"chance the {what} is above {match.group('bar').strip()}: {_chance(float(match.group('p')))}"


def plain_reason(reason: str) -> str:
    """One of the verdict's reasons without threshold keys, module paths or component code names."""
    text = _KEY.sub("", reason)
    text = _MODULE.sub("", text)
    text = _PROBABILITY.sub(_chance_sentence, text)
    text = _BARE_P.sub(lambda m: f"chance {_chance(float(m.group('p')))}", text)
    for name, label in LABELS.items():
        plain = COMPONENT_TERMS[name][0].lower() if name in COMPONENT_TERMS else label
        text = text.replace(label.capitalize(), f"“{plain[0].upper()}{plain[1:]}”").replace(label, f"“{plain}”")
    # Days since launch are counted to the second for the rule; a person reads "2 of 7 days", not "2.00004".
    text = _FRACTIONAL_DAYS.sub(lambda m: f"{float(m.group(1)):.0f} of {m.group(2)} days", text)
    for jargon, plain in _SCORE_PHRASES:
        text = text.replace(jargon, plain)
    return text.replace("Wilson", "").replace("(, ", "(").replace(" ()", "")


def _unhealthy(report: Mapping[str, Any], inputs: Mapping[str, Any]) -> tuple[str, list[Fact], list[str]]:
    limit = _threshold("max_bot_share")
    bots = _num(inputs.get("bot_share"))
    rests: list[Fact] = []
    steps: list[str] = []
    causes: list[str] = []
    if inputs.get("srm_unhealthy"):
        causes.append("your A/B test is not sending visitors to its versions in the planned split")
        rests.append(
            Fact(
                "The versions of your page are getting a share of visitors that differs from the plan by more than "
                "chance allows (a sample ratio mismatch). Comparing them would be comparing different audiences.",
                "sample-ratio-mismatch",
                "sample ratio mismatch",
            )
        )
        steps.append(
            "Check that nothing sends visitors to one version only (a link with a version in it, a redirect, a "
            "cached page), then restart the A/B test."
        )
    if bots is not None and limit is not None and bots > limit:
        causes.append(f"{_pct(bots, 0)} of the visits came from bots")
        rests.append(
            Fact(
                f"{_pct(bots, 0)} of the page's visits were made by bots; above {_pct(limit, 0)} the visitor and "
                "signup counts cannot be trusted.",
                "bot-share",
                "bot share",
            )
        )
        steps.append(
            "Look at where the bot visits come from: pause ad placements that send them (partner sites, display "
            "networks), ask your ad platform about invalid clicks, and keep the page running; the verdict comes "
            "back once the share of bots falls."
        )
    if not causes:
        causes.append("something is wrong with the traffic counts")
        steps.append("Read the notes under “How the verdict was reached” below, fix the cause, and check back.")
    headline = "The numbers can't be trusted yet: " + " and ".join(causes) + "."
    return headline, rests, steps


def _not_enough(report: Mapping[str, Any], currency: str) -> list[str]:
    pieces = []
    visitors = _int(report.get("visitors_needed"))
    signups = _int(report.get("signups_needed"))
    days = _num(report.get("days_needed"))
    budget = _num(report.get("budget_needed"))
    if visitors:
        pieces.append(_plural(visitors, "more cold visitor"))
    if signups:
        pieces.append(_plural(signups, "more signup"))
    if days:
        pieces.append(f"about {_plural(math.ceil(days), 'more day')}")
    step = "Keep the page running and keep sending it new visitors"
    if pieces:
        step += ": it needs " + ", ".join(pieces)
    if budget:
        step += f" (about {format_money(budget, currency)} of ads at your cost per click)"
    return [step + "."]


# What to do about the measure that holds an inconclusive verdict back.
_WEAKEST_STEPS: Mapping[str, str] = {
    "signup_pull": "Fewer cold visitors sign up than the bar asks: sharpen the page's promise (the headline, the "
    "first lines) or send the ads to a narrower audience that has the problem.",
    "purchase_intent": "Few signups pre-order: try a lower price, a bigger early-bird discount or a clearer "
    "description of what they get.",
    "unit_economics": "Each signup costs more than the price can carry: lower the cost per click (narrower "
    "keywords or audience), raise the sign-up rate, or test a higher price.",
    "signup_quality": "Few signups confirm their email: check that the confirmation email arrives (not in spam) and "
    "that the ads reach people who really have the problem.",
    "organic_pull": "Few visitors come by word of mouth: ask the people who signed up to pass the page on.",
}


def _scored(verdict: str, report: Mapping[str, Any], project_name: str) -> tuple[str, list[str]]:
    components = {str(c.get("name")): c for c in report.get("components") or ()}
    weakest = components.get(str(report.get("weakest")))
    weakest_label = COMPONENT_TERMS.get(str(report.get("weakest")), ("one measure",))[0].lower()
    if verdict == "validated":
        return (
            f"Yes: cold visitors want {project_name} - enough of them signed up to call the demand validated.",
            [
                "Write to the people who signed up and ask what made them sign up: they are your first customers.",
                "Keep this report below, so you can show what the decision rested on.",
            ],
        )
    if verdict == "not validated":
        return (
            f"No: too few cold visitors signed up for {project_name} to show demand at this price.",
            [
                "Change the offer, the audience or the price, and test again - more clicks on the same page are "
                "very unlikely to change the answer.",
            ],
        )
    if verdict == "inconclusive":
        probability = _num(weakest.get("probability")) if weakest else None
        held = f" (its chance of clearing its bar: {_chance(probability)})" if probability is not None else ""
        return (
            f"Not clear yet: there are signs of demand for {project_name}, but “{weakest_label}” holds the verdict "
            f"back{held}.",
            [
                _WEAKEST_STEPS.get(str(report.get("weakest")), f"Work on “{weakest_label}”."),
                "Or keep the test running: more visitors and signups make the answer clearer.",
            ],
        )
    # A verdict this module does not know yet (a newer gate): say it as it is and point at the notes.
    return (
        f"Verdict: {verdict}.",
        ["Read “How the verdict was reached” below, and keep the page running while you act on it."],
    )


def _locked_by(value: Any) -> str:
    """The visit that locked the test card, however the report describes it (an id, a text, or a few fields)."""
    if value is None or value == "":
        return ""
    if isinstance(value, Mapping):
        parts = [f"{str(k).replace('_', ' ')} {v}" for k, v in value.items() if v not in (None, "")]
        return "a visit (" + ", ".join(parts) + ")" if parts else ""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"visit #{value}"
    return str(value)


def rule_texts() -> dict[str, str]:
    """The verdict's rules by threshold key, as the glossary's sentences quote them ("100 visitors")."""
    return {key: _threshold_row(key, {"value": entry.value}).cells[0] for key, entry in THRESHOLDS.items()}


def explain(report: Mapping[str, Any], *, project_name: str) -> Explanation:
    """The founder's reading of a report (see the module docstring)."""
    verdict = str(report.get("verdict") or "")
    inputs: Mapping[str, Any] = report.get("inputs") or {}
    card: Mapping[str, Any] = report.get("test_card") or {}
    currency = str(card.get("currency") or "")
    reasons = [str(r) for r in report.get("reasons") or ()]

    visitors, signups = _int(inputs.get("visitors")), _int(inputs.get("signups"))
    days = _num(inputs.get("days")) or 0.0
    rate = f" ({_pct(signups / visitors)})" if visitors else ""
    rests = [
        Fact(
            f"{_plural(visitors, 'cold visitor')} (people who did not know you before) in "
            f"{_plural(math.floor(days), 'day')} since launch; {_plural(signups, 'of them', 'of them')} signed "
            f"up{rate}.",
            "conversion-rate",
            "sign-up rate",
        )
    ]
    if inputs.get("preorders") is not None:
        preorders = _plural(_int(inputs.get("preorders")), "signup")
        rests.append(Fact(f"{preorders} also pre-ordered.", "pre-order-rate", "pre-order rate"))
    if inputs.get("confirmed") is not None:
        confirmed = _plural(_int(inputs.get("confirmed")), "signup")
        rests.append(Fact(f"{confirmed} confirmed their email address.", "confirmation-rate", "confirmation rate"))
    spend = _num(inputs.get("spend"))
    if spend:
        cost = _num(report.get("cost_per_signup"))
        spent = f"{format_money(spend, currency)} spent on ads"
        if cost is not None:
            rests.append(
                Fact(f"{spent}; each signup cost {format_money(cost, currency)}.", "cost-per-signup", "cost per signup")
            )
        else:
            rests.append(Fact(f"{spent}.", "spend", "ad spend"))
    warm = _int(report.get("warm_visitors") or inputs.get("warm_visitors"))
    if warm:
        rests.append(
            Fact(
                f"{_plural(warm, 'visitor')} from your own list, friends or referrals are shown but not counted: "
                "people who know you sign up out of goodwill.",
                "warm-traffic",
                "warm traffic",
            )
        )

    steps: list[str]
    if verdict == "unhealthy":
        headline, extra, steps = _unhealthy(report, inputs)
        rests = extra + rests
    elif verdict == "not enough data":
        headline = (
            f"Too early to tell whether there is demand for {project_name}: the page needs more visitors before "
            "the numbers mean anything."
        )
        steps = _not_enough(report, currency)
    else:
        headline, steps = _scored(verdict, report, project_name)
    if any(_TOO_EARLY_TO_JUDGE in r.lower() for r in reasons) or report.get("traffic_quality") == "too early":
        rests.append(
            Fact(
                "It is too early to judge traffic quality: the page has had too few visits to tell bots from people "
                "reliably, so the bot check waits.",
                "bot-share",
                "bot share",
            )
        )

    components = tuple(_component_row(c) for c in report.get("components") or ())
    thresholds = tuple(_threshold_row(key, entry) for key, entry in (report.get("thresholds") or {}).items())
    seen: set[str] = set()
    costs = []
    nested = report.get("costs")
    figures = {**(nested if isinstance(nested, Mapping) else {}), **report}  # top-level or under "costs"
    for field, label, glossary in _COSTS:
        if field in figures and glossary not in seen:
            seen.add(glossary)
            costs.append(CostFigure(label, glossary, _num(figures[field])))
    card_rows = []
    for field, label, glossary, as_money in _CARD:
        value = _num(card.get(field))
        if value is not None:
            card_rows.append(Row(label, glossary, (format_money(value, currency) if as_money else _pct(value),)))
    return Explanation(
        verdict=verdict,
        headline=headline,
        rests_on=tuple(rests),
        next_steps=tuple(steps),
        components=components,
        thresholds=thresholds,
        costs=tuple(costs),
        card=tuple(card_rows),
        locked_by=_locked_by(card.get("locked_by")),
        criteria=tuple(plain_reason(str(line)) for line in card.get("criteria") or ()),
        bot_share=_pct(_num(inputs.get("bot_share")) or 0.0),
        rules=rule_texts(),
        notes=tuple(plain_reason(r) for r in reasons),
    )


# How the analytics name traffic outside any A/B test, and how the page does.
_OUTSIDE_TESTS: Mapping[str, str] = {"": "Outside any A/B test", "(none)": "Outside any A/B test"}


def variant_rows(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The versions of the page with their sign-up rate and its 95 % range and - with two or more versions in A/B
    tests - each one's chance to beat the baseline (the one named "control", else the first) and its expected loss
    against it, all as text ready to show. Traffic outside any test is shown, never compared.
    ``{"rows": [...], "baseline": the baseline's name or None when nothing is compared}``."""
    out = []
    versions = [row for row in rows if str(row.get("variant") or "") not in _OUTSIDE_TESTS]
    named = [row for row in versions if str(row.get("variant")).lower() == "control"]
    first = (named or versions)[0] if len(versions) > 1 else None
    for row in rows:
        visitors = _int(row.get("visitors"))
        signups = min(_int(row.get("signups")), visitors)
        low, high = wilson_interval(signups, visitors)
        beat = loss = None
        if (
            first is not None
            and row is not first
            and any(row is v for v in versions)
            and visitors
            and _int(first.get("visitors"))
        ):
            base_visitors = _int(first.get("visitors"))
            base_signups = min(_int(first.get("signups")), base_visitors)
            beat = prob_beat_control(base_signups, base_visitors, signups, visitors)
            loss = expected_loss(base_signups, base_visitors, signups, visitors)
        out.append(
            {
                "variant": _OUTSIDE_TESTS.get(str(row.get("variant") or ""), str(row.get("variant"))),
                "baseline": row is first,
                "visitors": visitors,
                "signups": signups,
                "rate": signups / visitors if visitors else None,
                "rate_text": _pct(signups / visitors) if visitors else "—",
                "interval_text": f"{_pct(low)} – {_pct(high)}" if visitors else "—",
                "beat_text": _pct(beat, 0) if beat is not None else "—",
                "loss_text": f"{loss * 100:.2f} points" if loss is not None else "—",
            }
        )
    return {
        "rows": out,
        "baseline": _OUTSIDE_TESTS.get(str(first.get("variant")), str(first.get("variant"))) if first else None,
    }
