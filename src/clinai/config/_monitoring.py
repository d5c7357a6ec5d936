"""The ``monitoring:`` section: the post-market monitoring plan, fixed when a model is trained.

The plan is hashed with the acceptance plan at the train stage; ``clinai monitor``
and ``clinai update`` refuse a plan edited after the model version was registered.
The config layer may not import :mod:`clinai.evaluation`, so the names a limit may
use are listed here (:data:`MONITORING_METRICS`) and a misspelt one is refused when
the config loads, with a did-you-mean.
"""

from __future__ import annotations

import difflib
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "MONITORING_ACTIONS",
    "MONITORING_METRICS",
    "CusumConfig",
    "MonitoringConfig",
    "MonitoringLimit",
    "monitoring_metric_problem",
]

#: The per-period measurements a limit may judge (``psi.<feature>`` judges one feature's PSI).
MONITORING_METRICS: Final = (
    "auroc",
    "oe_ratio",
    "calibration.intercept",
    "calibration.slope",
    "ici",
    "alert_rate",
    "alert_rate_change",
    "sensitivity",
    "ppv",
    "estimated.auroc",
    "estimated.sensitivity",
    "estimated.ppv",
    "psi",
    "missing_change",
    "risk_psi",
)
#: A limit on one feature's PSI: ``psi.<feature>`` (the feature as fed to the model).
FEATURE_PSI_PREFIX: Final = "psi."
#: Drift measurements are plain numbers: they have no confidence interval to judge.
PLAIN_MONITORING_METRICS: Final = ("psi", "missing_change", "risk_psi")
#: What a breach means, least to most severe (a period's verdict is the most severe breached).
MONITORING_ACTIONS: Final = ("investigate", "recalibrate", "suspend")

Action = Literal["investigate", "recalibrate", "suspend"]

UNKNOWN_MONITORING_METRIC_MSG = (
    "metric {metric!r} is not a monitoring measurement{hint}; use one of {choices} or psi.<feature>"
)
FEATURE_PSI_MSG = "metric {metric!r} names no feature: write psi.<feature> (e.g. psi.spo2_last)"
PLAIN_MONITORING_MSG = (
    "metric {metric!r} is a plain number without an interval: judge it with statistic "
    "'estimate', not {statistic!r}"
)
LIMIT_NEEDS_BOUND_MSG = "limit on {metric!r} needs 'min' or 'max' (or both)"
LIMIT_ORDER_MSG = "limit on {metric!r} has min {min} above max {max}: swap them"
CUSUM_LIMIT_MSG = (
    "give either false_alarm_rate (the chart's limit is then simulated under the plan's null) "
    "or limit (a fixed limit h), not {given}"
)


def monitoring_metric_problem(metric: str, statistic: str = "estimate") -> str | None:
    """Describe why ``metric`` is no monitoring measurement (``None`` when it is one).

    Parameters
    ----------
    metric : str
        A limit's metric (``"oe_ratio"``, ``"calibration.slope"``, ``"psi.spo2_last"``).
    statistic : str
        The part of the measurement the limit judges; drift measurements have
        only their ``"estimate"``.

    Returns
    -------
    str or None
        One sentence naming the problem and the valid names.

    Examples
    --------
    >>> monitoring_metric_problem("psi.spo2_last") is None
    True
    >>> monitoring_metric_problem("oe_ratoi")[:60]
    "metric 'oe_ratoi' is not a monitoring measurement (did you m"
    """
    if metric.startswith(FEATURE_PSI_PREFIX):
        if not metric[len(FEATURE_PSI_PREFIX) :].strip():
            return FEATURE_PSI_MSG.format(metric=metric)
        base = "psi"
    elif metric in MONITORING_METRICS:
        base = metric
    else:
        close = difflib.get_close_matches(metric, MONITORING_METRICS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return UNKNOWN_MONITORING_METRIC_MSG.format(
            metric=metric, hint=hint, choices=", ".join(MONITORING_METRICS)
        )
    if base in PLAIN_MONITORING_METRICS and statistic != "estimate":
        return PLAIN_MONITORING_MSG.format(metric=metric, statistic=statistic)
    return None


class _Plan(BaseModel):
    # As every config section: unknown keys refused, values frozen once validated.
    model_config = ConfigDict(extra="forbid", frozen=True)


class MonitoringLimit(_Plan):
    """One pre-registered limit: breached when its statistic lies outside [min, max].

    ``statistic`` picks the estimate or a confidence bound (``ci_high`` of AUROC
    below 0.65 means even the optimistic bound is too low). Performance limits are
    judged only in periods with at least ``min_events`` events.
    """

    metric: str
    statistic: Literal["estimate", "ci_low", "ci_high"] = "estimate"
    min: float | None = None
    max: float | None = None
    action: Action = "investigate"

    @field_validator("metric")
    @classmethod
    def _metric_known(cls, value: str) -> str:
        problem = monitoring_metric_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _bounds(self) -> MonitoringLimit:
        if self.min is None and self.max is None:
            raise ValueError(LIMIT_NEEDS_BOUND_MSG.format(metric=self.metric))
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(LIMIT_ORDER_MSG.format(metric=self.metric, min=self.min, max=self.max))
        problem = monitoring_metric_problem(self.metric, self.statistic)
        if problem is not None:
            raise ValueError(problem)
        return self


class CusumConfig(_Plan):
    """A risk-adjusted CUSUM of observed against expected events (Steiner et al. 2000).

    ``odds_ratio`` is the rise in the odds of the event the chart is tuned to detect.
    Its limit h is either simulated so that a stable stream signals with
    ``false_alarm_rate`` (per monitoring pass) or given as ``limit``.
    """

    odds_ratio: float = Field(1.5, gt=1.0)
    false_alarm_rate: float | None = Field(None, gt=0.0, lt=1.0)
    limit: float | None = Field(None, gt=0.0)
    action: Action = "investigate"

    @model_validator(mode="after")
    def _one_limit(self) -> CusumConfig:
        given = [k for k in ("false_alarm_rate", "limit") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(CUSUM_LIMIT_MSG.format(given=" and ".join(given) or "neither"))
        return self


class MonitoringConfig(_Plan):
    """The post-market monitoring plan (EU AI Act Art. 72), pre-registered in the config.

    ``period``: calendar ``month`` or ISO ``week`` (starting Monday).
    ``operating_threshold``: the risk at which the model raises an alert.
    ``min_events``: performance limits are judged only in periods with at least
    this many events (else "not assessable", not a breach). ``n_boot``: bootstrap
    replicates per period (patients resampled; 0 for no intervals).
    ``subgroups``: attributes of ``evaluation.sensitive_attributes`` to watch.
    ``limits`` and ``cusum``: what is judged and what a breach means.
    """

    period: Literal["week", "month"] = "month"
    operating_threshold: float = Field(gt=0.0, lt=1.0)
    min_events: int = Field(20, ge=1)
    n_boot: int = Field(200, ge=0)
    subgroups: list[str] = Field(default_factory=list)
    limits: list[MonitoringLimit] = Field(default_factory=list)
    cusum: CusumConfig | None = None
