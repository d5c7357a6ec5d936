"""Validate a model's predictions: every metric of ``metrics.json`` in one call."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from clinai.evaluation._docstrings import fill_doc
from clinai.evaluation._estimate import Estimate, _num, _plain
from clinai.evaluation.acceptance._acceptance import AcceptanceResult
from clinai.evaluation.calibration._calibration import (
    CalibrationResult,
)
from clinai.evaluation.comparison._comparison import (
    BaselineComparison,
)
from clinai.evaluation.discrimination._metrics import (
    RocPoint,
)
from clinai.evaluation.fairness._subgroups import SubgroupResult
from clinai.evaluation.resampling.engine import CI_METHOD, Progress, RandomState
from clinai.evaluation.thresholds._decision_curve import (
    DecisionCurvePoint,
)
from clinai.evaluation.thresholds._thresholds import ThresholdEstimates
from clinai.evaluation.validate._steps import (
    baseline_comparison,
    bootstrap_replicates,
    calibration_estimates,
    calibration_fits,
    check_inputs,
    scalar_estimates,
    skipped_counts,
    subgroups,
    threshold_estimates,
)

__all__ = ["SCHEMA_VERSION", "ValidationResult", "evaluate_predictions"]


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
        ``ci_method``; see :mod:`clinai.evaluation.resampling._bootstrap`).
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


@fill_doc
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
    ``ci_extended``: see :mod:`clinai.evaluation.resampling._bootstrap`): discrimination
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
    computed by the fast path of :mod:`clinai.evaluation.resampling._fast_bootstrap`
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
    {y_true}
    {y_prob}
    patient_ids : array-like of shape (n,), optional
        Patient of each row; the bootstrap then resamples patients, not rows.
    sensitive_features : pandas.DataFrame, optional
        One column per attribute (e.g. sex, age band), one row per prediction.
    thresholds : sequence of float, default=(0.1, 0.2, 0.3)
        Risk thresholds (strictly between 0 and 1) of the threshold metrics.
    dca_thresholds : sequence of float, optional
        Thresholds of the decision curve; default 0.01, 0.02, ..., 0.50.
    {n_boot}
    {ci_level}
    min_cell : int, default=5
        Subgroups with fewer rows, patients, events or non-events are suppressed.
    {random_state_bootstrap}
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
    inputs = check_inputs(
        y_true,
        y_prob,
        patient_ids=patient_ids,
        thresholds=thresholds,
        dca_thresholds=dca_thresholds,
        n_boot=n_boot,
        ci_level=ci_level,
        min_cell=min_cell,
        random_state=random_state,
        subgroup_threshold=subgroup_threshold,
        y_baseline=y_baseline,
        baseline_name=baseline_name,
        target_sensitivities=target_sensitivities,
    )
    fits = calibration_fits(inputs.y, inputs.p)
    rest, replicates = bootstrap_replicates(inputs, fits, progress)
    point = {**rest["point"], "intercept": fits.intercept, "slope": fits.slope}
    scalars, extended = scalar_estimates(point, replicates, inputs.level)
    calibration, calibration_moved = calibration_estimates(
        scalars, rest, fits.grid, replicates, inputs.level
    )
    threshold_results, thresholds_moved = threshold_estimates(
        inputs, rest["thresholds"], replicates
    )
    comparison = baseline_comparison(inputs, replicates)
    n, events = inputs.y.shape[0], int(inputs.y.sum())
    return ValidationResult(
        n=n,
        events=events,
        prevalence=events / n,
        auroc=scalars["auroc"],
        auprc=scalars["auprc"],
        brier=scalars["brier"],
        scaled_brier=scalars["scaled_brier"],
        calibration=calibration,
        thresholds=threshold_results,
        decision_curve=rest["decision_curve"],
        subgroups=subgroups(inputs, sensitive_features, patient_ids),
        roc_curve=rest["roc_curve"],
        n_boot=inputs.n_boot,
        ci_level=inputs.level,
        n_patients=None if patient_ids is None else inputs.clusters.n,
        n_skipped=skipped_counts(replicates),
        baseline_comparison=comparison,
        auroc_delong=rest["auroc_delong"],
        ci_method=CI_METHOD,
        ci_extended=tuple(extended + calibration_moved + thresholds_moved),
    )
