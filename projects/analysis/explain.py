"""The demand report in a founder's words: the verdict in one sentence, what it rests on and what to do next.

The verdict's ``reasons`` (:mod:`projects.analysis.score`) stay as they are for the API: they cite the thresholds
by key (``[max_bot_share]``) and name the score's components (``signup pull``) so a client or an auditor can trace
every figure. A founder who is not a statistician reads this instead, on the report page: plain sentences built
from the same report fields, each statistic tied to a glossary entry (``glossary``: the anchor of its entry on the
page, ``#g-<glossary>``). Pure standard-library Python, no Django; the input is the report as
:func:`projects.selectors.reports.project_report` returns it (plain values), read defensively so a field added or
left out by a newer report still renders. The reasons are rewritten by :mod:`projects.analysis.plain_reasons`, the
tables built by :mod:`projects.analysis.report_rows`; the versions of a page are compared in
:mod:`projects.analysis.variant_table`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from projects.analysis.money import format_money
from projects.analysis.plain_figures import as_count, as_number, chance, percent, plural
from projects.analysis.plain_reasons import COMPONENT_TERMS, plain_reason
from projects.analysis.report_rows import (
    CostFigure,
    Row,
    card_rows,
    component_row,
    cost_figures,
    rule_texts,
    threshold_row,
)
from projects.analysis.thresholds import THRESHOLDS

__all__ = ["Explanation", "Fact", "explain"]

_TOO_EARLY_TO_JUDGE = "too early to judge traffic quality"


@dataclass(frozen=True)
class Fact:
    """A sentence of what the verdict rests on, and the glossary entry of the figure it turns on."""

    text: str
    glossary: str
    term: str  # the figure's name, for the link's accessible label


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


def _threshold(key: str) -> float | None:
    entry = THRESHOLDS.get(key)
    return float(entry.value) if entry is not None else None


def _unhealthy(report: Mapping[str, Any], inputs: Mapping[str, Any]) -> tuple[str, list[Fact], list[str]]:
    limit = _threshold("max_bot_share")
    bots = as_number(inputs.get("bot_share"))
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
        causes.append(f"{percent(bots, 0)} of the visits came from bots")
        rests.append(
            Fact(
                f"{percent(bots, 0)} of the page's visits were made by bots; above {percent(limit, 0)} the visitor and "
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
    visitors = as_count(report.get("visitors_needed"))
    signups = as_count(report.get("signups_needed"))
    days = as_number(report.get("days_needed"))
    budget = as_number(report.get("budget_needed"))
    if visitors:
        pieces.append(plural(visitors, "more cold visitor"))
    if signups:
        pieces.append(plural(signups, "more signup"))
    if days:
        pieces.append(f"about {plural(math.ceil(days), 'more day')}")
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
        probability = as_number(weakest.get("probability")) if weakest else None
        held = f" (its chance of clearing its bar: {chance(probability)})" if probability is not None else ""
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


def explain(report: Mapping[str, Any], *, project_name: str) -> Explanation:
    """The founder's reading of a report (see the module docstring)."""
    verdict = str(report.get("verdict") or "")
    inputs: Mapping[str, Any] = report.get("inputs") or {}
    card: Mapping[str, Any] = report.get("test_card") or {}
    currency = str(card.get("currency") or "")
    reasons = [str(r) for r in report.get("reasons") or ()]

    visitors, signups = as_count(inputs.get("visitors")), as_count(inputs.get("signups"))
    days = as_number(inputs.get("days")) or 0.0
    rate = f" ({percent(signups / visitors)})" if visitors else ""
    rests = [
        Fact(
            f"{plural(visitors, 'cold visitor')} (people who did not know you before) in "
            f"{plural(math.floor(days), 'day')} since launch; {plural(signups, 'of them', 'of them')} signed "
            f"up{rate}.",
            "conversion-rate",
            "sign-up rate",
        )
    ]
    if inputs.get("preorders") is not None:
        preorders = plural(as_count(inputs.get("preorders")), "signup")
        rests.append(Fact(f"{preorders} also pre-ordered.", "pre-order-rate", "pre-order rate"))
    if inputs.get("confirmed") is not None:
        confirmed = plural(as_count(inputs.get("confirmed")), "signup")
        rests.append(Fact(f"{confirmed} confirmed their email address.", "confirmation-rate", "confirmation rate"))
    spend = as_number(inputs.get("spend"))
    if spend:
        cost = as_number(report.get("cost_per_signup"))
        spent = f"{format_money(spend, currency)} spent on ads"
        if cost is not None:
            rests.append(
                Fact(f"{spent}; each signup cost {format_money(cost, currency)}.", "cost-per-signup", "cost per signup")
            )
        else:
            rests.append(Fact(f"{spent}.", "spend", "ad spend"))
    warm = as_count(report.get("warm_visitors") or inputs.get("warm_visitors"))
    if warm:
        rests.append(
            Fact(
                f"{plural(warm, 'visitor')} from your own list, friends or referrals are shown but not counted: "
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

    return Explanation(
        verdict=verdict,
        headline=headline,
        rests_on=tuple(rests),
        next_steps=tuple(steps),
        components=tuple(component_row(c) for c in report.get("components") or ()),
        thresholds=tuple(threshold_row(key, entry) for key, entry in (report.get("thresholds") or {}).items()),
        costs=cost_figures(report),
        card=card_rows(card, currency),
        locked_by=_locked_by(card.get("locked_by")),
        criteria=tuple(plain_reason(str(line)) for line in card.get("criteria") or ()),
        bot_share=percent(as_number(inputs.get("bot_share")) or 0.0),
        rules=rule_texts(),
        notes=tuple(plain_reason(r) for r in reasons),
    )
