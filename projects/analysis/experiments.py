"""The results of a landing-page A/B experiment (2-5 variants, conversion = a visitor who signed up).

:func:`analyse`, the entry point of the experiment results API, combines every figure of
:mod:`projects.analysis.frequentist`, :mod:`~projects.analysis.bayesian`, :mod:`~projects.analysis.sequential` and
:mod:`~projects.analysis.planning` into a verdict; the gates and significance levels it applies are in
:mod:`projects.analysis.thresholds`. The test suite (tests/projects/analysis/test_experiments.py) checks each
figure against scipy / statsmodels.

Conventions: "control" is the arm the founder already has; lifts and z statistics are variant minus control, so a
positive value always means the variant converts better.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from projects.analysis.bayesian import best_arms, expected_loss, prob_beat_control
from projects.analysis.counts import check_counts
from projects.analysis.frequentist import holm, relative_lift, two_proportion_ztest, wilson_interval
from projects.analysis.json_ready import json_object
from projects.analysis.planning import days_to_decision, sample_size_per_variant, srm_test
from projects.analysis.sequential import always_valid_p, sequential_decision
from projects.analysis.thresholds import MIN_CONVERSIONS_PER_VARIANT, MIN_DAYS, MIN_VISITORS_PER_VARIANT, SRM_ALPHA

__all__ = ["Analysis", "Arm", "ArmResult", "Decision", "Gate", "Gates", "SrmResult", "analyse"]


@dataclass(frozen=True)
class Arm:
    key: str  # variant key, e.g. "control", "b"
    weight: float  # planned share of traffic (any positive numbers; normalised)
    visitors: int
    conversions: int
    is_control: bool


@dataclass(frozen=True)
class ArmResult:
    """Figures for one arm; the "vs control" fields are None on the control arm itself."""

    key: str
    is_control: bool
    weight_share: float
    visitors: int
    conversions: int
    rate: float | None
    wilson_low: float
    wilson_high: float
    # Pairwise exact P(rate_arm > rate_control); for every arm count this is a two-arm comparison, so it is exact.
    prob_beat_control: float | None
    # P(this arm has the highest rate of all): exact for two arms, numerical integration (within 1e-5) for more.
    prob_best: float
    # E[max over arms of rate - rate of this arm]: exact for two arms, numerical integration for more.
    expected_loss: float
    lift: float | None = None
    lift_low: float | None = None
    lift_high: float | None = None
    z: float | None = None
    p_value: float | None = None
    p_value_holm: float | None = None
    always_valid_p: float | None = None
    always_valid_p_holm: float | None = None


@dataclass(frozen=True)
class SrmResult:
    statistic: float
    p_value: float
    unhealthy: bool


@dataclass(frozen=True)
class Gate:
    required: float
    actual: float
    met: bool


@dataclass(frozen=True)
class Gates:
    min_visitors_per_variant: Gate
    min_conversions_per_variant: Gate
    min_days: Gate
    enough_data: bool


@dataclass(frozen=True)
class Decision:
    # "unhealthy" | "collecting" | "winner" | "loser" | "no_difference" (see analyse()).
    status: str
    winner: str | None
    reason: str


@dataclass(frozen=True)
class Analysis:
    arms: tuple[ArmResult, ...]
    srm: SrmResult
    gates: Gates
    mde_relative: float
    sample_size_per_variant: int | None
    days_to_decision: float | None
    decision: Decision

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready plain values: floats to 6 significant digits, NaN/inf (never expected) as None."""
        return json_object(asdict(self))


def _validate_arms(arms: list[Arm]) -> None:
    if not 2 <= len(arms) <= 5:
        raise ValueError(f"an experiment has 2 to 5 arms, got {len(arms)}")
    if sum(1 for arm in arms if arm.is_control) != 1:
        raise ValueError("exactly one arm must be the control")
    if len({arm.key for arm in arms}) != len(arms):
        raise ValueError("arm keys must be unique")
    for arm in arms:
        check_counts(arm.conversions, arm.visitors)
        if not (arm.weight > 0.0 and math.isfinite(arm.weight)):
            raise ValueError(f"arm {arm.key!r}: weight must be a positive number")


def analyse(
    arms: list[Arm],
    *,
    days_running: float,
    visitors_per_day: float | None = None,
    mde_relative: float = 0.2,
    previous_always_valid_p: dict[str, float] | None = None,
) -> Analysis:
    """Every figure of the results page and a verdict.

    ``visitors_per_day`` is the page's total traffic; when omitted it is estimated as visitors so far / days running.
    ``previous_always_valid_p`` maps variant key -> always-valid p of the previous look (the value returned in
    ``arms[i].always_valid_p``) so the p-value never goes back up.

    Decision, in order (sequential p-values are Holm-adjusted across variants when there are 2+ variants):

    * ``unhealthy``: SRM p < SRM_ALPHA - the split is broken, so no verdict of any kind is given;
    * ``collecting``: a minimum-data gate is not met;
    * ``winner``: at least one variant has adjusted always-valid p <= 0.05 and a positive lift; the best such
      variant (highest rate) is ``winner``;
    * ``loser``: every variant has adjusted always-valid p <= 0.05 and a negative lift - keep the control;
    * ``no_difference``: nothing above, and every arm has reached the planned sample size for the MDE (or no
      sample size can be planned because the control rate leaves no room for the MDE) - an effect as large as the
      MDE is unlikely, stop the test;
    * ``collecting`` otherwise (gates met, no decisive result yet, planned sample size not reached).
    """
    _validate_arms(arms)
    if days_running < 0.0:
        raise ValueError("days_running must be >= 0")
    if not mde_relative > 0.0:
        raise ValueError("mde_relative must be > 0")
    previous = previous_always_valid_p or {}

    control = next(arm for arm in arms if arm.is_control)
    variants = [arm for arm in arms if not arm.is_control]
    weight_sum = math.fsum(arm.weight for arm in arms)

    # Bayesian "best arm" figures: exact for two arms, one numerical integration for more.
    counts = [(arm.conversions, arm.visitors) for arm in arms]
    if len(arms) == 2:
        first, second = counts
        p_second = prob_beat_control(first[0], first[1], second[0], second[1])
        best_probs = [1.0 - p_second, p_second]
        losses = [expected_loss(second[0], second[1], first[0], first[1]), expected_loss(*first, *second)]
    else:
        best_probs, losses = best_arms(counts)

    # Pairwise comparisons with control, then Holm across variants for both kinds of p-value.
    pairwise: dict[str, dict[str, float | None]] = {}
    for arm in variants:
        z, p_value = two_proportion_ztest(control.conversions, control.visitors, arm.conversions, arm.visitors)
        lift = relative_lift(control.conversions, control.visitors, arm.conversions, arm.visitors)
        pairwise[arm.key] = {
            "lift": lift.lift,
            "lift_low": lift.low,
            "lift_high": lift.high,
            "z": z,
            "p_value": p_value,
            "prob_beat_control": prob_beat_control(
                control.conversions, control.visitors, arm.conversions, arm.visitors
            ),
            "always_valid_p": always_valid_p(
                control.conversions,
                control.visitors,
                arm.conversions,
                arm.visitors,
                previous=previous.get(arm.key),
            ),
        }
    keys = [arm.key for arm in variants]
    for field, adjusted_field in (("p_value", "p_value_holm"), ("always_valid_p", "always_valid_p_holm")):
        raw = [pairwise[k][field] for k in keys]
        for k, value in zip(keys, holm([v for v in raw if v is not None]), strict=True):
            pairwise[k][adjusted_field] = value

    results: list[ArmResult] = []
    for index, arm in enumerate(arms):
        low, high = wilson_interval(arm.conversions, arm.visitors)
        extra = pairwise.get(arm.key, {})
        results.append(
            ArmResult(
                key=arm.key,
                is_control=arm.is_control,
                weight_share=arm.weight / weight_sum,
                visitors=arm.visitors,
                conversions=arm.conversions,
                rate=arm.conversions / arm.visitors if arm.visitors else None,
                wilson_low=low,
                wilson_high=high,
                prob_beat_control=extra.get("prob_beat_control"),
                prob_best=best_probs[index],
                expected_loss=losses[index],
                lift=extra.get("lift"),
                lift_low=extra.get("lift_low"),
                lift_high=extra.get("lift_high"),
                z=extra.get("z"),
                p_value=extra.get("p_value"),
                p_value_holm=extra.get("p_value_holm"),
                always_valid_p=extra.get("always_valid_p"),
                always_valid_p_holm=extra.get("always_valid_p_holm"),
            )
        )

    statistic, srm_p = srm_test([arm.visitors for arm in arms], [arm.weight for arm in arms])
    srm = SrmResult(statistic=statistic, p_value=srm_p, unhealthy=srm_p < SRM_ALPHA)

    min_visitors = min(arm.visitors for arm in arms)
    min_conversions = min(arm.conversions for arm in arms)
    gate_visitors = Gate(MIN_VISITORS_PER_VARIANT, min_visitors, min_visitors >= MIN_VISITORS_PER_VARIANT)
    gate_conversions = Gate(
        MIN_CONVERSIONS_PER_VARIANT, min_conversions, min_conversions >= MIN_CONVERSIONS_PER_VARIANT
    )
    gate_days = Gate(MIN_DAYS, days_running, days_running >= MIN_DAYS)
    gates = Gates(
        min_visitors_per_variant=gate_visitors,
        min_conversions_per_variant=gate_conversions,
        min_days=gate_days,
        enough_data=gate_visitors.met and gate_conversions.met and gate_days.met,
    )

    # Planning at the control's observed rate; undefined when that rate leaves no room for the MDE (0 % or a lift
    # that would exceed 100 %).
    needed: int | None = None
    if control.visitors > 0:
        control_rate = control.conversions / control.visitors
        if control_rate > 0.0 and control_rate * (1.0 + mde_relative) < 1.0:
            needed = sample_size_per_variant(control_rate, mde_relative)
    total_visitors = sum(arm.visitors for arm in arms)
    if visitors_per_day is None and days_running > 0.0:
        visitors_per_day = total_visitors / days_running
    days_left = days_to_decision(
        needed,
        [arm.visitors for arm in arms],
        visitors_per_day or 0.0,
        len(arms),
        weights=[arm.weight for arm in arms],
        # The minimum run is part of the decision: 0.34 days of traffic left at day 1 is still 6 days to wait.
        min_days_left=max(0.0, MIN_DAYS - days_running),
    )

    decision = _decide(results, srm, gates, needed, days_left, mde_relative)
    return Analysis(
        arms=tuple(results),
        srm=srm,
        gates=gates,
        mde_relative=mde_relative,
        sample_size_per_variant=needed,
        days_to_decision=days_left,
        decision=decision,
    )


def _decide(
    results: list[ArmResult],
    srm: SrmResult,
    gates: Gates,
    needed: int | None,
    days_left: float | None,
    mde_relative: float,
) -> Decision:
    if srm.unhealthy:
        return Decision(
            "unhealthy",
            None,
            f"Traffic split does not match the plan (sample ratio mismatch, p = {srm.p_value:.2g} < {SRM_ALPHA}). "
            "Results are not trustworthy; fix the split and restart the experiment.",
        )
    if not gates.enough_data:
        missing = []
        if not gates.min_visitors_per_variant.met:
            missing.append(f"at least {MIN_VISITORS_PER_VARIANT} visitors per variant")
        if not gates.min_conversions_per_variant.met:
            missing.append(f"at least {MIN_CONVERSIONS_PER_VARIANT} sign-ups per variant")
        if not gates.min_days.met:
            missing.append(f"at least {MIN_DAYS} days of traffic")
        return Decision("collecting", None, "Not enough data yet: needs " + ", ".join(missing) + ".")

    variants = [r for r in results if not r.is_control]
    significant = [
        r
        for r in variants
        if r.always_valid_p_holm is not None and sequential_decision(r.always_valid_p_holm) and r.lift is not None
    ]
    better = [r for r in significant if r.lift is not None and r.lift > 0]
    if better:
        best = max(better, key=lambda r: (r.rate or 0.0, r.prob_best))
        return Decision(
            "winner",
            best.key,
            f"Variant {best.key!r} converts better than control (lift {best.lift:+.1%}, always-valid p = "
            f"{best.always_valid_p_holm:.2g} after Holm adjustment).",
        )
    worse = [r for r in significant if r.lift is not None and r.lift < 0]
    if len(worse) == len(variants):
        return Decision(
            "loser",
            None,
            "Every variant converts significantly worse than control: keep the control page.",
        )
    if needed is None:
        return Decision(
            "no_difference",
            None,
            f"No significant difference, and the control's conversion rate leaves no room for a {mde_relative:.0%} "
            "lift, so more traffic is unlikely to change that.",
        )
    if all(r.visitors >= needed for r in results):
        return Decision(
            "no_difference",
            None,
            f"Planned sample size reached without a significant difference: a lift of {mde_relative:.0%} or more is "
            "unlikely. Keep the simpler page or test a bolder change.",
        )
    eta = f" (about {math.ceil(days_left)} more days at current traffic)" if days_left is not None else ""
    return Decision(
        "collecting",
        None,
        f"No significant difference yet; keep the test running until {needed} visitors per variant{eta}.",
    )
