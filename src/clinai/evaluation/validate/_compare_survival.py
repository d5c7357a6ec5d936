"""Two survival models on the same patients (paired bootstrap), and the integrated Brier score.

:func:`compare_survival_models` answers a board's question of a new version: does it
rank and predict better than the registered one, on the same test patients? Harrell's
and Uno's C, the IPCW Brier score and the IPA at the horizon of both models, and their
difference with a paired bootstrap interval (both models scored on the same resampled
patients). :func:`integrated_brier_with_interval` gives the integrated Brier score of
one model with its interval. The metrics are :mod:`clinai.evaluation.survival`'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from clinai.evaluation._estimate import Estimate, FieldsRecord, _num
from clinai.evaluation.resampling._loop import loop_replicates, with_intervals
from clinai.evaluation.resampling.engine import RandomState
from clinai.evaluation.survival import (
    harrell_c,
    integrated_brier_score,
    ipcw_brier_score,
    uno_c,
)
from clinai.evaluation.survival._inputs import check_risk, check_score, check_survival

__all__ = [
    "COMPARED_SURVIVAL_METRICS",
    "ComparedMetric",
    "IntegratedBrierEstimate",
    "SurvivalComparison",
    "compare_survival_models",
    "integrated_brier_with_interval",
]

#: The metrics compared, in the order of the record.
COMPARED_SURVIVAL_METRICS = ("harrell_c", "uno_c", "brier", "ipa")


@dataclass(frozen=True)
class ComparedMetric:
    """One metric of both models and their paired difference (this model - the other)."""

    model: Estimate
    registered: Estimate
    difference: Estimate

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"model", "registered", "difference"}``, each an estimate."""
        return {
            "model": self.model.to_dict(),
            "registered": self.registered.to_dict(),
            "difference": self.difference.to_dict(),
        }


@dataclass(frozen=True)
class SurvivalComparison:
    """A survival model against another (the registered version) on the same patients.

    Attributes
    ----------
    name : str
        What the other model is, e.g. ``"registered version 3 (approved)"``.
    horizon : float
    n_boot : int
    ci_level : float
    metrics : Mapping[str, ComparedMetric]
        By name: ``harrell_c``, ``uno_c`` (higher is better), ``brier`` (lower is
        better), ``ipa`` (higher is better).
    """

    name: str
    horizon: float
    n_boot: int
    ci_level: float
    metrics: Mapping[str, ComparedMetric]

    def to_dict(self) -> dict[str, Any]:
        """Return survival_metrics.json's ``comparison``: settings and one key per metric."""
        return {
            "name": self.name,
            "horizon": _num(self.horizon),
            "n_boot": int(self.n_boot),
            "ci_level": _num(self.ci_level),
            **{name: metric.to_dict() for name, metric in self.metrics.items()},
        }


def _checked(time: Any, event: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return the checked time (float) and event (0/1 int), as the survival metrics take them."""
    t, e = check_survival(time, event)
    return t, e.astype(np.int64)


def _model_values(
    time: np.ndarray, event: np.ndarray, risk: np.ndarray, score: np.ndarray, horizon: float
) -> list[float]:
    brier = ipcw_brier_score(time, event, risk, horizon)
    return [
        harrell_c(time, event, score).estimate,
        uno_c(time, event, score, tau=horizon).estimate,
        brier.brier,
        brier.ipa,
    ]


def compare_survival_models(
    time: Any,
    event: Any,
    risk: Any,
    risk_other: Any,
    *,
    horizon: float,
    score: Any = None,
    score_other: Any = None,
    name: str = "registered version",
    patient_ids: Any = None,
    n_boot: int = 200,
    ci_level: float = 0.95,
    random_state: RandomState = 0,
) -> SurvivalComparison:
    """Compare two models' risks by a horizon on the same patients (paired bootstrap).

    Harrell's C and Uno's C (truncated at the horizon) of each model's ``score``
    (its linear predictor; default its risk), the IPCW Brier score and the IPA at the
    horizon of its ``risk`` (:func:`harrell_c`, :func:`uno_c`,
    :func:`ipcw_brier_score`), and the differences ``model - other``. Each resample
    draws patients once and scores both models on them, so the interval of a
    difference accounts for the correlation of the two models' errors.

    Parameters
    ----------
    time, event : array-like of shape (n,)
        Follow-up and event (0/1).
    risk, risk_other : array-like of shape (n,)
        Risk by ``horizon`` of this model and of the other.
    horizon : float
    score, score_other : array-like of shape (n,), optional
        Each model's linear predictor for the C indices (default its risk).
    name : str
        The other model's description.
    patient_ids : array-like, optional
        Patients resampled, not rows.
    n_boot : int, default 200
    ci_level : float, default 0.95
    random_state : int, default 0

    Returns
    -------
    SurvivalComparison

    Raises
    ------
    DataError
        Bad inputs (one line each, from the survival metrics' checks).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> lp = rng.normal(size=300)
    >>> time = rng.exponential(np.exp(-lp))
    >>> event = (time < 3).astype(int)
    >>> time = np.minimum(time, 3.0)
    >>> good = 1 - np.exp(-np.exp(lp))
    >>> noisy = 1 - np.exp(-np.exp(lp + rng.normal(size=300)))
    >>> result = compare_survival_models(time, event, good, noisy, horizon=1.0, n_boot=20)
    >>> result.metrics["harrell_c"].difference.estimate > 0
    True
    """
    t, e = _checked(time, event)
    n = t.shape[0]
    risks = [check_risk(risk, n), check_risk(risk_other, n, name="risk_other")]
    scores = [
        risks[0] if score is None else check_score(score, n, name="score"),
        risks[1] if score_other is None else check_score(score_other, n, name="score_other"),
    ]

    def values(rows: np.ndarray) -> np.ndarray:
        both = np.array(
            [
                _model_values(t[rows], e[rows], r[rows], s[rows], horizon)
                for r, s in zip(risks, scores, strict=True)
            ]
        )  # (2 models, metrics)
        return np.column_stack([both.T, both[0] - both[1]])  # (metrics, model/other/diff)

    point = values(np.arange(n))
    replicates = loop_replicates(
        values, point.shape, n, patient_ids=patient_ids, n_boot=n_boot, random_state=random_state
    )
    estimates = with_intervals(replicates, point, ci_level)
    k = len(COMPARED_SURVIVAL_METRICS)
    rows = [estimates[3 * i : 3 * i + 3] for i in range(k)]
    return SurvivalComparison(
        name=str(name),
        horizon=float(horizon),
        n_boot=int(n_boot),
        ci_level=float(ci_level),
        metrics={
            metric: ComparedMetric(*row)
            for metric, row in zip(COMPARED_SURVIVAL_METRICS, rows, strict=True)
        },
    )


@dataclass(frozen=True)
class IntegratedBrierEstimate(FieldsRecord):
    """The integrated IPCW Brier score over ``n_times`` times from ``start`` to ``end``.

    ``to_dict()``: ``{"estimate", "ci_low", "ci_high", "start", "end", "n_times"}``.
    """

    estimate: float
    ci_low: float
    ci_high: float
    start: float
    end: float
    n_times: int


def integrated_brier_with_interval(
    time: Any,
    event: Any,
    risk: Any,
    times: Sequence[float] | np.ndarray,
    *,
    patient_ids: Any = None,
    n_boot: int = 200,
    ci_level: float = 0.95,
    random_state: RandomState = 0,
) -> IntegratedBrierEstimate:
    """Return :func:`integrated_brier_score`'s integrated score with a bootstrap interval.

    Parameters
    ----------
    time, event : array-like of shape (n,)
    risk : array-like of shape (n, len(times))
        Risk by each of ``times``.
    times : sequence of float
        At least two ascending times within follow-up.
    patient_ids, n_boot, ci_level, random_state
        As :func:`compare_survival_models`. A resample whose follow-up ends before
        the last time is skipped (undefined there).

    Returns
    -------
    IntegratedBrierEstimate
    """
    t, e = _checked(time, event)
    matrix = np.asarray(risk, dtype=np.float64)
    grid = np.asarray(times, dtype=np.float64)

    def value(rows: np.ndarray) -> float:
        return float(integrated_brier_score(t[rows], e[rows], matrix[rows], grid).integrated)

    point = value(np.arange(t.shape[0]))
    replicates = loop_replicates(
        value, (), t.shape[0], patient_ids=patient_ids, n_boot=n_boot, random_state=random_state
    )
    [estimate] = with_intervals(replicates, point, ci_level)
    return IntegratedBrierEstimate(
        estimate.estimate, estimate.ci_low, estimate.ci_high, grid[0], grid[-1], grid.shape[0]
    )
