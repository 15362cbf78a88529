"""Cleaning a page's or a prototype's copy as every write path stores it: the fields of a page (or
of a page variant, or of an experiment arm built from one) and the lists (features, pricing tiers)."""

import re
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.text import slugify

from projects.models.pages import FontPairing
from security.sanitize import sanitize_html, sanitize_text

# The page's lists, as every write path stores them (longer lists are cut, not refused).
MAX_FEATURES = 8
FEATURE_MAX_LENGTH = 140
MAX_PRICING_TIERS = 4  # as many as `clean_tiers` keeps
ACCENT_COLOR_RE = re.compile(r"^#[0-9a-f]{6}$")


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


def clean_page_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Each given field cleaned as every write of a page (or of a variant) stores it, or
    ValidationError keyed by field."""
    cleaned = dict(data)
    for name, length in (
        ("headline", 120),
        ("subheadline", 240),
        ("cta_text", 60),
        ("qualifying_question", 200),
        ("consent_text", 200),
    ):
        if name in cleaned:
            cleaned[name] = sanitize_text(cleaned[name], max_length=length, field=name)
    if "value_proposition" in cleaned:
        cleaned["value_proposition"] = sanitize_html(
            cleaned["value_proposition"], max_length=2000, field="value_proposition"
        )
    if "features" in cleaned:
        cleaned["features"] = clean_list(cleaned["features"], max_items=MAX_FEATURES, max_length=FEATURE_MAX_LENGTH)
    if "pricing_tiers" in cleaned:
        cleaned["pricing_tiers"] = clean_tiers(cleaned["pricing_tiers"])
    if "slug" in cleaned:
        cleaned["slug"] = slugify(cleaned["slug"])[:80]
    if "accent_color" in cleaned:
        # The public page puts it in a stylesheet: only "#rrggbb" ever gets there.
        color = str(cleaned["accent_color"] or "").strip().lower()
        if not ACCENT_COLOR_RE.match(color):
            raise ValidationError({"accent_color": ["Enter a colour as # and six hex digits, e.g. #2563eb."]})
        cleaned["accent_color"] = color
    if "font_pairing" in cleaned and cleaned["font_pairing"] not in FontPairing.values:
        raise ValidationError({"font_pairing": ["Choose one of the font pairings offered."]})
    return cleaned
