"""Reads of page variants (the page comes from an owner-scoped selector first)."""

import copy
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from projects.models.pages import VARIANT_FIELDS, LandingPage, PageVariant


def variant_list(*, page: LandingPage) -> QuerySet[PageVariant]:
    return PageVariant.objects.filter(page=page).order_by("key")


def variant_get(*, page: LandingPage, key: str) -> PageVariant:
    variant = get_object_or_404(PageVariant.objects.filter(page=page), key=key)
    variant.page = page  # the caller's (owner-checked) copy, with its project loaded
    return variant


def variant_values(*, page: LandingPage, variant: PageVariant) -> dict[str, Any]:
    """What the variant shows of each field it may change: its override, or the page's value."""
    values = {name: getattr(page, name) for name in VARIANT_FIELDS}
    for name, value in variant.overrides.items():
        if name in values:
            values[name] = Decimal(value) if name == "preorder_price" and value is not None else value
    return values


def variant_as_page(*, page: LandingPage, values: dict[str, Any]) -> LandingPage:
    """An unsaved copy of the page showing `values` (a variant's): what its preview renders."""
    shown = copy.copy(page)
    for name, value in values.items():
        setattr(shown, name, value)
    return shown
