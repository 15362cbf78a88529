"""The bot-share gate: is the traffic a verdict counts clean enough to be trusted?

A page (or an experiment) whose share of known bots is above :data:`~projects.analysis.thresholds.BOT_SHARE_LIMIT`
is "unhealthy": its visitor counts cannot be trusted. A share is only evidence once there are enough views behind it
(``min_bot_share_views`` in :data:`~projects.analysis.thresholds.THRESHOLDS`, with its source): on day 0 a handful
of link previews would otherwise make a page "unhealthy" before any real visitor arrived. Until then the gate says
"too early to judge traffic quality" and holds nothing back.

The views judged are those that would otherwise count: people and known bots, never the founder's own looks
(preview link, or the owner or staff signed in); the caller also leaves out traffic the verdict does not count
(the demand report: warm channels).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from projects.analysis.json_ready import json_object
from projects.analysis.thresholds import BOT_SHARE_LIMIT
from projects.analysis.thresholds import value_of as _t

__all__ = ["HEALTHY", "TOO_EARLY", "UNHEALTHY", "TrafficQuality", "traffic_quality"]

TOO_EARLY = "too early"
HEALTHY = "healthy"
UNHEALTHY = "unhealthy"


@dataclass(frozen=True)
class TrafficQuality:
    """The gate's result. ``bot_share`` is None when no view was judged."""

    status: str  # TOO_EARLY, HEALTHY or UNHEALTHY
    bot_share: float | None
    views: int  # the views judged: people and known bots
    minimum_views: int  # from this many views on, the share is judged
    limit: float  # the largest healthy share
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready plain values (floats to 6 significant digits)."""
        return json_object(asdict(self))


def traffic_quality(*, bot_share: float | None, views: int) -> TrafficQuality:
    """Judge ``bot_share`` (known bots / (people + known bots)) of ``views`` views."""
    if isinstance(views, bool) or not isinstance(views, int) or views < 0:
        raise ValueError(f"views must be a non-negative integer, got {views!r}")
    if bot_share is not None and not 0.0 <= bot_share <= 1.0:
        raise ValueError(f"bot_share must be in [0, 1], got {bot_share!r}")
    minimum = int(_t("min_bot_share_views"))
    if views < minimum or bot_share is None:
        return TrafficQuality(
            TOO_EARLY,
            bot_share if views else None,
            views,
            minimum,
            BOT_SHARE_LIMIT,
            f"Too early to judge traffic quality: {views:,} of the {minimum:,} views it takes (people and known "
            "bots; your own visits are not counted) [min_bot_share_views].",
        )
    if bot_share > BOT_SHARE_LIMIT:
        return TrafficQuality(
            UNHEALTHY,
            bot_share,
            views,
            minimum,
            BOT_SHARE_LIMIT,
            f"{bot_share:.0%} of the traffic is bots ({views:,} views of people and known bots), above the "
            f"{BOT_SHARE_LIMIT:.0%} limit [max_bot_share]: the visitor counts cannot be trusted; check the ad "
            "placements for click fraud.",
        )
    return TrafficQuality(
        HEALTHY,
        bot_share,
        views,
        minimum,
        BOT_SHARE_LIMIT,
        f"{bot_share:.0%} of the traffic is bots ({views:,} views of people and known bots), within the "
        f"{BOT_SHARE_LIMIT:.0%} limit [max_bot_share].",
    )
