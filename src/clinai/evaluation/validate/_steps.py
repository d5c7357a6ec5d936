"""The named steps of :func:`~clinai.evaluation.evaluate_predictions`, in the order it runs them.

1. :func:`check_inputs`: every argument checked (one clear line naming it) and the
   seed fixed; the thresholds of the target sensitivities are found here.
2. :func:`calibration_fits`: the calibration intercept and slope on the full sample
   (the fast bootstrap expands around them) and the calibration curve's grid.
3. :func:`bootstrap_replicates`: every other point estimate (:func:`point_estimates`)
   and the bootstrap replicates of every metric, by the fast path of
   :mod:`clinai.evaluation.resampling._fast_bootstrap` from
   :data:`FAST_BOOTSTRAP_MIN_ROWS` rows on, else by the general engine.
4. :func:`scalar_estimates`, :func:`calibration_estimates` and
   :func:`threshold_estimates`: estimates with intervals that contain them; each
   moved bound is named in ``ci_extended``. :func:`skipped_counts` counts the
   resamples where a metric was undefined.
5. :func:`baseline_comparison` reuses the replicates; :func:`subgroups` draws its
   own resamples from a seed spawned after the bootstrap's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from clinai.evaluation._estimate import Estimate
from clinai.evaluation._inputs import (
    check_ci_level,
    check_min_cell,
    check_n_boot,
    check_threshold,
    check_thresholds,
    check_y,
)
from clinai.evaluation.calibration._calibration import (
    LOWESS_FRAC,
    CalibrationCurvePoint,
    CalibrationResult,
    _curve_from_fit,
    _errors_from_fit,
    _fit_slope,
    _logit_clipped,
    _lowess_fit,
    calibration_grid,
    calibration_intercept,
)
from clinai.evaluation.comparison._comparison import (
    BaselineComparison,
    _assemble,
    _check_name,
    _comparison_shapes,
    _comparison_weighted,
    _is_probability,
    check_baseline,
)
from clinai.evaluation.discrimination._delong import _delong_ci_arrays
from clinai.evaluation.discrimination._metrics import roc_curve_points
from clinai.evaluation.fairness._subgroups import SubgroupResult, subgroup_metrics
from clinai.evaluation.resampling import engine
from clinai.evaluation.resampling._bootstrap import _SCALAR_METRICS
from clinai.evaluation.resampling._fast_bootstrap import FAST_BOOTSTRAP_MIN_ROWS, fast_replicates
from clinai.evaluation.resampling.engine import Clusters, Progress, RandomState
from clinai.evaluation.thresholds._decision_curve import DEFAULT_DCA_THRESHOLDS, decision_curve
from clinai.evaluation.thresholds._targets import _target_thresholds, check_targets
from clinai.evaluation.thresholds._thresholds import ThresholdEstimates, _threshold_weighted
from clinai.exceptions import DataError

__all__ = [
    "BASELINE_NAME_WITHOUT_SCORE_MSG",
    "CALIBRATION_CURVE_POINTS",
    "ROC_CURVE_POINTS",
]

#: Grid points of the calibration curve in ``metrics.json``.
CALIBRATION_CURVE_POINTS = 20
#: Largest number of ROC curve points in ``metrics.json``.
ROC_CURVE_POINTS = 200

_SCALARS = tuple(_SCALAR_METRICS)
#: The scalars whose point estimates come from :func:`calibration_fits`.
_FITTED = ("intercept", "slope")
#: Where each scalar sits in ``metrics.json`` (the names of ``ci_extended``).
_SCALAR_PATHS = {
    "auroc": "auroc",
    "auprc": "auprc",
    "brier": "brier",
    "scaled_brier": "scaled_brier",
    "intercept": "calibration.intercept",
    "slope": "calibration.slope",
    "oe_ratio": "calibration.oe_ratio",
}
_THRESHOLD_METRICS = ("sensitivity", "specificity", "ppv", "npv", "flag_rate")

BASELINE_NAME_WITHOUT_SCORE_MSG = (
    "baseline_name {name!r} was given without y_baseline: pass the baseline's scores too"
)


@dataclass(frozen=True, eq=False)
class Inputs:
    """The checked arguments of one validation (rows stay here, never in a report)."""

    y: np.ndarray
    p: np.ndarray
    #: The thresholds given, then all thresholds: those given and the targets' ones.
    threshold_grid: np.ndarray
    full_grid: np.ndarray
    targets: np.ndarray
    dca_grid: np.ndarray
    n_boot: int
    level: float
    min_cell: int
    #: Resampling units: patients, or rows when each row is its own patient.
    clusters: Clusters
    group_threshold: float
    baseline: np.ndarray | None
    baseline_label: str
    baseline_probability: bool
    seeds: np.random.SeedSequence


@dataclass(frozen=True, eq=False)
class CalibrationFits:
    """The full-sample calibration fits and the calibration curve's grid."""

    intercept: float
    #: The calibration slope model's (c, b) arrays, as calibration_slope() fits it.
    slope_fit: tuple[np.ndarray, np.ndarray]
    grid: np.ndarray

    @property
    def slope(self) -> float:
        """The calibration slope ``b``."""
        return float(self.slope_fit[1][0])


def _check_baseline_args(y_baseline: Any, baseline_name: Any, n: int) -> tuple[Any, str]:
    """Return the checked baseline scores (or None) and the baseline's name."""
    if y_baseline is not None:
        label = "baseline" if baseline_name is None else _check_name(baseline_name)
        return check_baseline(y_baseline, n, name=label), label
    if baseline_name is not None:
        raise DataError(BASELINE_NAME_WITHOUT_SCORE_MSG.format(name=baseline_name))
    return None, "baseline"


def check_inputs(
    y_true: Any,
    y_prob: Any,
    *,
    patient_ids: Any,
    thresholds: Sequence[float],
    dca_thresholds: Sequence[float] | np.ndarray | None,
    n_boot: int,
    ci_level: float,
    min_cell: int,
    random_state: RandomState,
    subgroup_threshold: float | None,
    y_baseline: Any,
    baseline_name: str | None,
    target_sensitivities: Sequence[float],
) -> Inputs:
    """Check every argument of :func:`evaluate_predictions`, in the order of its signature."""
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
    cell = check_min_cell(min_cell)
    clusters = engine.clusters_of(patient_ids, n)
    if subgroup_threshold is not None:
        group_threshold = check_threshold(subgroup_threshold, name="subgroup_threshold")
    else:
        group_threshold = float(threshold_grid[0]) if threshold_grid.shape[0] else 0.5
    targets = check_targets(list(target_sensitivities))
    baseline, baseline_label = _check_baseline_args(y_baseline, baseline_name, n)
    target_grid = _target_thresholds(y, p, targets)
    return Inputs(
        y=y,
        p=p,
        threshold_grid=threshold_grid,
        full_grid=np.concatenate([threshold_grid, target_grid]),
        targets=targets,
        dca_grid=dca_grid,
        n_boot=n_boot,
        level=level,
        min_cell=cell,
        clusters=clusters,
        group_threshold=group_threshold,
        baseline=baseline,
        baseline_label=baseline_label,
        baseline_probability=baseline is not None and _is_probability(baseline),
        seeds=engine.seed_sequence(random_state),
    )


def calibration_fits(y: np.ndarray, p: np.ndarray) -> CalibrationFits:
    """Fit the calibration slope model and intercept on the full sample; place the curve's grid."""
    slope_fit = _fit_slope(y, _logit_clipped(p), np.ones((1, y.shape[0])))
    intercept = calibration_intercept(y, p)
    grid = calibration_grid(p, CALIBRATION_CURVE_POINTS)
    return CalibrationFits(intercept=intercept, slope_fit=slope_fit, grid=grid)


def point_estimates(inputs: Inputs, grid: np.ndarray) -> dict[str, Any]:
    """Every point estimate of :func:`evaluate_predictions` but the calibration fits.

    The clustered DeLong interval uses the patient codes when patients have several rows.
    """
    y, p = inputs.y, inputs.p
    smooth = _lowess_fit(y, p, LOWESS_FRAC)
    return {
        "point": {
            name: metric(y, p)
            for name, (metric, _) in _SCALAR_METRICS.items()
            if name not in _FITTED
        },
        "errors": _errors_from_fit(p, smooth),
        "curve": _curve_from_fit(p, smooth, grid),
        "thresholds": _threshold_weighted(y, p, np.ones((1, y.shape[0])), inputs.full_grid)[0],
        "auroc_delong": _delong_ci_arrays(
            y, p, inputs.level, "logit", inputs.clusters.patient_codes
        ),
        "decision_curve": decision_curve(y, p, thresholds=inputs.dca_grid),
        "roc_curve": roc_curve_points(y, p, max_points=ROC_CURVE_POINTS),
    }


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


def fast_path(
    inputs: Inputs,
    fits: CalibrationFits,
    progress: Progress | None,
    *,
    estimates: Callable[[Inputs, np.ndarray], dict[str, Any]] | None = None,
    average_precision: bool = True,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Point estimates and the fast bootstrap's replicates, side by side.

    On the large samples of the fast path the point estimates (about 4 s at
    n = 10^6, mostly single-threaded) run beside the bootstrap's threads.
    ``estimates(inputs, grid)`` replaces :func:`point_estimates` (a caller that
    reports fewer metrics), and ``average_precision=False`` leaves that metric's
    replicates out.
    """
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(estimates or point_estimates, inputs, fits.grid)
        replicates = fast_replicates(
            inputs.y,
            inputs.p,
            clusters=inputs.clusters,
            thresholds=inputs.full_grid,
            curve_grid=fits.grid,
            intercept=fits.intercept,
            slope_fit=(float(fits.slope_fit[0][0]), float(fits.slope_fit[1][0])),
            n_boot=inputs.n_boot,
            seed=np.random.SeedSequence(int(np.random.default_rng(inputs.seeds).integers(2**63))),
            baseline=inputs.baseline,
            baseline_probability=inputs.baseline_probability,
            nb_thresholds=inputs.threshold_grid,
            progress=progress,
            average_precision=average_precision,
        )
        return future.result(), replicates


def _weighted_metrics(inputs: Inputs, grid: np.ndarray) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the vectorised metrics the general engine computes from counts, and their shapes."""
    full_grid = inputs.full_grid
    weighted = {
        **{name: vectorised for name, (_, vectorised) in _SCALAR_METRICS.items()},
        "thresholds": lambda a, b, w: _threshold_weighted(a, b, w, full_grid),
    }
    shapes: dict[str, tuple[int, ...]] = {
        **{key: () for key in _SCALARS},
        "thresholds": (full_grid.shape[0], 5),
        "lowess": (3 + grid.shape[0],),
    }
    if inputs.baseline is not None:
        probability = inputs.baseline_probability
        weighted.update(
            _comparison_weighted(inputs.baseline, inputs.threshold_grid, probability=probability)
        )
        shapes.update(_comparison_shapes(inputs.threshold_grid.shape[0], probability=probability))
    return weighted, shapes


def bootstrap_replicates(
    inputs: Inputs, fits: CalibrationFits, progress: Progress | None
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Return the point estimates and every metric's bootstrap replicates."""
    if inputs.y.shape[0] >= FAST_BOOTSTRAP_MIN_ROWS and inputs.n_boot > 0:
        return fast_path(inputs, fits, progress)
    rest = point_estimates(inputs, fits.grid)
    weighted, shapes = _weighted_metrics(inputs, fits.grid)
    replicates = engine.run_replicates(
        inputs.y,
        inputs.p,
        weighted=weighted,
        resampled={"lowess": _lowess_replicate(fits.grid)},
        shapes=shapes,
        clusters=inputs.clusters,
        n_boot=inputs.n_boot,
        rng=np.random.default_rng(inputs.seeds),
        progress=progress,
    )
    return rest, replicates


def scalar_estimates(
    point: dict[str, float], replicates: dict[str, np.ndarray], level: float
) -> tuple[dict[str, Estimate], list[str]]:
    """Return the seven scalars with intervals and the ``metrics.json`` paths of moved bounds."""
    estimates: dict[str, Estimate] = {}
    extended: list[str] = []
    for name in _SCALARS:
        low, high, moved = engine.contained_interval(replicates[name], point[name], level)
        estimates[name] = Estimate(point[name], float(low), float(high))
        if moved:
            extended.append(_SCALAR_PATHS[name])
    return estimates, extended


def calibration_estimates(
    scalars: dict[str, Estimate],
    rest: dict[str, Any],
    grid: np.ndarray,
    replicates: dict[str, np.ndarray],
    level: float,
) -> tuple[CalibrationResult, list[str]]:
    """Return the calibration block: the fits, ICI/E50/E90 and the curve with its band.

    ICI, E50 and E90 are nonnegative and sit on a positive noise floor, so their
    intervals may reach down to 0 (the lower bound).
    """
    ici, e50, e90 = rest["errors"]
    curve = rest["curve"]
    lowess = replicates["lowess"]
    errors_low, errors_high, errors_moved = engine.contained_interval(
        lowess[:, :3], np.array([ici, e50, e90]), level, lower_bound=0.0
    )
    errors: dict[str, Estimate] = {}
    extended: list[str] = []
    for k, (name, value) in enumerate((("ici", ici), ("e50", e50), ("e90", e90))):
        errors[name] = Estimate(value, float(errors_low[k]), float(errors_high[k]))
        if errors_moved[k]:
            extended.append(f"calibration.{name}")
    curve_low, curve_high, curve_moved = engine.contained_interval(lowess[:, 3:], curve, level)
    extended += [f"calibration.curve[{k}]" for k in np.flatnonzero(curve_moved)]
    curve_points = tuple(
        CalibrationCurvePoint(float(g), float(o), float(lo), float(hi))
        for g, o, lo, hi in zip(grid, curve, curve_low, curve_high, strict=True)
    )
    result = CalibrationResult(
        intercept=scalars["intercept"],
        slope=scalars["slope"],
        oe_ratio=scalars["oe_ratio"],
        **errors,
        curve=curve_points,
    )
    return result, extended


def _five_estimates(
    point: np.ndarray, low: np.ndarray, high: np.ndarray
) -> tuple[Estimate, Estimate, Estimate, Estimate, Estimate]:
    """Sensitivity, specificity, PPV, NPV and flag rate at one threshold."""
    a, b, c, d, e = (Estimate(float(point[j]), float(low[j]), float(high[j])) for j in range(5))
    return a, b, c, d, e


def threshold_estimates(
    inputs: Inputs, point: np.ndarray, replicates: dict[str, np.ndarray]
) -> tuple[tuple[ThresholdEstimates, ...], list[str]]:
    """Return the five threshold metrics at each threshold (given ones, then the targets')."""
    low, high, moved = engine.contained_interval(replicates["thresholds"], point, inputs.level)
    extended = [f"thresholds[{i}].{_THRESHOLD_METRICS[j]}" for i, j in np.argwhere(moved)]
    n_regular = inputs.threshold_grid.shape[0]
    results = tuple(
        ThresholdEstimates(
            float(t),
            *_five_estimates(point[i], low[i], high[i]),
            target_sensitivity=None if i < n_regular else float(inputs.targets[i - n_regular]),
        )
        for i, t in enumerate(inputs.full_grid)
    )
    return results, extended


def skipped_counts(replicates: dict[str, np.ndarray]) -> dict[str, int]:
    """Count the resamples where each metric was undefined (one class, or a failed fit)."""
    n_skipped = {name: engine.n_undefined(replicates[name]) for name in _SCALARS}
    lowess_skipped = engine.n_undefined(replicates["lowess"][:, :3])
    n_skipped.update(ici=lowess_skipped, e50=lowess_skipped, e90=lowess_skipped)
    n_skipped["thresholds"] = engine.n_undefined(replicates["thresholds"])
    return n_skipped


def baseline_comparison(
    inputs: Inputs, replicates: dict[str, np.ndarray]
) -> BaselineComparison | None:
    """Compare with the baseline score on the same resamples (None without a baseline)."""
    if inputs.baseline is None:
        return None
    return _assemble(
        inputs.y,
        inputs.p,
        inputs.baseline,
        name=inputs.baseline_label,
        thresholds=inputs.threshold_grid,
        replicates=replicates,
        n_boot=inputs.n_boot,
        ci_level=inputs.level,
        codes=inputs.clusters.patient_codes,
    )


def subgroups(
    inputs: Inputs, sensitive_features: pd.DataFrame | None, patient_ids: Any
) -> dict[str, SubgroupResult]:
    """Return each subgroup's metrics, on resamples seeded by a child of the validation's seed."""
    if sensitive_features is None:
        return {}
    return subgroup_metrics(
        inputs.y,
        inputs.p,
        sensitive_features,
        threshold=inputs.group_threshold,
        min_cell=inputs.min_cell,
        patient_ids=patient_ids,
        n_boot=inputs.n_boot,
        ci_level=inputs.level,
        random_state=inputs.seeds.spawn(1)[0],
    )
