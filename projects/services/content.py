"""Cleaning the lists of a page's or a prototype's copy (features, pricing tiers) as every
write path stores them."""

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from security.sanitize import sanitize_text


def clean_list(values: Any, *, max_items: int, max_length: int) -> list[str]:
    if not isinstance(values, list):
        raise ValidationError("Must be a list of strings.")
    cleaned = [sanitize_text(str(v), max_length=max_length, field="list") for v in values[:max_items]]
    return [v for v in cleaned if v]


def clean_tiers(tiers: Any) -> list[dict[str, Any]]:
    if not isinstance(tiers, list):
        raise ValidationError("Must be a list of pricing tiers.")
    cleaned = []
    for tier in tiers[:4]:
        if not isinstance(tier, dict):
            raise ValidationError("Each pricing tier must be an object.")
        try:
            price = Decimal(str(tier.get("price", "0"))).quantize(Decimal("0.01"))
        except ArithmeticError as exc:
            raise ValidationError("A pricing tier's price must be a number.") from exc
        cleaned.append(
            {
                "name": sanitize_text(str(tier.get("name", "")), max_length=40, field="pricing_tiers"),
                "price": str(price),
                "period": sanitize_text(str(tier.get("period", "")), max_length=20),
                "features": clean_list(tier.get("features", []), max_items=8, max_length=140),
            }
        )
    return cleaned
