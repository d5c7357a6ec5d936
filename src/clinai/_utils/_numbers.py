"""Reading numbers from loosely typed JSON-like values (metrics.json, results' ``to_dict()``)."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["finite_float"]


def finite_float(value: Any) -> float | None:
    """Return ``value`` as a finite float, or ``None`` (missing, bool, text, NaN, infinite).

    Examples
    --------
    >>> finite_float("0.5"), finite_float(float("nan")), finite_float(True)
    (0.5, None, None)
    """
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
