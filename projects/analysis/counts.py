"""Validation of the plain values the analysis takes: conversion counts and finite numbers."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["check_counts", "finite_number"]


def check_counts(conversions: int, visitors: int) -> None:
    """ValueError unless 0 <= conversions <= visitors."""
    if visitors < 0 or conversions < 0:
        raise ValueError(f"counts must be non-negative, got conversions={conversions}, visitors={visitors}")
    if conversions > visitors:
        raise ValueError(f"conversions ({conversions}) cannot exceed visitors ({visitors})")


def finite_number(name: str, value: Any) -> float:
    """``value`` as a float; ValueError naming ``name`` unless it is a finite int or float."""
    # bool is an int subclass: True as a margin is a bug, not 1.0.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)
