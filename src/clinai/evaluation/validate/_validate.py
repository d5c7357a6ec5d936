"""Validate a model's predictions: every metric of ``metrics.json`` in one call."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from clinai.evaluation._estimate import Estimate, _num, _plain
from clinai.evaluation._inputs import (
    check_ci_level,
    check_min_cell,
    check_n_boot,
    check_threshold,
    check_thresholds,
    check_y,
)
from clinai.evaluation.acceptance._acceptance import AcceptanceResult
from clinai.evaluation.bootstrap._bootstrap import (
    CI_METHOD,
    Progress,
    RandomState,
    _cluster_codes,
    _contained_interval,
    _n_undefined,
    _run_replicates,
    _seed_sequence,
)
from clinai.evaluation.bootstrap._fast_bootstrap import FAST_BOOTSTRAP_MIN_ROWS, fast_replicates
from clinai.evaluation.calibration._calibration import (
    LOWESS_FRAC,
    CalibrationCurvePoint,
    CalibrationResult,
    _curve_from_fit,
    _errors_from_fit,
    _fit_slope,
    _intercept_weighted,
    _logit_clipped,
    _lowess_fit,
    _oe_weighted,
    _slope_weighted,
    calibration_grid,
    calibration_intercept,
    oe_ratio,
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
from clinai.evaluation.discrimination._metrics import (
    RocPoint,
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
from clinai.evaluation.fairness._subgroups import SubgroupResult, subgroup_metrics
from clinai.evaluation.thresholds._decision_curve import (
    DEFAULT_DCA_THRESHOLDS,
    DecisionCurvePoint,
    decision_curve,
)
from clinai.evaluation.thresholds._thresholds import ThresholdEstimates, _threshold_weighted
from clinai.exceptions import DataError

__all__ = [
    "BASELINE_NAME_WITHOUT_SCORE_MSG",
    "CALIBRATION_CURVE_POINTS",
    "ROC_CURVE_POINTS",
    "TARGET_SENSITIVITY_MSG",
    "evaluate_predictions",
    "target_sensitivity_threshold",
]

#: Grid points of the calibration curve in ``metrics.json``.
CALIBRATION_CURVE_POINTS = 20
#: Largest number of ROC curve points in ``metrics.json``.
ROC_CURVE_POINTS = 200

_SCALARS = ("auroc", "auprc", "brier", "scaled_brier", "intercept", "slope", "oe_ratio")
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

TARGET_SENSITIVITY_MSG = (
    "target_sensitivities must be numbers in (0, 1] (e.g. 0.9 for 90% of events flagged); "
    "got {value!r}"
)
BASELINE_NAME_WITHOUT_SCORE_MSG = (
    "baseline_name {name!r} was given without y_baseline: pass the baseline's scores too"
)


#: Version of the ``metrics.json`` schema that :meth:`ValidationResult.to_dict` writes.
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class ValidationResult:
    """Everything :func:`evaluate_predictions` measures; ``to_dict()`` is ``metrics.json`` v1.

    Attributes
    ----------
    n, events : int
        Rows and events in the validation sample.
    prevalence : float
        ``events / n``.
    auroc, auprc, brier, scaled_brier : Estimate
        Discrimination and overall accuracy with bootstrap intervals.
    calibration : CalibrationResult
    thresholds : tuple of ThresholdEstimates
    decision_curve : tuple of DecisionCurvePoint
    subgroups : Mapping[str, SubgroupResult]
    roc_curve : tuple of RocPoint
        At most 200 points.
    n_boot, ci_level, n_patients :
        How the intervals were computed (not part of ``metrics.json``).
    n_skipped : Mapping[str, int]
        Bootstrap replicates in which each metric was undefined.
    baseline_comparison : BaselineComparison, Mapping or None
        The comparison with a baseline score (see :func:`compare_with_baseline`),
        when one was given.
    acceptance : tuple of AcceptanceResult
        Filled by the caller (see :func:`evaluate_acceptance`).
    auroc_delong : Estimate or None
        AUROC with the DeLong interval (see :func:`delong_ci`) instead of the
        bootstrap one.
    ci_method : str
        How the bootstrap intervals were computed (``metrics.json``'s
        ``ci_method``; see :mod:`clinai.evaluation.bootstrap._bootstrap`).
    ci_extended : tuple of str
        The ``metrics.json`` paths (``"calibration.e90"``,
        ``"thresholds[0].ppv"``) whose percentile interval excluded the
        estimate and was extended to contain it.
    """

    n: int
    events: int
    prevalence: float
    auroc: Estimate
    auprc: Estimate
    brier: Estimate
    scaled_brier: Estimate
    calibration: CalibrationResult
    thresholds: tuple[ThresholdEstimates, ...]
    decision_curve: tuple[DecisionCurvePoint, ...]
    subgroups: Mapping[str, SubgroupResult]
    roc_curve: tuple[RocPoint, ...]
    n_boot: int = 0
    ci_level: float = 0.95
    n_patients: int | None = None
    n_skipped: Mapping[str, int] = field(default_factory=dict)
    baseline_comparison: BaselineComparison | Mapping[str, Any] | None = None
    acceptance: tuple[AcceptanceResult, ...] = ()
    auroc_delong: Estimate | None = None
    ci_method: str = "percentile"
    ci_extended: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the ``metrics.json`` document, schema version 1 (DESIGN.md).

        Keys: ``schema_version``, ``n``, ``events``, ``prevalence``, ``auroc``,
        ``auroc_delong``, ``auprc``, ``brier``, ``scaled_brier``, ``calibration``,
        ``thresholds``, ``decision_curve``, ``subgroups``, ``roc_curve``,
        ``baseline_comparison``, ``acceptance``, ``ci_method``, ``ci_extended``.
        """
        return {
            "schema_version": SCHEMA_VERSION,
            "n": int(self.n),
            "events": int(self.events),
            "prevalence": _num(self.prevalence),
            "auroc": self.auroc.to_dict(),
            "auroc_delong": None if self.auroc_delong is None else self.auroc_delong.to_dict(),
            "auprc": self.auprc.to_dict(),
            "brier": self.brier.to_dict(),
            "scaled_brier": self.scaled_brier.to_dict(),
            "calibration": self.calibration.to_dict(),
            "thresholds": [t.to_dict() for t in self.thresholds],
            "decision_curve": [d.to_dict() for d in self.decision_curve],
            "subgroups": {
                attribute: [row.to_dict() for row in result.rows]
                for attribute, result in self.subgroups.items()
            },
            "roc_curve": [point.to_dict() for point in self.roc_curve],
            "baseline_comparison": _baseline_dict(self.baseline_comparison),
            "acceptance": [a.to_dict() for a in self.acceptance],
            "ci_method": self.ci_method,
            "ci_extended": list(self.ci_extended),
        }


def _baseline_dict(value: BaselineComparison | Mapping[str, Any] | None) -> Any:
    """Return the ``baseline_comparison`` block: a result's ``to_dict()`` or a plain mapping."""
    if value is None:
        return None
    if isinstance(value, BaselineComparison):
        return value.to_dict()
    return _plain(value)


def _check_targets(values: Any) -> np.ndarray:
    """Check target sensitivities, each in (0, 1]."""
    items = np.atleast_1d(np.asarray(values, dtype=object))
    targets = []
    for value in items:
        if isinstance(value, bool):
            raise DataError(TARGET_SENSITIVITY_MSG.format(value=value))
        try:
            target = float(value)
        except (TypeError, ValueError) as exc:
            raise DataError(TARGET_SENSITIVITY_MSG.format(value=value)) from exc
        if not 0.0 < target <= 1.0:
            raise DataError(TARGET_SENSITIVITY_MSG.format(value=value))
        targets.append(target)
    return np.array(targets, dtype="float64")


def target_sensitivity_threshold(y_true: Any, y_prob: Any, *, target: float) -> float:
    """Highest threshold whose sensitivity on these data is at least ``target``.

    Sensitivity at threshold ``t`` is the share of events with ``y_prob >= t``;
    it only falls as ``t`` rises. With ``E`` events, the smallest number of
    flagged events that reaches the target is the smallest ``k`` with
    ``k / E >= target``, and the highest threshold that flags at least ``k``
    events is the ``k``-th highest predicted probability among the events.
    The threshold is chosen on the same data it is then evaluated on, so its
    sensitivity is optimistic for new patients.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Observed outcome, 0 or 1.
    y_prob : array-like of shape (n,)
        Predicted probability of the event.
    target : float
        Target sensitivity in (0, 1].

    Returns
    -------
    float
        The threshold, one of the events' predicted probabilities.

    Raises
    ------
    DataError
        On invalid or one-class input or a target outside (0, 1].

    Examples
    --------
    >>> y = [0, 1, 1, 0, 1, 1]
    >>> target_sensitivity_threshold(y, [0.1, 0.2, 0.4, 0.5, 0.7, 0.9], target=0.75)
    0.4
    """
    y, p = check_y(y_true, y_prob)
    return float(_target_thresholds(y, p, _check_targets([target]))[0])


def _target_thresholds(y: np.ndarray, p: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """:func:`target_sensitivity_threshold` for each target on validated arrays."""
    event_p = np.sort(p[y == 1])[::-1]
    events = event_p.shape[0]
    out = []
    for target in targets:
        k = min(max(math.ceil(target * events), 1), events)
        while k > 1 and (k - 1) / events >= target:
            k -= 1
        while k < events and k / events < target:
            k += 1
        out.append(float(event_p[k - 1]))
    return np.array(out, dtype="float64")


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


def _threshold_estimates(
    point: np.ndarray, low: np.ndarray, high: np.ndarray
) -> tuple[Estimate, Estimate, Estimate, Estimate, Estimate]:
    """Return the five threshold metrics of one threshold as estimates."""
    sens, spec, ppv, npv, flag = (
        Estimate(float(point[j]), float(low[j]), float(high[j])) for j in range(5)
    )
    return sens, spec, ppv, npv, flag


def _point_estimates(
    y: np.ndarray,
    p: np.ndarray,
    grid: np.ndarray,
    thresholds: np.ndarray,
    dca_grid: np.ndarray,
    ci_level: float,
    codes: np.ndarray | None = None,
) -> dict[str, Any]:
    """Every point estimate of :func:`evaluate_predictions` but the calibration fits.

    ``codes``: patient codes when patients have several rows (clustered DeLong).
    """
    smooth = _lowess_fit(y, p, LOWESS_FRAC)
    return {
        "point": {
            "auroc": auroc_score(y, p),
            "auprc": average_precision_score(y, p),
            "brier": brier_score(y, p),
            "scaled_brier": scaled_brier_score(y, p),
            "oe_ratio": oe_ratio(y, p),
        },
        "errors": _errors_from_fit(p, smooth),
        "curve": _curve_from_fit(p, smooth, grid),
        "thresholds": _threshold_weighted(y, p, np.ones((1, y.shape[0])), thresholds)[0],
        "auroc_delong": _delong_ci_arrays(y, p, ci_level, "logit", codes),
        "decision_curve": decision_curve(y, p, thresholds=dca_grid),
        "roc_curve": roc_curve_points(y, p, max_points=ROC_CURVE_POINTS),
    }


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
    y_baseline: Any = None,
    baseline_name: str | None = None,
    target_sensitivities: Sequence[float] = (),
) -> ValidationResult:
    """Validate predicted probabilities against observed outcomes.

    Computes, with percentile bootstrap intervals (resampling patients when
    ``patient_ids`` is given; an interval that excludes its estimate is
    extended to it, or down to 0 for ICI, E50 and E90, and listed in
    ``ci_extended``: see :mod:`clinai.evaluation.bootstrap._bootstrap`): discrimination
    (:func:`auroc_score`, :func:`average_precision_score`), overall accuracy (:func:`brier_score`,
    :func:`scaled_brier_score`), calibration (:func:`calibration_intercept`,
    :func:`calibration_slope`, :func:`oe_ratio`, ICI/E50/E90 from
    :func:`calibration_errors`, and the LOWESS calibration curve on 20 points
    across the observed range of ``y_prob`` with a pointwise band), the
    threshold metrics (:func:`threshold_metrics`) at each of ``thresholds``;
    and without intervals the decision curve (:func:`decision_curve`), the ROC
    curve (at most 200 points) and, given ``sensitive_features``, the metrics
    of each subgroup (:func:`subgroup_metrics`). The definitions are in each
    function's docstring and in DESIGN.md. The AUROC is also reported with
    DeLong's interval (``auroc_delong``, :func:`delong_ci`, logit scale; with
    ``patient_ids``, Obuchowski's clustered variance). Given ``y_baseline``, the model is compared
    with the baseline score on the same resamples
    (:func:`compare_with_baseline`). Given ``target_sensitivities``, a row per
    target is added to ``thresholds`` at the highest threshold whose
    sensitivity on these data reaches the target
    (:func:`target_sensitivity_threshold`); as that threshold is chosen on
    the same data, its sensitivity is optimistic, and its interval treats the
    threshold as fixed.

    From :data:`FAST_BOOTSTRAP_MIN_ROWS` (20,000) rows on, the replicates are
    computed by the fast path of :mod:`clinai.evaluation.bootstrap._fast_bootstrap`
    (one sort, then ``O(n)`` work per replicate, on a thread pool): the same
    resampling scheme and definitions; replicates equal the per-resample
    computations exactly for the rank, count and sum metrics, to about
    ``10^-8`` for the calibration intercept and slope (a Taylor expansion of
    the fits), and approximately for the LOWESS ones (ICI, E50, E90 and the
    curve band: a binned smooth, off by a few percent of their bootstrap
    standard error at most; see that module). Point estimates are computed
    the same way on both paths. The fast path's random draws differ from
    those of :func:`bootstrap`, so its intervals are not digit-for-digit those
    of the slower path (the resamples have the same distribution), but the
    same seed gives the same numbers.

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
    y_baseline : array-like of shape (n,), optional
        A baseline score of the same rows (higher means higher risk), e.g. an
        existing clinical score; see :func:`compare_with_baseline`. The net
        benefit difference uses ``thresholds``.
    baseline_name : str, optional
        Name of the baseline (default ``"baseline"``).
    target_sensitivities : sequence of float, default=()
        Target sensitivities in (0, 1]; each adds a row to ``thresholds`` with
        a ``target_sensitivity`` key.

    Returns
    -------
    ValidationResult
        Its ``to_dict()`` is ``metrics.json``, schema version 1.

    Raises
    ------
    DataError
        On invalid or one-class input, a baseline with missing or non-numeric
        values, or an invalid parameter; the message names the argument.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0.05, 0.6, size=300)
    >>> y = rng.binomial(1, p)
    >>> result = evaluate_predictions(y, p, n_boot=20)
    >>> sorted(result.to_dict())[:4]
    ['acceptance', 'auprc', 'auroc', 'auroc_delong']
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
    cell = check_min_cell(min_cell)
    codes, n_clusters = _cluster_codes(patient_ids, n)
    patient_codes = None if patient_ids is None else codes
    if subgroup_threshold is not None:
        group_threshold = check_threshold(subgroup_threshold, name="subgroup_threshold")
    else:
        group_threshold = float(threshold_grid[0]) if threshold_grid.shape[0] else 0.5
    targets = _check_targets(list(target_sensitivities))
    baseline: np.ndarray | None = None
    baseline_label = "baseline"
    if y_baseline is not None:
        baseline_label = "baseline" if baseline_name is None else _check_name(baseline_name)
        baseline = check_baseline(y_baseline, n, name=baseline_label)
    elif baseline_name is not None:
        raise DataError(BASELINE_NAME_WITHOUT_SCORE_MSG.format(name=baseline_name))
    probability = baseline is not None and _is_probability(baseline)
    target_grid = _target_thresholds(y, p, targets)
    full_grid = np.concatenate([threshold_grid, target_grid])
    seeds = _seed_sequence(random_state)

    # point estimates: the calibration fits first (the fast bootstrap expands around them)
    # the calibration slope model's (c, b), as calibration_slope() fits it
    slope_fit = _fit_slope(y, _logit_clipped(p), np.ones((1, n)))
    intercept = calibration_intercept(y, p)
    grid = calibration_grid(p, CALIBRATION_CURVE_POINTS)
    fast = n >= FAST_BOOTSTRAP_MIN_ROWS and n_boot > 0

    # bootstrap
    if fast:
        # on the large samples of the fast path, the other point estimates (about 4 s at
        # n = 10^6, mostly single-threaded) run beside the bootstrap's threads
        with ThreadPoolExecutor(1) as pool:
            future = pool.submit(
                _point_estimates, y, p, grid, full_grid, dca_grid, level, patient_codes
            )
            replicates = fast_replicates(
                y,
                p,
                codes=None if patient_ids is None else codes,
                n_clusters=n_clusters,
                thresholds=full_grid,
                curve_grid=grid,
                intercept=intercept,
                slope_fit=(float(slope_fit[0][0]), float(slope_fit[1][0])),
                n_boot=n_boot,
                seed=np.random.SeedSequence(int(np.random.default_rng(seeds).integers(2**63))),
                baseline=baseline,
                baseline_probability=probability,
                nb_thresholds=threshold_grid,
                progress=progress,
            )
            rest = future.result()
    else:
        rest = _point_estimates(y, p, grid, full_grid, dca_grid, level, patient_codes)
        weighted = {
            "auroc": _auroc_weighted,
            "auprc": _average_precision_weighted,
            "brier": _brier_weighted,
            "scaled_brier": _scaled_brier_weighted,
            "intercept": _intercept_weighted,
            "slope": _slope_weighted,
            "oe_ratio": _oe_weighted,
            "thresholds": lambda a, b, w: _threshold_weighted(a, b, w, full_grid),
        }
        shapes: dict[str, tuple[int, ...]] = {
            **{key: () for key in _SCALARS},
            "thresholds": (full_grid.shape[0], 5),
            "lowess": (3 + grid.shape[0],),
        }
        if baseline is not None:
            weighted.update(_comparison_weighted(baseline, threshold_grid, probability=probability))
            shapes.update(_comparison_shapes(threshold_grid.shape[0], probability=probability))
        replicates = _run_replicates(
            y,
            p,
            weighted=weighted,
            resampled={"lowess": _lowess_replicate(grid)},
            shapes=shapes,
            codes=codes,
            n_clusters=n_clusters,
            n_boot=n_boot,
            rng=np.random.default_rng(seeds),
            progress=progress,
        )
    point = {**rest["point"], "intercept": intercept, "slope": float(slope_fit[1][0])}
    ici, e50, e90 = rest["errors"]
    curve = rest["curve"]
    threshold_point = rest["thresholds"]
    estimates: dict[str, Estimate] = {}
    extended: list[str] = []
    for name in _SCALARS:
        low, high, moved = _contained_interval(replicates[name], point[name], level)
        estimates[name] = Estimate(point[name], float(low), float(high))
        if moved:
            extended.append(_SCALAR_PATHS[name])
    # ICI, E50, E90: nonnegative, on a positive noise floor (lower bound 0)
    errors_low, errors_high, errors_moved = _contained_interval(
        replicates["lowess"][:, :3], np.array([ici, e50, e90]), level, lower_bound=0.0
    )
    for k, (name, value) in enumerate((("ici", ici), ("e50", e50), ("e90", e90))):
        estimates[name] = Estimate(value, float(errors_low[k]), float(errors_high[k]))
        if errors_moved[k]:
            extended.append(f"calibration.{name}")
    curve_low, curve_high, curve_moved = _contained_interval(
        replicates["lowess"][:, 3:], curve, level
    )
    extended += [f"calibration.curve[{k}]" for k in np.flatnonzero(curve_moved)]
    curve_points = tuple(
        CalibrationCurvePoint(float(g), float(o), float(lo), float(hi))
        for g, o, lo, hi in zip(grid, curve, curve_low, curve_high, strict=True)
    )
    thr_low, thr_high, thr_moved = _contained_interval(
        replicates["thresholds"], threshold_point, level
    )
    extended += [f"thresholds[{i}].{_THRESHOLD_METRICS[j]}" for i, j in np.argwhere(thr_moved)]
    n_regular = threshold_grid.shape[0]
    threshold_results = tuple(
        ThresholdEstimates(
            float(t),
            *_threshold_estimates(threshold_point[i], thr_low[i], thr_high[i]),
            target_sensitivity=None if i < n_regular else float(targets[i - n_regular]),
        )
        for i, t in enumerate(full_grid)
    )
    n_skipped = {name: _n_undefined(replicates[name]) for name in _SCALARS}
    lowess_skipped = _n_undefined(replicates["lowess"][:, :3])
    n_skipped.update(ici=lowess_skipped, e50=lowess_skipped, e90=lowess_skipped)
    n_skipped["thresholds"] = _n_undefined(replicates["thresholds"])

    comparison: BaselineComparison | None = None
    if baseline is not None:
        comparison = _assemble(
            y,
            p,
            baseline,
            name=baseline_label,
            thresholds=threshold_grid,
            replicates=replicates,
            n_boot=n_boot,
            ci_level=level,
            codes=patient_codes,
        )

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
        decision_curve=rest["decision_curve"],
        subgroups=subgroups,
        roc_curve=rest["roc_curve"],
        n_boot=n_boot,
        ci_level=level,
        n_patients=None if patient_ids is None else n_clusters,
        n_skipped=n_skipped,
        baseline_comparison=comparison,
        auroc_delong=rest["auroc_delong"],
        ci_method=CI_METHOD,
        ci_extended=tuple(extended),
    )
