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

from decimal import Decimal
from typing import TypeVar

__all__ = ["cost_per"]

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
