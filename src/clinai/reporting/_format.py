"""Formatting numbers for people, per language.

Reporting computes no statistics: these helpers only turn numbers it is given
into text, e.g. an estimate dict into ``"0.81 (0.75–0.87)"`` in English or
``"0,81 (0,75–0,87)"`` in Danish. A missing value (``None``, NaN) becomes the
language's "n/a".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, fields
from typing import Any

from clinai._utils import finite_float as _as_float

__all__ = ["NumberFormatter", "estimate_parts"]

# Languages that write 0,81 and 1.234 rather than 0.81 and 1,234.
_DECIMAL_COMMA = frozenset({"da", "de", "nb", "nn", "sv", "fi", "nl", "fr", "es", "it"})
_SWAP = str.maketrans({",": ".", ".": ","})
_MINUS = "\u2212"
_EN_DASH = "\u2013"


def estimate_parts(value: Any) -> tuple[float | None, float | None, float | None]:
    """Split an estimate into ``(estimate, ci_low, ci_high)``.

    Parameters
    ----------
    value : mapping, float or None
        An estimate dict ``{"estimate", "ci_low", "ci_high"}`` (metrics.json
        schema v1) or a bare number.

    Returns
    -------
    tuple
        Three floats or ``None`` where a part is missing or not finite.
    """
    if isinstance(value, Mapping):
        return (
            _as_float(value.get("estimate")),
            _as_float(value.get("ci_low")),
            _as_float(value.get("ci_high")),
        )
    return _as_float(value), None, None


@dataclass(frozen=True)
class NumberFormatter:
    """Format numbers, counts, percentages and estimates with CIs for one language.

    Parameters
    ----------
    language : str
        ISO 639-1 code; decides the decimal mark (Danish: comma).
    na : str
        Text for a missing value.
    ci_to : str
        Word between the limits of an interval with a negative limit, where a
        dash would read as a minus sign ("to", "til").
    percent_format : str
        ``"{value}%"`` or ``"{value} %"``.
    bool_true, bool_false : str
        Texts for a true and a false value ("yes", "no").

    Examples
    --------
    >>> f = NumberFormatter("da")
    >>> f.est({"estimate": 0.812, "ci_low": 0.751, "ci_high": 0.868})
    '0,81 (0,75–0,87)'
    >>> NumberFormatter("en").count(12345)
    '12,345'
    """

    language: str
    _: KW_ONLY
    na: str = "n/a"
    ci_to: str = "to"
    percent_format: str = "{value}%"
    bool_true: str = "yes"
    bool_false: str = "no"

    @classmethod
    def from_strings(cls, language: str, strings: Mapping[str, str]) -> NumberFormatter:
        """Build a formatter from a language's reviewed strings (see ``get_strings``).

        A text the strings file lacks keeps the default above.
        """
        texts = {f.name: strings[f.name] for f in fields(cls) if f.kw_only and f.name in strings}
        return cls(language, **texts)

    @property
    def _comma(self) -> bool:
        return self.language in _DECIMAL_COMMA

    def _localise(self, text: str) -> str:
        if self._comma:
            text = text.translate(_SWAP)
        return text.replace("-", _MINUS) if text.startswith("-") else text

    def num(self, value: Any, digits: int = 2) -> str:
        """Format a number with ``digits`` decimals (``"n/a"`` if missing)."""
        number = _as_float(value.get("estimate") if isinstance(value, Mapping) else value)
        if number is None:
            return self.na
        if round(number, digits) == 0:
            number = 0.0  # no "-0.00"
        return self._localise(f"{number:,.{digits}f}")

    def count(self, value: Any) -> str:
        """Format a count with a thousands separator (``"n/a"`` if missing)."""
        number = _as_float(value)
        if number is None:
            return self.na
        return self._localise(f"{round(number):,d}")

    def pct(self, value: Any, digits: int = 1) -> str:
        """Format a proportion in [0, 1] as a percentage, e.g. ``0.123 -> "12.3%"``."""
        number = _as_float(value.get("estimate") if isinstance(value, Mapping) else value)
        if number is None:
            return self.na
        return self.percent_format.format(value=self.num(100 * number, digits))

    def ci(self, value: Any, digits: int = 2) -> str:
        """Format only the interval of an estimate, e.g. ``"0.75–0.87"`` (``""`` if missing)."""
        _, low, high = estimate_parts(value)
        if low is None or high is None:
            return ""
        sep = f" {self.ci_to} " if (low < 0 or high < 0) else _EN_DASH
        return f"{self.num(low, digits)}{sep}{self.num(high, digits)}"

    def est(self, value: Any, digits: int = 2) -> str:
        """Format an estimate with its CI: ``"0.81 (0.75–0.87)"``; without CI ``"0.81"``."""
        estimate, _, _ = estimate_parts(value)
        if estimate is None:
            return self.na
        interval = self.ci(value, digits)
        text = self.num(estimate, digits)
        return f"{text} ({interval})" if interval else text

    def value(self, value: Any, digits: int = 2) -> str:
        """Format any scalar for a table cell: bools, ints, floats, estimates, text."""
        if value is None:
            return self.na
        if isinstance(value, bool):
            return self.bool_true if value else self.bool_false
        if isinstance(value, Mapping) and "estimate" in value:
            return self.est(value, digits)
        if isinstance(value, int):
            return self.count(value)
        if isinstance(value, float):
            return self.num(value, digits) if math.isfinite(value) else self.na
        return str(value)
