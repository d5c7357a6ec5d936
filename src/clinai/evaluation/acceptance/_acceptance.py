"""Pre-specified acceptance criteria: pass, fail or not applicable.

A criterion is a mapping::

    {"name": "discrimination", "metric": "auroc", "statistic": "ci_low", "min": 0.70, "max": None}

``metric`` is a dotted path into the ``metrics.json`` dict (``"auroc"``,
``"calibration.slope"``, ``"thresholds.0.sensitivity"``; an integer part
indexes a list), ``statistic`` picks ``"estimate"`` (default), ``"ci_low"``
or ``"ci_high"`` of an estimate (``"on"`` is accepted as a synonym; the
config calls it ``statistic`` because YAML 1.1 reads an unquoted ``on`` as
``True``), and ``min``/``max`` are inclusive bounds (at least one is
required). A plain number (e.g. ``"prevalence"``) can only be judged on its
``"estimate"``. When the value is missing or ``None`` the criterion is
``"not_applicable"``, which is kept apart from ``"fail"``.

Fairness criteria use the ``fairness`` block of ``metrics.json`` (see
:func:`fairness_metrics`): ``fairness.<table>.<metric>.difference`` or
``.ratio`` (e.g. ``{"name": "sex AUROC gap", "metric":
"fairness.sex.auroc.difference", "statistic": "ci_high", "max": 0.10}``), or a
group's metric through ``fairness.<table>.groups.<i>.<metric>``. A fairness
path that does not exist (a table that was not computed, a misspelt metric, a
ratio of a metric that has none) is a mistake in the plan, not a missing
value: it raises a :class:`DataError` naming the criterion.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clinai.evaluation._estimate import _num
from clinai.exceptions import DataError

__all__ = ["CRITERIA_MSG", "STATISTICS", "UNKNOWN_FAIRNESS_PATH_MSG", "evaluate_acceptance"]

#: Parts of an estimate a criterion can be judged on.
STATISTICS = ("estimate", "ci_low", "ci_high")
_KEYS = frozenset({"name", "metric", "statistic", "on", "min", "max"})

CRITERIA_MSG = "invalid acceptance criteria:\n{problems}"
UNKNOWN_FAIRNESS_PATH_MSG = (
    "acceptance criterion {name!r}: metric {metric!r} does not exist in metrics.json: "
    "{part!r} is not one of {choices}"
)
NO_FAIRNESS_MSG = (
    "acceptance criterion {name!r}: metric {metric!r} needs fairness results, but none were "
    "computed: set evaluation.sensitive_attributes"
)


@dataclass(frozen=True)
class AcceptanceResult:
    """The verdict on one pre-specified acceptance criterion.

    Attributes
    ----------
    criterion : str
        Name of the criterion.
    metric : str
        Dotted path into ``metrics.json`` (e.g. ``"calibration.slope"``).
    statistic : str
        ``"estimate"``, ``"ci_low"`` or ``"ci_high"``.
    min, max : float or None
        Bounds the value must respect (inclusive).
    value : float or None
        The value found (``None`` when missing).
    status : str
        ``"pass"``, ``"fail"`` or ``"not_applicable"`` (metric missing or ``None``).
    rule : str
        Human-readable rule, e.g. ``"auroc ci_low >= 0.7"``.
    """

    criterion: str
    metric: str
    statistic: str
    min: float | None
    max: float | None
    value: float | None
    status: str
    rule: str

    @property
    def passed(self) -> bool | None:
        """``True`` on pass, ``False`` on fail, ``None`` when not applicable."""
        if self.status == "not_applicable":
            return None
        return self.status == "pass"

    def to_dict(self) -> dict[str, Any]:
        """Return the verdict as a plain mapping.

        Keys: ``criterion``, ``metric``, ``statistic``, ``min``, ``max``, ``value``,
        ``passed``, ``status`` and ``rule``.

        ``statistic``, ``min`` and ``max`` let a document say which part of the
        estimate was compared (e.g. the lower confidence bound) and against what.
        """
        return {
            "criterion": self.criterion,
            "metric": self.metric,
            "statistic": self.statistic,
            "min": _num(self.min),
            "max": _num(self.max),
            "value": _num(self.value),
            "passed": self.passed,
            "status": self.status,
            "rule": self.rule,
        }


def _bound(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(value)
    number = float(value)
    if not math.isfinite(number):
        raise TypeError(value)
    return number


def _check_criterion(index: int, criterion: Any) -> list[str]:
    """Return the problems of one criterion (empty when it is valid)."""
    where = f"criteria[{index}]"
    if not isinstance(criterion, Mapping):
        return [
            f"{where}: must be a mapping with name, metric, statistic, min, max; got {criterion!r}"
        ]
    problems = []
    unknown = sorted(set(map(str, criterion)) - _KEYS)
    if unknown:
        allowed = ", ".join(sorted(_KEYS))
        problems.append(f"{where}: unknown key(s) {', '.join(unknown)}; use {allowed}")
    for key in ("name", "metric"):
        value = criterion.get(key)
        if not isinstance(value, str) or not value:
            problems.append(f"{where}.{key}: must be a non-empty string; got {value!r}")
    if "on" in criterion and "statistic" in criterion and criterion["on"] != criterion["statistic"]:
        problems.append(f"{where}: give statistic or on, not both")
    else:
        statistic = _statistic(criterion)
        if statistic not in STATISTICS:
            problems.append(
                f"{where}.statistic: must be one of {', '.join(STATISTICS)}; got {statistic!r}"
            )
    bounds: dict[str, float | None] = {}
    bad_bound = False
    for key in ("min", "max"):
        try:
            bounds[key] = _bound(criterion.get(key))
        except TypeError:
            bad_bound = True
            bounds[key] = None
            problems.append(
                f"{where}.{key}: must be a finite number or null; got {criterion.get(key)!r}"
            )
    low, high = bounds["min"], bounds["max"]
    if low is None and high is None and not bad_bound:
        problems.append(f"{where}: give min, max or both")
    if low is not None and high is not None and low > high:
        problems.append(f"{where}: min ({low:g}) is greater than max ({high:g})")
    return problems


def _statistic(criterion: Mapping[str, Any]) -> Any:
    """Return the criterion's statistic (key ``statistic``, or its synonym ``on``)."""
    return criterion.get("statistic", criterion.get("on", "estimate"))


#: What a path step returns where the path leads nowhere.
_NOWHERE = object()


def _step(current: Any, part: str) -> Any:
    """Follow one part of a dotted path: a mapping key or a list index (:data:`_NOWHERE`)."""
    if isinstance(current, Mapping):
        return current.get(part, _NOWHERE)
    if isinstance(current, list | tuple) and part.lstrip("-").isdigit():
        index = int(part)
        return current[index] if -len(current) <= index < len(current) else _NOWHERE
    return _NOWHERE


def _resolve(metrics: Any, path: str) -> Any:
    """Follow a dotted path through mappings and lists; ``None`` when it leads nowhere."""
    current = metrics
    for part in path.split("."):
        current = _step(current, part)
        if current is _NOWHERE:
            return None
    return current


def _fairness_path_problem(metrics: Mapping[str, Any], name: str, path: str) -> str | None:
    """Describe why a ``fairness.`` path leads nowhere (``None`` when every key exists).

    Only missing mapping keys are mistakes; a list index past the end stays
    "not applicable", as elsewhere.
    """
    fairness = metrics.get("fairness")
    if not isinstance(fairness, Mapping) or not fairness:
        return NO_FAIRNESS_MSG.format(name=name, metric=path)
    current: Any = metrics
    for part in path.split("."):
        if isinstance(current, Mapping) and part not in current:
            choices = ", ".join(str(k) for k in current) or "nothing"
            return UNKNOWN_FAIRNESS_PATH_MSG.format(
                name=name, metric=path, part=part, choices=choices
            )
        current = _step(current, part)
        if current is _NOWHERE:
            return None
    return None


def _value(metrics: Any, path: str, statistic: str) -> float | None:
    found = _resolve(metrics, path)
    if isinstance(found, Mapping):
        found = found.get(statistic)
    elif statistic != "estimate":
        return None
    if isinstance(found, bool) or not isinstance(found, int | float):
        return None
    number = float(found)
    return number if math.isfinite(number) else None


def _rule(metric: str, statistic: str, low: float | None, high: float | None) -> str:
    subject = f"{metric} {statistic}"
    if low is not None and high is not None:
        return f"{low:g} <= {subject} <= {high:g}"
    if low is not None:
        return f"{subject} >= {low:g}"
    return f"{subject} <= {high:g}"


def evaluate_acceptance(
    metrics: Mapping[str, Any], criteria: Sequence[Mapping[str, Any]]
) -> list[AcceptanceResult]:
    """Judge pre-specified acceptance criteria against a ``metrics.json`` dict.

    A criterion passes when its value lies within ``[min, max]`` (bounds
    inclusive, a missing bound unrestricted), fails otherwise, and is not
    applicable when the value is missing or ``None`` (e.g. no interval was
    computed, or the metric does not exist).

    Parameters
    ----------
    metrics : Mapping
        The ``metrics.json`` document (``ValidationResult.to_dict()``); a
        ``ValidationResult`` is also accepted.
    criteria : sequence of Mapping
        Each ``{"name", "metric", "statistic", "min", "max"}``; ``metric`` is a
        dotted path (``"calibration.slope"``), ``statistic`` is ``"estimate"``
        (default), ``"ci_low"`` or ``"ci_high"`` (``"on"`` is a synonym).

    Returns
    -------
    list of AcceptanceResult
        One per criterion, in order; ``status`` is ``"pass"``, ``"fail"`` or
        ``"not_applicable"``.

    Raises
    ------
    DataError
        When a criterion is malformed (every problem is listed at once), or a
        fairness criterion names a path that does not exist.

    Examples
    --------
    >>> metrics = {"auroc": {"estimate": 0.81, "ci_low": 0.74, "ci_high": 0.87}}
    >>> [r] = evaluate_acceptance(
    ...     metrics,
    ...     [{"name": "discrimination", "metric": "auroc", "statistic": "ci_low", "min": 0.7}],
    ... )
    >>> r.status, r.rule
    ('pass', 'auroc ci_low >= 0.7')
    """
    if not isinstance(metrics, Mapping) and hasattr(metrics, "to_dict"):
        metrics = metrics.to_dict()
    problems = [problem for i, c in enumerate(criteria) for problem in _check_criterion(i, c)]
    if problems:
        raise DataError(CRITERIA_MSG.format(problems="\n".join(f"- {p}" for p in problems)))
    unknown = [
        problem
        for c in criteria
        if str(c["metric"]).split(".")[0] == "fairness"
        and (problem := _fairness_path_problem(metrics, str(c["name"]), str(c["metric"])))
    ]
    if unknown:
        raise DataError("; ".join(unknown))
    results = []
    for criterion in criteria:
        metric = str(criterion["metric"])
        statistic = str(_statistic(criterion))
        low = _bound(criterion.get("min"))
        high = _bound(criterion.get("max"))
        value = _value(metrics, metric, statistic)
        if value is None:
            status = "not_applicable"
        elif (low is None or value >= low) and (high is None or value <= high):
            status = "pass"
        else:
            status = "fail"
        results.append(
            AcceptanceResult(
                criterion=str(criterion["name"]),
                metric=metric,
                statistic=statistic,
                min=low,
                max=high,
                value=value,
                status=status,
                rule=_rule(metric, statistic, low, high),
            )
        )
    return results
