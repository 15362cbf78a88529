"""The sentence an experiment's results screen leads with: what the figures say, in a founder's words.

It reads the results as `projects.selectors.experiments.experiment_results` returns them (the API's
``/api/experiments/<id>/results``: plain values) and the arms' names, and says, in order of what matters:
a health problem (too many bots, a broken split) before any verdict, since the figures cannot be trusted
then; then the verdict (a winner, the page wins, no clear difference); then, while collecting, either
"too early" (an arm below the minimum visitors) or which arm is ahead and how much longer it takes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from projects.analysis.thresholds import MIN_CONVERSIONS_PER_VARIANT, MIN_DAYS, MIN_VISITORS_PER_VARIANT

__all__ = ["Lead", "about", "count", "lead_sentence", "percent", "rate"]


@dataclass(frozen=True)
class Lead:
    # "bad" (no verdict: a health problem), "ok" (safe to call), "warn" (keep going), "neutral".
    tone: str
    headline: str  # the first words, shown strong: "Variant B is ahead"
    text: str  # the rest of the sentence

    @property
    def sentence(self) -> str:
        return f"{self.headline}: {self.text}"


def about(n: float) -> str:
    """A count as a founder reads an estimate: two significant figures, thousands separated
    (1,284 -> "1,300"; 87 -> "87"; 0 -> "0")."""
    value = max(0, math.ceil(n))
    if value < 100:
        return f"{value:,}"
    unit = 10 ** (len(str(value)) - 2)
    return f"{(value + unit // 2) // unit * unit:,}"  # half up: Python's round() would give 1,250 -> 1,200


def percent(share: float) -> str:
    """A probability or a share in whole percent, never "100%" or "0%" for what is not certain."""
    value = round(share * 100)
    if value >= 100 and share < 1.0:
        return ">99%"
    if value <= 0 < share:
        return "<1%"
    return f"{value}%"


def rate(share: float) -> str:
    """A sign-up rate to one decimal: "4.2%"."""
    return f"{share * 100:.1f}%"


def count(n: float) -> str:
    """A whole count with thousands separated: "1,284"."""
    return f"{round(n):,}"


def _days(days: float) -> str:
    whole = max(1, math.ceil(days))
    return f"about {whole} day{'s' if whole != 1 else ''}"


def _visitors(n: int) -> str:
    return f"{n:,} visitor{'s' if n != 1 else ''}"


def lead_sentence(results: dict[str, Any], names: dict[str, str]) -> Lead:
    """The lead of the results screen. ``names`` maps each arm's key to what the founder calls it
    ("The page", "Variant B"); an arm missing from it is called by its key."""
    arms: list[dict[str, Any]] = results["arms"]
    health = results.get("health") or {}
    decision = results.get("decision") or {}
    srm = results.get("srm") or {}

    def name(key: str) -> str:
        return names.get(key) or key.upper()

    control = next(arm for arm in arms if arm["is_control"])
    challengers = [arm for arm in arms if not arm["is_control"]]
    total = sum(arm["visitors"] for arm in arms)

    if health.get("too_many_bots"):
        share = health.get("bot_share") or 0.0
        return Lead(
            "bad",
            "Too many bots",
            f"{percent(share)} of the views are known bots (the limit is {percent(health['bot_share_limit'])}), "
            "so these figures may not describe people. No verdict until the bot traffic stops.",
        )
    if srm.get("unhealthy"):
        return Lead(
            "bad",
            "The split is off",
            "visitors did not arrive in the shares you set (the sample-ratio check failed), so a bug is "
            "favouring one version: a redirect, a cache or a link straight to one arm. The figures cannot be "
            "trusted; fix the cause and start a new experiment.",
        )
    status = decision.get("status")
    if status == "winner" and decision.get("winner"):
        best = next(arm for arm in arms if arm["key"] == decision["winner"])
        return Lead(
            "ok",
            f"{name(best['key'])} wins",
            f"{percent(best['prob_beat_control'] or 0.0)} chance it converts better than {name(control['key']).lower()}"
            f" ({best['lift']:+.0%} sign-ups), and it is safe to call.",
        )
    if status == "loser":
        return Lead(
            "ok",
            f"{name(control['key'])} wins",
            "every variant converts worse than it, and it is safe to call: keep the page as it is.",
        )
    if status == "no_difference":
        per_arm = min(arm["visitors"] for arm in arms)
        return Lead(
            "neutral",
            "No clear difference",
            f"after {per_arm:,} visitors per arm, a lift of {percent(results['mde_relative'])} or more is unlikely. "
            "Keep the simpler page, or test a bolder change.",
        )
    if total == 0:
        return Lead(
            "neutral",
            "No visitors yet",
            "the figures start with the first visitors of the page"
            + (" once the experiment is started." if results.get("status") == "draft" else "."),
        )
    low = min(arm["visitors"] for arm in arms)
    if low < MIN_VISITORS_PER_VARIANT:
        return Lead(
            "neutral",
            "Too early",
            f"{_visitors(total)} so far. A verdict needs at least {MIN_VISITORS_PER_VARIANT} visitors and "
            f"{MIN_CONVERSIONS_PER_VARIANT} sign-ups in each arm, over at least {MIN_DAYS} days.",
        )
    leader = max(challengers, key=lambda arm: arm["prob_beat_control"] or 0.0)
    chance = leader["prob_beat_control"] or 0.0
    remaining = _remaining(results, arms)
    if chance >= 0.5:
        head = f"{name(leader['key'])} is ahead"
        what = f"{percent(chance)} chance it converts better than {name(control['key']).lower()}"
    else:
        head = f"{name(control['key'])} is ahead"
        what = f"{percent(1.0 - chance)} chance it converts better than {name(leader['key'])}"
    return Lead("warn", head, f"{what}, {remaining}, before it is safe to call.")


def _remaining(results: dict[str, Any], arms: list[dict[str, Any]]) -> str:
    """How much longer: visitors still missing in the arms, and the days at today's traffic."""
    needed = results.get("sample_size_per_variant")
    days = results.get("days_to_decision")
    parts: list[str] = []
    if needed is not None:
        missing = sum(max(0, needed - arm["visitors"]) for arm in arms)
        if missing:
            parts.append(f"about {about(missing)} more visitors")
    if days is not None and days > 0:
        parts.append(f"{_days(days)} at today's traffic")
    if not parts:
        low_signups = min(arm["conversions"] for arm in arms)
        if low_signups < MIN_CONVERSIONS_PER_VARIANT:
            return f"at least {MIN_CONVERSIONS_PER_VARIANT} sign-ups in each arm still to come"
        return "more visitors still to come"
    return ", ".join(parts)
