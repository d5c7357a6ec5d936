"""Validate a model's predictions: every metric of ``metrics.json`` in one call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from clinai.evaluation._bootstrap import (
    Progress,
    RandomState,
    _cluster_codes,
    _n_undefined,
    _percentile_interval,
    _run_replicates,
)
from clinai.evaluation._calibration import (
    LOWESS_FRAC,
    _curve_from_fit,
    _errors_from_fit,
    _intercept_weighted,
    _lowess_fit,
    _oe_weighted,
    _slope_weighted,
    calibration_grid,
    calibration_intercept,
    calibration_slope,
    oe_ratio,
)
from clinai.evaluation._decision_curve import DEFAULT_DCA_THRESHOLDS, decision_curve
from clinai.evaluation._fairness import _check_min_cell, _seed_sequence, subgroup_metrics
from clinai.evaluation._inputs import (
    check_ci_level,
    check_n_boot,
    check_threshold,
    check_thresholds,
    check_y,
)
from clinai.evaluation._metrics import (
    _auroc_weighted,
    _average_precision_weighted,
    _brier_weighted,
    _scaled_brier_weighted,
    auroc_score,
    average_precision_score,
    brier_score,
    roc_curve_points,
    scaled_brier_score,
)
from clinai.evaluation._results import (
    CalibrationCurvePoint,
    CalibrationResult,
    Estimate,
    ThresholdEstimates,
    ValidationResult,
)
from clinai.evaluation._thresholds import _threshold_weighted

__all__ = ["CALIBRATION_CURVE_POINTS", "ROC_CURVE_POINTS", "evaluate_predictions"]

#: Grid points of the calibration curve in ``metrics.json``.
CALIBRATION_CURVE_POINTS = 20
#: Largest number of ROC curve points in ``metrics.json``.
ROC_CURVE_POINTS = 200

_SCALARS = ("auroc", "auprc", "brier", "scaled_brier", "intercept", "slope", "oe_ratio")


def _lowess_replicate(grid: np.ndarray) -> Any:
    """Per-resample ICI, E50, E90 and calibration curve on ``grid``, as one vector."""

    def metric(y: np.ndarray, p: np.ndarray) -> np.ndarray:
        events = y.sum()
        if events == 0 or events == y.shape[0]:
            return np.full(3 + grid.shape[0], np.nan)
        smooth = _lowess_fit(y, p, LOWESS_FRAC)
        errors = _errors_from_fit(p, smooth)
        return np.concatenate([errors, _curve_from_fit(p, smooth, grid)])

    return metric


def evaluate_predictions(
    y_true: Any,
    y_prob: Any,
    *,
    patient_ids: Any = None,
    sensitive_features: pd.DataFrame | None = None,
    thresholds: Sequence[float] = (0.1, 0.2, 0.3),
    dca_thresholds: Sequence[float] | np.ndarray | None = None,
    n_boot: int = 200,
    ci_level: float = 0.95,
    min_cell: int = 5,
    random_state: RandomState = 0,
    progress: Progress | None = None,
    subgroup_threshold: float | None = None,
) -> ValidationResult:
    """Validate predicted probabilities against observed outcomes.

    Computes, with percentile bootstrap intervals (resampling patients when
    ``patient_ids`` is given): discrimination (:func:`auroc_score`,
    :func:`average_precision_score`), overall accuracy (:func:`brier_score`,
    :func:`scaled_brier_score`), calibration (:func:`calibration_intercept`,
    :func:`calibration_slope`, :func:`oe_ratio`, ICI/E50/E90 from
    :func:`calibration_errors`, and the LOWESS calibration curve on 20 points
    across the observed range of ``y_prob`` with a pointwise band), the
    threshold metrics (:func:`threshold_metrics`) at each of ``thresholds``;
    and without intervals the decision curve (:func:`decision_curve`), the ROC
    curve (at most 200 points) and, given ``sensitive_features``, the metrics
    of each subgroup (:func:`subgroup_metrics`). The definitions are in each
    function's docstring and in DESIGN.md.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Observed outcome, 0 or 1.
    y_prob : array-like of shape (n,)
        Predicted probability of the event.
    patient_ids : array-like of shape (n,), optional
        Patient of each row; the bootstrap then resamples patients, not rows.
    sensitive_features : pandas.DataFrame, optional
        One column per attribute (e.g. sex, age band), one row per prediction.
    thresholds : sequence of float, default=(0.1, 0.2, 0.3)
        Risk thresholds (strictly between 0 and 1) of the threshold metrics.
    dca_thresholds : sequence of float, optional
        Thresholds of the decision curve; default 0.01, 0.02, ..., 0.50.
    n_boot : int, default=200
        Bootstrap resamples (0: no intervals).
    ci_level : float, default=0.95
        Confidence level of the intervals.
    min_cell : int, default=5
        Subgroups with fewer rows, patients, events or non-events are suppressed.
    random_state : int, numpy.random.Generator or None, default=0
        Seed of the bootstrap; the same seed gives the same numbers.
    progress : callable, optional
        Called as ``progress(done, n_boot)`` as bootstrap replicates complete.
    subgroup_threshold : float, optional
        Threshold of the subgroups' sensitivity and specificity; default the
        first of ``thresholds`` (0.5 when ``thresholds`` is empty).

    Returns
    -------
    ValidationResult
        Its ``to_dict()`` is ``metrics.json``, schema version 1.

    Raises
    ------
    DataError
        On invalid or one-class input, or an invalid parameter; the message
        names the argument.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0.05, 0.6, size=300)
    >>> y = rng.binomial(1, p)
    >>> result = evaluate_predictions(y, p, n_boot=20)
    >>> sorted(result.to_dict())[:4]
    ['acceptance', 'auprc', 'auroc', 'baseline_comparison']
    """
    y, p = check_y(y_true, y_prob)
    n = y.shape[0]
    threshold_grid = check_thresholds(list(thresholds), name="thresholds")
    dca_grid = (
        DEFAULT_DCA_THRESHOLDS
        if dca_thresholds is None
        else check_thresholds(dca_thresholds, name="dca_thresholds")
    )
    n_boot = check_n_boot(n_boot)
    level = check_ci_level(ci_level)
    cell = _check_min_cell(min_cell)
    codes, n_clusters = _cluster_codes(patient_ids, n)
    if subgroup_threshold is not None:
        group_threshold = check_threshold(subgroup_threshold, name="subgroup_threshold")
    else:
        group_threshold = float(threshold_grid[0]) if threshold_grid.shape[0] else 0.5
    seeds = _seed_sequence(random_state)

    # point estimates
    point = {
        "auroc": auroc_score(y, p),
        "auprc": average_precision_score(y, p),
        "brier": brier_score(y, p),
        "scaled_brier": scaled_brier_score(y, p),
        "intercept": calibration_intercept(y, p),
        "slope": calibration_slope(y, p),
        "oe_ratio": oe_ratio(y, p),
    }
    grid = calibration_grid(p, CALIBRATION_CURVE_POINTS)
    smooth = _lowess_fit(y, p, LOWESS_FRAC)
    ici, e50, e90 = _errors_from_fit(p, smooth)
    curve = _curve_from_fit(p, smooth, grid)
    threshold_point = _threshold_weighted(y, p, np.ones((1, n)), threshold_grid)[0]

    # bootstrap
    replicates = _run_replicates(
        y,
        p,
        weighted={
            "auroc": _auroc_weighted,
            "auprc": _average_precision_weighted,
            "brier": _brier_weighted,
            "scaled_brier": _scaled_brier_weighted,
            "intercept": _intercept_weighted,
            "slope": _slope_weighted,
            "oe_ratio": _oe_weighted,
            "thresholds": lambda a, b, w: _threshold_weighted(a, b, w, threshold_grid),
        },
        resampled={"lowess": _lowess_replicate(grid)},
        shapes={
            **{name: () for name in _SCALARS},
            "thresholds": (threshold_grid.shape[0], 5),
            "lowess": (3 + grid.shape[0],),
        },
        codes=codes,
        n_clusters=n_clusters,
        n_boot=n_boot,
        rng=np.random.default_rng(seeds),
        progress=progress,
    )
    estimates: dict[str, Estimate] = {}
    for name in _SCALARS:
        low, high = _percentile_interval(replicates[name], level)
        estimates[name] = Estimate(point[name], float(low), float(high))
    lowess_low, lowess_high = _percentile_interval(replicates["lowess"], level)
    for k, (name, value) in enumerate((("ici", ici), ("e50", e50), ("e90", e90))):
        estimates[name] = Estimate(value, float(lowess_low[k]), float(lowess_high[k]))
    curve_points = tuple(
        CalibrationCurvePoint(float(g), float(o), float(lo), float(hi))
        for g, o, lo, hi in zip(grid, curve, lowess_low[3:], lowess_high[3:], strict=True)
    )
    thr_low, thr_high = _percentile_interval(replicates["thresholds"], level)
    threshold_results = tuple(
        ThresholdEstimates(
            float(t),
            *(
                Estimate(float(threshold_point[i, j]), float(thr_low[i, j]), float(thr_high[i, j]))
                for j in range(5)
            ),
        )
        for i, t in enumerate(threshold_grid)
    )
    n_skipped = {name: _n_undefined(replicates[name]) for name in _SCALARS}
    lowess_skipped = _n_undefined(replicates["lowess"][:, :3])
    n_skipped.update(ici=lowess_skipped, e50=lowess_skipped, e90=lowess_skipped)
    n_skipped["thresholds"] = _n_undefined(replicates["thresholds"])

    subgroups = {}
    if sensitive_features is not None:
        subgroups = subgroup_metrics(
            y,
            p,
            sensitive_features,
            threshold=group_threshold,
            min_cell=cell,
            patient_ids=patient_ids,
            n_boot=n_boot,
            ci_level=level,
            random_state=seeds.spawn(1)[0],
        )
    events = int(y.sum())
    return ValidationResult(
        n=n,
        events=events,
        prevalence=events / n,
        auroc=estimates["auroc"],
        auprc=estimates["auprc"],
        brier=estimates["brier"],
        scaled_brier=estimates["scaled_brier"],
        calibration=CalibrationResult(
            intercept=estimates["intercept"],
            slope=estimates["slope"],
            oe_ratio=estimates["oe_ratio"],
            ici=estimates["ici"],
            e50=estimates["e50"],
            e90=estimates["e90"],
            curve=curve_points,
        ),
        thresholds=threshold_results,
        decision_curve=decision_curve(y, p, thresholds=dca_grid),
        subgroups=subgroups,
        roc_curve=roc_curve_points(y, p, max_points=ROC_CURVE_POINTS),
        n_boot=n_boot,
        ci_level=level,
        n_patients=None if patient_ids is None else n_clusters,
        n_skipped=n_skipped,
    )
