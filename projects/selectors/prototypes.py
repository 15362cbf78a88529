"""Reads of a project's prototypes: the versions, one version, and two versions compared."""

import difflib
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from projects.analysis.money import price_tag
from projects.models import Project, Prototype
from security.sanitize import sanitize_text


def prototype_list(*, project: Project) -> QuerySet[Prototype]:
    return project.prototypes.order_by("-version")


def prototype_current(*, project: Project) -> Prototype | None:
    return project.prototypes.filter(is_current=True).first()


def prototype_get(*, project: Project, version: int) -> Prototype:
    """One version of the project's copy, or 404 (the project is already the user's own)."""
    return get_object_or_404(project.prototypes, version=version)


# --- Two versions side by side ---------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """A run of words (or lines) of one side: `change` is "" (in both), "del" (only in the
    older side) or "ins" (only in the newer side)."""

    text: str
    change: str = ""


@dataclass(frozen=True)
class FieldComparison:
    label: str
    a: list[Segment]
    b: list[Segment]
    changed: bool
    # List fields compare line by line (one feature, one tier per line); text fields word by word.
    lines: bool = False


COMPARED_FIELDS = (
    ("headline", "Headline"),
    ("subheadline", "Subheadline"),
    ("value_proposition", "Value proposition"),
    ("features", "Features"),
    ("pricing_tiers", "Pricing tiers"),
    ("call_to_action", "Call to action"),
)

_BLOCK_END = re.compile(r"</(p|li|h[1-6])>|<br\s*/?>", re.IGNORECASE)


def _tier_line(tier: dict[str, Any], currency: str) -> str:
    price = price_tag(Decimal(str(tier.get("price", "0"))), currency)
    features = "; ".join(tier.get("features", []))
    line = f"{tier.get('name', '')}: {price} / {tier.get('period', '')}"
    return f"{line} ({features})" if features else line


def _units(prototype: Prototype, field: str, currency: str) -> tuple[list[str], bool]:
    value = getattr(prototype, field)
    if field == "features":
        return [str(item) for item in value], True
    if field == "pricing_tiers":
        return [_tier_line(tier, currency) for tier in value], True
    if field == "value_proposition":
        # Compared as the text a visitor reads, paragraphs kept apart by a space.
        value = sanitize_text(_BLOCK_END.sub(" ", value))
    return str(value).split(), False


def _diff(a: list[str], b: list[str], *, lines: bool) -> tuple[list[Segment], list[Segment]]:
    """Words are joined into runs (one <del> around a changed phrase); lines stay one each."""

    def runs(units: list[str], change: str) -> list[Segment]:
        if not units:
            return []
        return [Segment(unit, change) for unit in units] if lines else [Segment(" ".join(units), change)]

    left: list[Segment] = []
    right: list[Segment] = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        same = op == "equal"
        left.extend(runs(a[a1:a2], "" if same else "del"))
        right.extend(runs(b[b1:b2], "" if same else "ins"))
    return left, right


def prototype_compare(*, project: Project, a: Prototype, b: Prototype) -> list[FieldComparison]:
    """Each field of two versions, with what only one side has marked (words of text fields,
    whole lines of lists)."""
    out = []
    for field, label in COMPARED_FIELDS:
        units_a, lines = _units(a, field, project.currency)
        units_b, _ = _units(b, field, project.currency)
        left, right = _diff(units_a, units_b, lines=lines)
        out.append(FieldComparison(label=label, a=left, b=right, changed=units_a != units_b, lines=lines))
    return out
