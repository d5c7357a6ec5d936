"""Estimates with their intervals as the console and plain-text records write them.

``0.812 (0.771-0.850)``; with a negative bound ``-0.265 to 1.463``, since a dash between
negative numbers reads as a minus sign (``0.1--0.2``). The cards and reports follow the
same rule in their language (:meth:`clinai.reporting._format.NumberFormatter.ci`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["estimate_text", "interval_text"]


def interval_text(low: float, high: float) -> str:
    """Return ``0.771-0.850``, or ``-0.265 to 1.463`` when a printed bound is negative."""
    low_text, high_text = f"{low:.3f}", f"{high:.3f}"
    separator = " to " if low_text.startswith("-") or high_text.startswith("-") else "-"
    return f"{low_text}{separator}{high_text}"


def estimate_text(value: Any, *, missing: str = "n/a", no_interval: str = "") -> str:
    """Return ``0.812 (0.771-0.850)`` for an ``{"estimate", "ci_low", "ci_high"}`` mapping.

    A bare number is written alone; ``missing`` stands for no estimate, and
    ``no_interval`` follows an estimate whose interval could not be given.
    """
    if not isinstance(value, Mapping):
        return missing if value is None else f"{float(value):.3f}"
    if value.get("estimate") is None:
        return missing
    text = f"{float(value['estimate']):.3f}"
    low, high = value.get("ci_low"), value.get("ci_high")
    if low is None or high is None:
        return text + no_interval
    return f"{text} ({interval_text(float(low), float(high))})"
