"""What acquisition cost: spend divided by what it bought, as the ad platforms report it (pure: no Django).

A cost per result is the spend divided by the results the spend is credited with (Google Ads' "cost per
conversion", Meta's "cost per result": https://support.google.com/google-ads/answer/6396847,
https://www.facebook.com/business/help/206346269405706), never a cost per click scaled by a conversion rate: clicks
that never reach the page (360 clicks, 350 visitors) would make every signup look cheaper than it was.

- cost per signup, per pre-order, per confirmed signup: spend / the conversions attributed to the spend;
- cost per visitor: spend / the paid visitors (the people the ads brought to the page), what the model needs where
  it reasons in visitors (the break-even conversion, the budget for more visitors);
- cost per click: spend / clicks, as the platform reports it.

No spend, no cost: a cost of 0.00 would claim signups were free when nothing was bought; and no conversion, no cost
per conversion (not infinity). Both are None.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

__all__ = ["CostCheck", "cost_check", "cost_per", "most_per_result"]

Amount = TypeVar("Amount", Decimal, float)


def cost_per(spend: Amount, results: int | None) -> Amount | None:
    """``spend / results``; None without spend or without results.

    >>> cost_per(504.0, 34)
    14.823529411764707
    >>> cost_per(Decimal("0"), 10) is None, cost_per(504.0, 0) is None
    (True, True)
    """
    if results is None or results <= 0 or not spend > 0:
        return None
    return spend / results


# --- What the price can carry --------------------------------------------------------------------

# The states of a cost set against the most the price can carry (`cost_check`).
WITHIN, OVER, NO_SPEND, NO_RESULTS, NO_BAR = "within", "over", "no_spend", "no_results", "no_bar"


@dataclass(frozen=True)
class CostCheck:
    """One cost (spend / results) beside the most it may be (None when it cannot be said), and which
    of WITHIN, OVER, NO_SPEND, NO_RESULTS or NO_BAR holds."""

    cost: Decimal | None
    most: Decimal | None
    state: str


def most_per_result(
    result: str, *, allowable_cost_per_lead: float, allowable_cac: float, signups: int, clicks: int
) -> float | None:
    """The most one `result` may cost for the price to carry it, from the test card's bars
    (`analysis.test_card`: allowable CAC = LTV / 3, allowable cost per lead = that x the share of
    signups who pay):

    - a signup, and a confirmed signup, is a lead: the allowable cost per lead;
    - a pre-order is a customer saying yes with a price on the table: the allowable CAC;
    - a click may cost what a lead may, times the signups per click this campaign gets (a click
      that costs more than that buys signups dearer than a lead may cost); unknown without clicks
      or signups.
    """
    if result in ("signup", "confirmed_signup"):
        return allowable_cost_per_lead
    if result == "preorder":
        return allowable_cac
    if result == "click":
        return allowable_cost_per_lead * signups / clicks if clicks > 0 and signups > 0 else None
    raise ValueError(f"unknown result {result!r}")


def cost_check(*, spend: Decimal, cost: Decimal | None, most: float | None, places: int) -> CostCheck:
    """`cost` (already rounded to the currency's `places`) against `most` (rounded the same way)."""
    bar = None if most is None else Decimal(repr(most)).quantize(Decimal(1).scaleb(-places))
    if not spend > 0:
        return CostCheck(None, bar, NO_SPEND)
    if cost is None:
        return CostCheck(None, bar, NO_RESULTS)
    if bar is None:
        return CostCheck(cost, None, NO_BAR)
    return CostCheck(cost, bar, WITHIN if cost <= bar else OVER)
