"""The versions of a page side by side, as text ready to show: each one's sign-up rate with its 95 % range and,
with two or more versions in A/B tests, its chance to beat the baseline and its expected loss against it. No Django.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from projects.analysis.bayesian import expected_loss, prob_beat_control
from projects.analysis.frequentist import wilson_interval
from projects.analysis.plain_figures import as_count, percent

__all__ = ["variant_rows"]

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
        visitors = as_count(row.get("visitors"))
        signups = min(as_count(row.get("signups")), visitors)
        low, high = wilson_interval(signups, visitors)
        beat = loss = None
        if (
            first is not None
            and row is not first
            and any(row is v for v in versions)
            and visitors
            and as_count(first.get("visitors"))
        ):
            base_visitors = as_count(first.get("visitors"))
            base_signups = min(as_count(first.get("signups")), base_visitors)
            beat = prob_beat_control(base_signups, base_visitors, signups, visitors)
            loss = expected_loss(base_signups, base_visitors, signups, visitors)
        out.append(
            {
                "variant": _OUTSIDE_TESTS.get(str(row.get("variant") or ""), str(row.get("variant"))),
                "baseline": row is first,
                "visitors": visitors,
                "signups": signups,
                "rate": signups / visitors if visitors else None,
                "rate_text": percent(signups / visitors) if visitors else "—",
                "interval_text": f"{percent(low)} – {percent(high)}" if visitors else "—",
                "beat_text": percent(beat, 0) if beat is not None else "—",
                "loss_text": f"{loss * 100:.2f} points" if loss is not None else "—",
            }
        )
    return {
        "rows": out,
        "baseline": _OUTSIDE_TESTS.get(str(first.get("variant")), str(first.get("variant"))) if first else None,
    }
