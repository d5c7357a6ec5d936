"""A period's verdict against the pre-registered monitoring plan's limits.

Each limit names a metric, the statistic judged (``estimate``, ``ci_low`` or
``ci_high``; default ``estimate``), a ``min`` and/or ``max`` and an action. A
limit is *breached* when its statistic lies outside ``[min, max]``. The period's
verdict is the most severe breached action (:data:`VERDICT_LEVELS`, least to
most severe: ``in_control``, ``investigate``, ``recalibrate``, ``suspend``), else
``in_control``. A limit on a performance metric (:data:`PERFORMANCE_METRICS`,
which need outcomes) is *not assessable* in a period without outcomes or with
fewer than ``min_events`` events; any limit is not assessable when its statistic
was not measured (``None`` or NaN). A not-assessable limit is a reason, never a
breach.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from clinai.evaluation._estimate import Estimate, _num
from clinai.evaluation._inputs import check_number
from clinai.exceptions import DataError

__all__ = [
    "ALERT_METRICS",
    "DRIFT_METRICS",
    "ESTIMATED_METRICS",
    "FEATURE_PSI_PREFIX",
    "LIMIT_STATISTICS",
    "MONITORING_ACTIONS",
    "MONITORING_METRICS",
    "PERFORMANCE_METRICS",
    "VERDICT_LEVELS",
    "LimitReason",
    "Verdict",
    "is_monitoring_metric",
    "period_verdict",
]

#: Metrics that need observed outcomes: judged only with at least ``min_events`` events.
PERFORMANCE_METRICS: tuple[str, ...] = (
    "auroc",
    "oe_ratio",
    "calibration.intercept",
    "calibration.slope",
    "ici",
    "sensitivity",
    "ppv",
)
#: The alert rate at the operating threshold and ``|alert rate / development alert rate - 1|``.
ALERT_METRICS: tuple[str, ...] = ("alert_rate", "alert_rate_change")
#: Performance estimated from the risks alone (CBPE, :func:`estimated_performance`).
ESTIMATED_METRICS: tuple[str, ...] = ("estimated.auroc", "estimated.sensitivity", "estimated.ppv")
#: Drift (:meth:`DriftResult.measurements`): plain numbers without an interval.
DRIFT_METRICS: tuple[str, ...] = ("psi", "missing_change", "risk_psi")
#: Metrics a plan's limit may name (besides ``psi.<feature>``).
MONITORING_METRICS: tuple[str, ...] = (
    *PERFORMANCE_METRICS,
    *ALERT_METRICS,
    *ESTIMATED_METRICS,
    *DRIFT_METRICS,
)
#: Prefix of a limit on one feature's PSI (``psi.<feature>``).
FEATURE_PSI_PREFIX = "psi."
#: A breach's actions, least to most severe.
MONITORING_ACTIONS: tuple[str, ...] = ("investigate", "recalibrate", "suspend")
#: A period's verdict levels, least to most severe.
VERDICT_LEVELS: tuple[str, ...] = ("in_control", *MONITORING_ACTIONS)
#: The statistics a limit may judge.
LIMIT_STATISTICS: tuple[str, ...] = ("estimate", "ci_low", "ci_high")

BREACH = "breach"
NOT_ASSESSABLE = "not_assessable"

LIMIT_FIELD_MSG = "limits[{index}].{field} must be {what}; got {value!r}"
LIMIT_BOUNDS_MSG = "limits[{index}] ({metric}) needs a min or a max (or both), with min <= max"
MIN_EVENTS_MSG = "min_events must be a non-negative integer; got {value!r}"
EVENTS_MSG = "events must be a non-negative integer or None (no outcomes); got {value!r}"


def is_monitoring_metric(name: str) -> bool:
    """Whether a limit may name ``name``: one of :data:`MONITORING_METRICS` or ``psi.<feature>``.

    Examples
    --------
    >>> is_monitoring_metric("calibration.slope"), is_monitoring_metric("psi.spo2")
    (True, True)
    >>> is_monitoring_metric("auc")
    False
    """
    return name in MONITORING_METRICS or (
        name.startswith(FEATURE_PSI_PREFIX) and len(name) > len(FEATURE_PSI_PREFIX)
    )


@dataclass(frozen=True)
class LimitReason:
    """One limit that was breached or could not be assessed in a period.

    Attributes
    ----------
    metric, statistic : str
        What was judged.
    value : float
        The statistic's value (NaN when not assessable).
    min, max : float or None
        The limit's bounds.
    action : str
        The action the limit prescribes.
    kind : str
        ``"breach"`` or ``"not_assessable"``.
    """

    metric: str
    statistic: str
    value: float
    min: float | None
    max: float | None
    action: str
    kind: str

    def to_dict(self) -> dict[str, Any]:
        """Return ``{metric, statistic, value, min, max, action, kind}``."""
        return {
            "metric": self.metric,
            "statistic": self.statistic,
            "value": _num(self.value),
            "min": _num(self.min),
            "max": _num(self.max),
            "action": self.action,
            "kind": self.kind,
        }


@dataclass(frozen=True)
class Verdict:
    """A period's verdict and its reasons.

    Attributes
    ----------
    level : str
        One of :data:`VERDICT_LEVELS`.
    reasons : tuple of LimitReason
        Breached limits, then limits that could not be assessed, each in plan order.
    """

    level: str
    reasons: tuple[LimitReason, ...] = ()

    @property
    def breaches(self) -> tuple[LimitReason, ...]:
        """The breached limits."""
        return tuple(r for r in self.reasons if r.kind == BREACH)

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"level", "reasons": [...]}``."""
        return {"level": self.level, "reasons": [r.to_dict() for r in self.reasons]}


def _count(value: Any, message: str, *, optional: bool) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise DataError(message.format(value=value))
    return int(value)


def _bound(limit: Mapping[str, Any], key: str, index: int) -> float | None:
    value = limit.get(key)
    if value is None:
        return None
    message = LIMIT_FIELD_MSG.format(index=index, field=key, what="a number", value=value)
    return check_number(value, message, -math.inf, math.inf)


def _choice(limit: Mapping[str, Any], key: str, index: int, allowed: Sequence[str]) -> str:
    value = limit.get(key, "estimate" if key == "statistic" else None)
    if value not in allowed:
        what = "one of " + ", ".join(allowed)
        raise DataError(LIMIT_FIELD_MSG.format(index=index, field=key, what=what, value=value))
    return str(value)


def _statistic(measured: Any, statistic: str) -> float:
    """Return a measurement's statistic: a number (its estimate), an Estimate or its dict."""
    if measured is None:
        return math.nan
    if isinstance(measured, Estimate):
        value = getattr(measured, statistic)
    elif isinstance(measured, Mapping):
        value = measured.get(statistic)
    else:
        value = measured if statistic == "estimate" else None
    number = _num(value)
    return math.nan if number is None else number


def period_verdict(
    measurements: Mapping[str, Any],
    limits: Sequence[Mapping[str, Any]],
    *,
    events: int | None,
    min_events: int,
) -> Verdict:
    """Judge one period's measurements against the plan's limits.

    Parameters
    ----------
    measurements : mapping of str to float, Estimate, mapping or None
        The period's value of each metric by its plan name (``"auroc"``,
        ``"calibration.slope"``, ``"psi"``, ``"psi.<feature>"``, ...). A number is the
        estimate; an :class:`Estimate` or its ``to_dict()`` also gives ``ci_low`` and
        ``ci_high``. ``None`` or NaN: not measured.
    limits : sequence of mapping
        The plan's limits: ``{"metric", "statistic" (default "estimate"), "min",
        "max", "action"}`` (plain dicts, as in the config).
    events : int or None
        Observed events in the period; ``None`` when outcomes are not available.
    min_events : int
        Performance limits are judged only with at least this many events.

    Returns
    -------
    Verdict
        The most severe breached action (or ``in_control``) and the reasons.

    Raises
    ------
    DataError
        On a limit with an unknown metric, statistic or action, or without bounds;
        on invalid ``events`` or ``min_events``.

    Examples
    --------
    >>> limits = [{"metric": "oe_ratio", "min": 0.8, "max": 1.25, "action": "recalibrate"},
    ...           {"metric": "psi", "max": 0.2, "action": "investigate"}]
    >>> period_verdict({"oe_ratio": 1.4, "psi": 0.05}, limits, events=40, min_events=20).level
    'recalibrate'
    >>> v = period_verdict({"psi": 0.3}, limits, events=3, min_events=20)
    >>> v.level, [r.kind for r in v.reasons]
    ('investigate', ['breach', 'not_assessable'])
    """
    n_events = _count(events, EVENTS_MSG, optional=True)
    threshold = _count(min_events, MIN_EVENTS_MSG, optional=False)
    assessable_performance = n_events is not None and n_events >= (threshold or 0)
    breaches: list[LimitReason] = []
    unassessed: list[LimitReason] = []
    for index, limit in enumerate(limits):
        metric = limit.get("metric")
        if not isinstance(metric, str) or not is_monitoring_metric(metric):
            what = "one of " + ", ".join(MONITORING_METRICS) + " or psi.<feature>"
            raise DataError(
                LIMIT_FIELD_MSG.format(index=index, field="metric", what=what, value=metric)
            )
        statistic = _choice(limit, "statistic", index, LIMIT_STATISTICS)
        action = _choice(limit, "action", index, MONITORING_ACTIONS)
        low, high = _bound(limit, "min", index), _bound(limit, "max", index)
        if (low is None and high is None) or (low is not None and high is not None and low > high):
            raise DataError(LIMIT_BOUNDS_MSG.format(index=index, metric=metric))
        value = _statistic(measurements.get(metric), statistic)
        if (metric in PERFORMANCE_METRICS and not assessable_performance) or math.isnan(value):
            unassessed.append(
                LimitReason(metric, statistic, math.nan, low, high, action, NOT_ASSESSABLE)
            )
        elif (low is not None and value < low) or (high is not None and value > high):
            breaches.append(LimitReason(metric, statistic, value, low, high, action, BREACH))
    level = max((b.action for b in breaches), key=VERDICT_LEVELS.index, default=VERDICT_LEVELS[0])
    return Verdict(level, (*breaches, *unassessed))
