"""Display order of group labels (subgroups, fairness tables, explanations)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pandas as pd

__all__ = ["group_order"]


# A band label's lower bound: "<60", "60-74", ">=75", "1-4", "≥18" (numbers may be negative).
_BAND = re.compile(r"^\s*(<=|>=|<|>|≤|≥)?\s*(-?\d+(?:[.,]\d+)?)")
# Where a band starting at x lies among bands starting at x: "<x" first, ">x" last.
_BAND_SIDE = {"<": -2, "<=": -1, "≤": -1, None: 0, ">=": 0, "≥": 0, ">": 1}


def _band_key(label: str) -> tuple[float, int] | None:
    """Sort key of a numeric band label (lower bound, side); None for a text label."""
    match = _BAND.match(label)
    if match is None:
        return None
    return float(match.group(2).replace(",", ".")), _BAND_SIDE[match.group(1)]


def group_order(labels: Iterable[Any], column: pd.Series | None = None) -> list[str]:
    """Order group labels as a reader expects: by band, by category order, else by text.

    - When ``column`` is an ordered pandas ``Categorical``, its categories keep
      their order (labels not among them, e.g. ``"missing"``, come last).
    - Otherwise labels that start with a number or a comparison (``"<60"``,
      ``"60-74"``, ``">=75"``; ``"<1"``, ``"1-4"``, ``"5-11"``) are sorted by
      their lower bound, ``"<x"`` before ``"x-y"`` before ``">x"``; the other
      labels follow in text order.

    Parameters
    ----------
    labels : iterable
        The group labels (as text).
    column : pandas.Series, optional
        The attribute the labels came from, for an ordered categorical.

    Returns
    -------
    list of str
        Each distinct label once, in display order.

    Examples
    --------
    >>> group_order(["60-74", "<60", ">=75", "unknown"])
    ['<60', '60-74', '>=75', 'unknown']
    >>> group_order(["1-4", "12-17", "5-11", "<1", ">=18"])
    ['<1', '1-4', '5-11', '12-17', '>=18']
    """
    distinct = sorted({str(label) for label in labels})
    dtype = getattr(column, "dtype", None)
    if isinstance(dtype, pd.CategoricalDtype) and dtype.ordered:
        rank = {str(c): k for k, c in enumerate(dtype.categories)}
        return sorted(distinct, key=lambda g: (g not in rank, rank.get(g, 0), g))
    keys = {label: _band_key(label) for label in distinct}
    # ties keep the text order of ``distinct``: (key, label) pairs sort the same way
    numeric = [label for key, label in sorted((k, g) for g, k in keys.items() if k is not None)]
    return numeric + [label for label in distinct if keys[label] is None]
