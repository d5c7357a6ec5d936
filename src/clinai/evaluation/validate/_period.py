"""The performance a monitoring period reports: the monitor's subset of ``metrics.json``.

:func:`period_performance` gives the same numbers as
:func:`~clinai.evaluation.evaluate_predictions` for the eight metrics the monitor
reports (the same checks, fits, draws and intervals), without what the monitor does
not report. On the fast path (from 20,000 rows) that saves the average precision of
every replicate (about a tenth of a replicate's work) and, among the point estimates,
the average precision, Brier scores, DeLong's interval, the decision curve and the ROC
points (about 0.8 s of 1.6 s per period of 833,000 rows). Below it,
:func:`evaluate_predictions` itself is called.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from clinai.evaluation._estimate import Estimate
from clinai.evaluation.calibration._calibration import (
    LOWESS_FRAC,
    _errors_from_fit,
    _lowess_fit,
    oe_ratio,
)
from clinai.evaluation.discrimination._metrics import auroc_score
from clinai.evaluation.resampling import engine
from clinai.evaluation.resampling._fast_bootstrap import FAST_BOOTSTRAP_MIN_ROWS
from clinai.evaluation.resampling._fast_lowess import binned_errors
from clinai.evaluation.resampling.engine import Progress, RandomState
from clinai.evaluation.thresholds._thresholds import _threshold_weighted
from clinai.evaluation.validate._steps import Inputs, calibration_fits, check_inputs, fast_path
from clinai.evaluation.validate._validate import evaluate_predictions

__all__ = ["BINNED_ICI_MIN_ROWS", "PERIOD_METRICS", "PeriodPerformance", "period_performance"]

#: From this many rows on, a period's point ICI is that of the binned LOWESS its
#: bootstrap replicates already use (``resampling._fast_lowess.binned_errors``), not
#: statsmodels' exact smooth: 0.1-0.2 s instead of 0.7-1.0 s per period of 850,000 rows,
#: about 8 s of CPU in a pass over 10^7 predictions in 12 periods. A documented
#: approximation, measured against the exact smooth (2026-12-04): largest difference of
#: the ICI 2.6e-6 on a period of the 10^7-row benchmark (ICI 0.0091, its 95% interval
#: +-6.4e-4), and at most 1.4e-5 over calibrated, miscalibrated (slope 1.3, risks rounded
#: to 0.01) and rare-event (2%) samples of 500,000 and 10^6 rows: under 5% of the
#: bootstrap standard error at these sizes (tests/evaluation/validate/test_period.py).
#: Below this size, and in ``evaluate_predictions`` at any size, the ICI is exact.
BINNED_ICI_MIN_ROWS = 500_000

#: The metrics of a period, in ``to_dict()`` order.
PERIOD_METRICS = (
    "auroc",
    "oe_ratio",
    "calibration_intercept",
    "calibration_slope",
    "ici",
    "alert_rate",
    "sensitivity",
    "ppv",
)


@dataclass(frozen=True)
class PeriodPerformance:
    """A period's realised performance at the operating threshold, with bootstrap intervals.

    Attributes
    ----------
    auroc, oe_ratio, calibration_intercept, calibration_slope, ici : Estimate
        As in ``metrics.json`` (definitions: :func:`auroc_score`, :func:`oe_ratio`,
        :func:`calibration_intercept`, :func:`calibration_slope`, :func:`calibration_errors`).
    alert_rate, sensitivity, ppv : Estimate
        At the operating threshold (``flag_rate``, ``sensitivity`` and ``ppv`` of
        :func:`threshold_metrics`: a risk at or above the threshold is an alert).
    """

    auroc: Estimate
    oe_ratio: Estimate
    calibration_intercept: Estimate
    calibration_slope: Estimate
    ici: Estimate
    alert_rate: Estimate
    sensitivity: Estimate
    ppv: Estimate

    def to_dict(self) -> dict[str, dict[str, float | None]]:
        """Return ``{metric: {"estimate", "ci_low", "ci_high"}}`` in ``PERIOD_METRICS`` order."""
        return {name: getattr(self, name).to_dict() for name in PERIOD_METRICS}


def _from_validation(result: Any) -> PeriodPerformance:
    """Pick the period's metrics from a :class:`ValidationResult`."""
    calibration, row = result.calibration, result.thresholds[0]
    return PeriodPerformance(
        auroc=result.auroc,
        oe_ratio=calibration.oe_ratio,
        calibration_intercept=calibration.intercept,
        calibration_slope=calibration.slope,
        ici=calibration.ici,
        alert_rate=row.flag_rate,
        sensitivity=row.sensitivity,
        ppv=row.ppv,
    )


def _point_estimates(inputs: Inputs, grid: np.ndarray) -> dict[str, Any]:
    """Return the point estimates of :func:`period_performance` but the calibration fits.

    ``grid`` (the calibration curve's) places the binned smooth's fit points from
    :data:`BINNED_ICI_MIN_ROWS` rows on; the period reports no curve.
    """
    y, p = inputs.y, inputs.p
    if y.shape[0] >= BINNED_ICI_MIN_ROWS:
        errors = binned_errors(y, p, grid, LOWESS_FRAC)
    else:
        errors = _errors_from_fit(p, _lowess_fit(y, p, LOWESS_FRAC))
    return {
        "auroc": auroc_score(y, p),
        "oe_ratio": oe_ratio(y, p),
        "errors": errors,
        "thresholds": _threshold_weighted(y, p, np.ones((1, y.shape[0])), inputs.full_grid)[0],
    }


def _estimate(replicates: np.ndarray, point: float, level: float, **bound: Any) -> Estimate:
    low, high, _ = engine.contained_interval(replicates, point, level, **bound)
    return Estimate(point, float(low), float(high))


def period_performance(
    y_true: Any,
    y_prob: Any,
    *,
    threshold: float,
    patient_ids: Any = None,
    n_boot: int = 200,
    ci_level: float = 0.95,
    random_state: RandomState = 0,
    progress: Progress | None = None,
) -> PeriodPerformance:
    """Realised performance of one monitoring period, with patient-clustered bootstrap CIs.

    Equal, metric for metric, to the same metrics of
    ``evaluate_predictions(y_true, y_prob, patient_ids=patient_ids,
    thresholds=(threshold,), dca_thresholds=(threshold,), n_boot=n_boot,
    ci_level=ci_level, random_state=random_state)`` (tested); computes only them.
    From :data:`BINNED_ICI_MIN_ROWS` rows on, the ICI's point estimate is the binned
    smooth's (within about 1e-5 of the exact one; the replicates are the same).

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Observed outcomes, 0 or 1, both present.
    y_prob : array-like of shape (n,)
        Predicted risks in [0, 1].
    threshold : float
        The operating threshold (an alert when the risk is at or above it).
    patient_ids : array-like of shape (n,), optional
        Patient of each row; the bootstrap then resamples patients.
    n_boot : int, default=200
        Bootstrap replicates.
    ci_level : float, default=0.95
        Level of the percentile intervals.
    random_state : int, numpy.random.SeedSequence or None, default=0
        Seed of the resampling.
    progress : callable, optional
        Called as ``progress(done, n_boot)``.

    Returns
    -------
    PeriodPerformance

    Raises
    ------
    DataError
        As :func:`evaluate_predictions`: one-class or invalid input, a bad threshold.
    """
    arguments: dict[str, Any] = {
        "patient_ids": patient_ids,
        "thresholds": (threshold,),
        "dca_thresholds": (threshold,),
        "n_boot": n_boot,
        "ci_level": ci_level,
        "random_state": random_state,
    }
    inputs = check_inputs(
        y_true,
        y_prob,
        min_cell=5,
        subgroup_threshold=None,
        y_baseline=None,
        baseline_name=None,
        target_sensitivities=(),
        **arguments,
    )
    if inputs.y.shape[0] < FAST_BOOTSTRAP_MIN_ROWS or inputs.n_boot == 0:
        return _from_validation(
            evaluate_predictions(y_true, y_prob, progress=progress, **arguments)
        )
    return _fast_period(inputs, progress)


def _fast_period(inputs: Inputs, progress: Callable[[int, int], None] | None) -> PeriodPerformance:
    """Compute on the fast path: point estimates beside the bootstrap's threads."""
    fits = calibration_fits(inputs.y, inputs.p)
    point, replicates = fast_path(
        inputs, fits, progress, estimates=_point_estimates, average_precision=False
    )
    level = inputs.level
    errors = point["errors"]
    ici_low, ici_high, _ = engine.contained_interval(
        replicates["lowess"][:, :3], np.asarray(errors), level, lower_bound=0.0
    )
    low, high, _ = engine.contained_interval(replicates["thresholds"], point["thresholds"], level)
    rates = point["thresholds"][0]

    def at_threshold(column: int) -> Estimate:
        return Estimate(float(rates[column]), float(low[0, column]), float(high[0, column]))

    return PeriodPerformance(
        auroc=_estimate(replicates["auroc"], point["auroc"], level),
        oe_ratio=_estimate(replicates["oe_ratio"], point["oe_ratio"], level),
        calibration_intercept=_estimate(replicates["intercept"], fits.intercept, level),
        calibration_slope=_estimate(replicates["slope"], fits.slope, level),
        ici=Estimate(float(errors[0]), float(ici_low[0]), float(ici_high[0])),
        alert_rate=at_threshold(4),
        sensitivity=at_threshold(0),
        ppv=at_threshold(2),
    )
