"""What the demand score reads: the counts of one page since launch (:class:`Inputs`)."""

from __future__ import annotations

from dataclasses import dataclass

from projects.analysis.costs import cost_per
from projects.analysis.counts import finite_number

__all__ = ["Inputs"]


@dataclass(frozen=True)
class Inputs:
    """Counts of one page since launch.

    ``visitors``/``signups`` and the shares built on them are *cold* traffic only: human visitors from the card's
    channel (identified bots and the founder's own visits excluded). ``confirmed`` (confirmed address or qualifying
    answer) and ``preorders`` are subsets of those signups; None means "not measured" (no confirmation step, no
    pre-order button) and removes the component rather than scoring it 0. Warm traffic - the founder's list,
    referrals, friends - goes in ``warm_*``; ``referred_visitors`` is the part of it that came by word of mouth.
    Cost per click: ``cost_per_click`` if given, else ``spend / clicks``, else ``spend / visitors`` (a paid visitor
    is a click). ``bot_share`` is the share of known bots among ``traffic_views``, the cold views of people and
    known bots (never the founder's); it is judged from ``min_bot_share_views`` views on
    (:mod:`projects.analysis.traffic_quality`). ``traffic_views`` None: the cold visitors stand for it.

    ``paid_visitors`` and ``paid_*`` are the part of the cold counts the ad spend is credited with (the campaigns'
    visitors and their signups, pre-orders and confirmed signups); None means every cold visitor came by the ads.
    The costs follow :mod:`projects.analysis.costs`: per signup, pre-order or confirmed signup is spend / those
    attributed conversions, per visitor is spend / paid visitors.
    """

    days: float
    visitors: int
    signups: int
    confirmed: int | None = None
    preorders: int | None = None
    warm_visitors: int = 0
    warm_signups: int = 0
    referred_visitors: int = 0
    spend: float = 0.0
    clicks: int | None = None
    cost_per_click: float | None = None
    srm_unhealthy: bool = False
    bot_share: float = 0.0
    traffic_views: int | None = None
    paid_visitors: int | None = None
    paid_signups: int | None = None
    paid_preorders: int | None = None
    paid_confirmed: int | None = None

    def __post_init__(self) -> None:
        counts = {
            "visitors": self.visitors,
            "signups": self.signups,
            "confirmed": self.confirmed,
            "preorders": self.preorders,
            "warm_visitors": self.warm_visitors,
            "warm_signups": self.warm_signups,
            "referred_visitors": self.referred_visitors,
            "clicks": self.clicks,
            "traffic_views": self.traffic_views,
            "paid_visitors": self.paid_visitors,
            "paid_signups": self.paid_signups,
            "paid_preorders": self.paid_preorders,
            "paid_confirmed": self.paid_confirmed,
        }
        for name, value in counts.items():
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        for part, whole in (
            ("signups", "visitors"),
            ("confirmed", "signups"),
            ("preorders", "signups"),
            ("warm_signups", "warm_visitors"),
            ("referred_visitors", "warm_visitors"),
            ("paid_signups", "paid_visitors"),
        ):
            part_count, whole_count = counts[part], counts[whole]
            if part_count is not None and whole_count is not None and part_count > whole_count:
                raise ValueError(f"{part} ({part_count}) cannot exceed {whole} ({whole_count})")
        if finite_number("days", self.days) < 0.0:
            raise ValueError(f"days must be >= 0, got {self.days!r}")
        if finite_number("spend", self.spend) < 0.0:
            raise ValueError(f"spend must be >= 0, got {self.spend!r}")
        if self.cost_per_click is not None and not finite_number("cost_per_click", self.cost_per_click) > 0.0:
            raise ValueError(f"cost_per_click must be > 0, got {self.cost_per_click!r}")
        if not 0.0 <= finite_number("bot_share", self.bot_share) <= 1.0:
            raise ValueError(f"bot_share must be in [0, 1], got {self.bot_share!r}")
        if self.bot_share and not self.judged_views:
            raise ValueError(f"bot_share {self.bot_share!r} is a share of no views: give traffic_views")
        if not isinstance(self.srm_unhealthy, bool):
            raise ValueError(f"srm_unhealthy must be a bool, got {self.srm_unhealthy!r}")

    @property
    def judged_views(self) -> int:
        """The views the bot share is a share of (``traffic_views``, else the cold visitors)."""
        return self.traffic_views if self.traffic_views is not None else self.visitors

    @property
    def paid(self) -> bool:
        return self.spend > 0.0

    @property
    def observed_cpc(self) -> float | None:
        if self.cost_per_click is not None:
            return float(self.cost_per_click)
        if self.spend > 0.0 and self.clicks:
            return self.spend / self.clicks
        if self.spend > 0.0 and self.visitors:
            return self.spend / self.visitors
        return None

    @property
    def attributed_visitors(self) -> int:
        """The visitors the spend bought: the paid visitors, or every cold visitor when they are not told apart."""
        return self.visitors if self.paid_visitors is None else self.paid_visitors

    @property
    def attributed_signups(self) -> int:
        return self.signups if self.paid_signups is None else self.paid_signups

    @property
    def cost_per_visitor(self) -> float | None:
        """Spend / paid visitors (not per click: a click that never reached the page brought no one)."""
        return cost_per(self.spend, self.attributed_visitors)

    @property
    def cost_per_signup(self) -> float | None:
        """Spend / attributed signups."""
        return cost_per(self.spend, self.attributed_signups)

    @property
    def cost_per_preorder(self) -> float | None:
        """Spend / attributed pre-orders (None when pre-orders are not measured)."""
        return cost_per(self.spend, self.preorders if self.paid_preorders is None else self.paid_preorders)

    @property
    def cost_per_confirmed_signup(self) -> float | None:
        """Spend / attributed confirmed signups (None when confirmations are not tracked)."""
        return cost_per(self.spend, self.confirmed if self.paid_confirmed is None else self.paid_confirmed)
