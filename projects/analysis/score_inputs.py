"""What the demand score reads: the counts of one page since launch (:class:`Inputs`)."""

from __future__ import annotations

from dataclasses import dataclass

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
