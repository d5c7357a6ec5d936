"""The estimate with its interval, and plain JSON values, shared by every evaluation concern.

Every result record of :mod:`clinai.evaluation` is frozen and has a ``to_dict()``
that returns plain JSON values: Python floats, ints, strings, bools, lists,
dicts and ``None`` (NaN and infinities become ``None``), so
``json.dumps(result.to_dict(), allow_nan=False)`` works. Each record lives
beside the function that produces it; this module holds what they all share.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np

__all__ = ["Estimate", "FieldsRecord"]


def _num(value: Any) -> float | None:
    """Return ``value`` as a plain float, or ``None`` when missing, NaN or infinite."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _numbers(record: Any) -> dict[str, float | None]:
    """Return every field of a dataclass of numbers as ``{name: _num(value)}``, in field order.

    The ``to_dict()`` of a record that holds only numbers, so that a field added
    to the record cannot be left out of its JSON.

    Examples
    --------
    >>> _numbers(Estimate(0.5))
    {'estimate': 0.5, 'ci_low': None, 'ci_high': None}
    """
    return {field.name: _num(getattr(record, field.name)) for field in fields(record)}


# the annotations (strings, under postponed evaluation) of fields that _fields writes as floats
_FLOAT_TYPES = frozenset({"float", "float | None"})


def _fields(record: Any, *, counts: Collection[str] = ()) -> dict[str, Any]:
    """Return every field of a result record as plain JSON, in field order.

    Fields annotated ``float`` become :func:`_num` (NaN -> ``None``, an int a
    float); array and tuple fields become lists of :func:`_plain` values; the
    fields named in ``counts`` become ints; any other field becomes :func:`_plain`
    (NumPy numbers as Python ones). The ``to_dict()`` of a flat record, so that a
    field added to the record cannot be left out of its JSON.

    Examples
    --------
    >>> _fields(Estimate(0.5))
    {'estimate': 0.5, 'ci_low': None, 'ci_high': None}
    """
    out: dict[str, Any] = {}
    for field in fields(record):
        value = getattr(record, field.name)
        if field.name in counts:
            out[field.name] = int(value)
        elif isinstance(value, np.ndarray | tuple):
            out[field.name] = [_plain(item) for item in value]
        elif field.type in _FLOAT_TYPES:
            out[field.name] = _num(value)
        else:
            out[field.name] = _plain(value)
    return out


class FieldsRecord:
    """Base of a flat result record whose ``to_dict()`` is every field, by :func:`_fields`.

    A frozen dataclass that derives from it needs no ``to_dict`` of its own;
    ``_json_counts`` names the float fields that hold counts (written as ints).
    """

    _json_counts: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return every field as plain JSON, in field order (NaN -> ``None``)."""
        return _fields(self, counts=self._json_counts)


def _group_counts(group: Any) -> dict[str, Any]:
    """Return ``{"n", "events", "suppressed"}`` of a group record as JSON values.

    ``n`` and ``events`` stay ``None`` where the record hides them (a suppressed
    group, or a count that would reveal one by subtraction from the totals).
    """
    n, events = group.n, group.events
    return {
        "n": None if n is None else int(n),
        "events": None if events is None else int(events),
        "suppressed": bool(group.suppressed),
    }


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a percentile bootstrap confidence interval.

    Parameters
    ----------
    estimate : float
        The metric on the full sample (NaN when undefined).
    ci_low, ci_high : float
        Bounds of the percentile bootstrap interval (NaN when not computed).
    """

    estimate: float
    ci_low: float = math.nan
    ci_high: float = math.nan

    def to_dict(self) -> dict[str, float | None]:
        """Return ``{"estimate", "ci_low", "ci_high"}`` with ``None`` for NaN."""
        return _numbers(self)

    @classmethod
    def missing(cls) -> Estimate:
        """Return an estimate whose three numbers are all missing."""
        return cls(math.nan, math.nan, math.nan)


def _plain(value: Any) -> Any:
    """Convert nested numbers in a caller-supplied mapping to plain JSON values."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return _num(value)
    return value


def _estimate_or_none(value: Estimate | None) -> dict[str, float | None] | None:
    """Return ``value.to_dict()``, or ``None`` when there is no estimate."""
    return None if value is None else value.to_dict()
