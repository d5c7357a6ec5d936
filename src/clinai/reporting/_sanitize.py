"""Whitelisting of what may be rendered.

Only named fields of the inputs reach a card or a report, and only as scalars
or lists of scalars: a patient identifier or a patient-level row smuggled into
an unexpected key (or nested deeper than expected) is dropped, never rendered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from clinai._utils import finite_float

__all__ = ["estimate", "fields", "mapping", "number", "scalar", "scalar_items", "text", "texts"]

_MAX_TEXT = 4000
_T = TypeVar("_T")


def mapping(value: Any) -> Mapping[str, Any]:
    """Return ``value`` if it is a mapping, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def text(value: Any) -> str | None:
    """Return a scalar as text (truncated to a sane length) or ``None``."""
    if (
        value is None
        or isinstance(value, Mapping)
        or (isinstance(value, Sequence) and not isinstance(value, str))
    ):
        return None
    out = str(value).strip()
    return out[:_MAX_TEXT] if out else None


def texts(value: Any) -> list[str]:
    """Return a list of non-empty texts from a string or a list of scalars."""
    if isinstance(value, str):
        single = text(value)
        return [single] if single else []
    if not isinstance(value, Sequence):
        return []
    return [t for item in value if (t := text(item))]


def number(value: Any) -> float | int | None:
    """Return a finite int or float (bools excluded), else ``None``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return finite_float(value)


def estimate(value: Any) -> dict[str, float | None] | None:
    """Return ``{"estimate", "ci_low", "ci_high"}`` from an estimate dict or a number."""
    if isinstance(value, Mapping):
        point = number(value.get("estimate"))
        if point is None:
            return None
        low, high = number(value.get("ci_low")), number(value.get("ci_high"))
        return {
            "estimate": float(point),
            "ci_low": None if low is None else float(low),
            "ci_high": None if high is None else float(high),
        }
    point = number(value)
    return None if point is None else {"estimate": float(point), "ci_low": None, "ci_high": None}


def scalar(value: Any) -> str | int | float | bool | None:
    """Return a JSON scalar (bool, finite number, text) or ``None``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return number(value)
    return text(value)


def scalar_items(value: Any, *, limit: int = 200) -> dict[str, str | int | float | bool | None]:
    """Return the scalar-valued entries of a mapping (nested values dropped)."""
    out: dict[str, str | int | float | bool | None] = {}
    for key, item in list(mapping(value).items())[:limit]:
        if isinstance(item, Mapping) or (isinstance(item, Sequence) and not isinstance(item, str)):
            continue
        out[str(key)] = scalar(item)
    return out


def fields(
    row: Mapping[str, Any], keys: Iterable[str], clean: Callable[[Any], _T]
) -> dict[str, _T]:
    """Return ``{key: clean(row.get(key))}`` for each of ``keys``, in their order.

    Examples
    --------
    >>> fields({"n": 12, "group": "female"}, ("n", "events"), number)
    {'n': 12, 'events': None}
    """
    return {key: clean(row.get(key)) for key in keys}
