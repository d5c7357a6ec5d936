"""Frozen result records of the evaluation layer.

Every record has a ``to_dict()`` that returns plain JSON values: Python
floats, ints, strings, bools, lists, dicts and ``None`` (NaN and infinities
become ``None``), so ``json.dumps(result.to_dict(), allow_nan=False)`` works.
These are the only evaluation names that reporting and tracking import.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "SCHEMA_VERSION",
    "AcceptanceResult",
    "BaselineComparison",
    "BootstrapResult",
    "CalibrationCurve",
    "CalibrationCurvePoint",
    "CalibrationErrors",
    "CalibrationResult",
    "DeLongTest",
    "DecisionCurvePoint",
    "Estimate",
    "FairnessDisparity",
    "FairnessGroup",
    "FairnessResult",
    "FairnessTable",
    "MitigationGroup",
    "MitigationResult",
    "RocPoint",
    "SampleSizeAssessment",
    "SampleSizeCriterion",
    "SampleSizeResult",
    "ShapImportance",
    "SubgroupResult",
    "SubgroupRow",
    "ThresholdDifference",
    "ThresholdEstimates",
    "ThresholdMetrics",
    "ValidationResult",
    "VariableImportance",
]

#: Version of the ``metrics.json`` schema that :meth:`ValidationResult.to_dict` writes.
SCHEMA_VERSION = 1


def _num(value: Any) -> float | None:
    """Return ``value`` as a plain float, or ``None`` when missing, NaN or infinite."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _count(value: int | None) -> int | None:
    return None if value is None else int(value)


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a percentile bootstrap confidence interval.

    Parameters
    ----------
    estimate : float
        The metric on the full sample (NaN when undefined).
    ci_low, ci_high : float
        Bounds of the percentile bootstrap interval (NaN when not computed).
    """

    estimate: float
    ci_low: float = math.nan
    ci_high: float = math.nan

    def to_dict(self) -> dict[str, float | None]:
        """Return ``{"estimate", "ci_low", "ci_high"}`` with ``None`` for NaN."""
        return {
            "estimate": _num(self.estimate),
            "ci_low": _num(self.ci_low),
            "ci_high": _num(self.ci_high),
        }

    @classmethod
    def missing(cls) -> Estimate:
        """Return an estimate whose three numbers are all missing."""
        return cls(math.nan, math.nan, math.nan)


@dataclass(frozen=True)
class CalibrationErrors:
    """Integrated calibration index and the median and 90th percentile error.

    Attributes
    ----------
    ici : float
        Mean of ``|p - s(p)|`` over the sample.
    e50 : float
        Median of ``|p - s(p)|``.
    e90 : float
        90th percentile of ``|p - s(p)|``.
    """

    ici: float
    e50: float
    e90: float

    def to_dict(self) -> dict[str, float | None]:
        """Return ``{"ici", "e50", "e90"}``."""
        return {"ici": _num(self.ici), "e50": _num(self.e50), "e90": _num(self.e90)}


@dataclass(frozen=True, eq=False)
class CalibrationCurve:
    """A LOWESS calibration curve: observed event rate against predicted probability.

    Attributes
    ----------
    p : numpy.ndarray
        Grid of predicted probabilities.
    observed : numpy.ndarray
        LOWESS smooth of the outcome at each grid point, clipped to [0, 1].
    """

    p: np.ndarray
    observed: np.ndarray

    def to_dict(self) -> list[dict[str, float | None]]:
        """Return ``[{"p", "observed"}, ...]``."""
        return [
            {"p": _num(a), "observed": _num(b)} for a, b in zip(self.p, self.observed, strict=True)
        ]


@dataclass(frozen=True)
class CalibrationCurvePoint:
    """One point of a calibration curve with a pointwise bootstrap band."""

    p: float
    observed: float
    ci_low: float = math.nan
    ci_high: float = math.nan

    def to_dict(self) -> dict[str, float | None]:
        """Return ``{"p", "observed", "ci_low", "ci_high"}``."""
        return {
            "p": _num(self.p),
            "observed": _num(self.observed),
            "ci_low": _num(self.ci_low),
            "ci_high": _num(self.ci_high),
        }


@dataclass(frozen=True)
class CalibrationResult:
    """Calibration measures with confidence intervals and the calibration curve."""

    intercept: Estimate
    slope: Estimate
    oe_ratio: Estimate
    ici: Estimate
    e50: Estimate
    e90: Estimate
    curve: tuple[CalibrationCurvePoint, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the ``calibration`` block of ``metrics.json``."""
        return {
            "intercept": self.intercept.to_dict(),
            "slope": self.slope.to_dict(),
            "oe_ratio": self.oe_ratio.to_dict(),
            "ici": self.ici.to_dict(),
            "e50": self.e50.to_dict(),
            "e90": self.e90.to_dict(),
            "curve": [point.to_dict() for point in self.curve],
        }


@dataclass(frozen=True)
class ThresholdMetrics:
    """Classification metrics at one threshold (a patient is flagged when ``p >= threshold``).

    Attributes
    ----------
    threshold : float
    sensitivity : float
        TP / (TP + FN).
    specificity : float
        TN / (TN + FP).
    ppv : float
        TP / (TP + FP); NaN when nobody is flagged.
    npv : float
        TN / (TN + FN); NaN when everybody is flagged.
    flag_rate : float
        (TP + FP) / n.
    """

    threshold: float
    sensitivity: float
    specificity: float
    ppv: float
    npv: float
    flag_rate: float

    def to_dict(self) -> dict[str, float | None]:
        """Return the six numbers as a dict."""
        return {
            "threshold": _num(self.threshold),
            "sensitivity": _num(self.sensitivity),
            "specificity": _num(self.specificity),
            "ppv": _num(self.ppv),
            "npv": _num(self.npv),
            "flag_rate": _num(self.flag_rate),
        }


@dataclass(frozen=True)
class ThresholdEstimates:
    """Threshold metrics (see :class:`ThresholdMetrics`) with bootstrap intervals.

    ``target_sensitivity`` is set on the rows that :func:`evaluate_predictions`
    adds for its ``target_sensitivities``: ``threshold`` is then the highest
    threshold whose sensitivity on the same data is at least the target.
    """

    threshold: float
    sensitivity: Estimate
    specificity: Estimate
    ppv: Estimate
    npv: Estimate
    flag_rate: Estimate
    target_sensitivity: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return one entry of ``thresholds`` in ``metrics.json``.

        The key ``target_sensitivity`` is present only on target-sensitivity rows.
        """
        out: dict[str, Any] = {
            "threshold": _num(self.threshold),
            "sensitivity": self.sensitivity.to_dict(),
            "specificity": self.specificity.to_dict(),
            "ppv": self.ppv.to_dict(),
            "npv": self.npv.to_dict(),
            "flag_rate": self.flag_rate.to_dict(),
        }
        if self.target_sensitivity is not None:
            out["target_sensitivity"] = _num(self.target_sensitivity)
        return out


@dataclass(frozen=True)
class DecisionCurvePoint:
    """Net benefit of the model and of treating everybody at one threshold."""

    threshold: float
    net_benefit: float
    net_benefit_treat_all: float

    def to_dict(self) -> dict[str, float | None]:
        """Return ``{"threshold", "net_benefit", "net_benefit_treat_all"}``."""
        return {
            "threshold": _num(self.threshold),
            "net_benefit": _num(self.net_benefit),
            "net_benefit_treat_all": _num(self.net_benefit_treat_all),
        }


@dataclass(frozen=True)
class RocPoint:
    """One point of the ROC curve."""

    fpr: float
    tpr: float

    def to_dict(self) -> dict[str, float | None]:
        """Return ``{"fpr", "tpr"}``."""
        return {"fpr": _num(self.fpr), "tpr": _num(self.tpr)}


@dataclass(frozen=True)
class SubgroupRow:
    """Metrics of one group of one sensitive attribute.

    When ``suppressed`` is true the group is too small to report (fewer than
    ``min_cell`` rows, patients, events or non-events): every number, ``n``
    and ``events`` included, is ``None``. ``n`` and ``events`` are also
    ``None`` for a group whose counts would reveal a suppressed group's
    counts by subtraction from the totals (complementary suppression).
    """

    group: str
    n: int | None
    events: int | None
    suppressed: bool
    auroc: Estimate
    calibration_intercept: Estimate
    oe_ratio: Estimate
    sensitivity: Estimate
    specificity: Estimate

    def to_dict(self) -> dict[str, Any]:
        """Return one entry of ``subgroups[attribute]`` in ``metrics.json``."""
        return {
            "group": self.group,
            "n": _count(self.n),
            "events": _count(self.events),
            "suppressed": bool(self.suppressed),
            "auroc": self.auroc.to_dict(),
            "calibration_intercept": self.calibration_intercept.to_dict(),
            "oe_ratio": self.oe_ratio.to_dict(),
            "sensitivity": self.sensitivity.to_dict(),
            "specificity": self.specificity.to_dict(),
        }


@dataclass(frozen=True)
class SubgroupResult:
    """Per-group metrics of one sensitive attribute.

    Attributes
    ----------
    attribute : str
        Name of the sensitive attribute (a column of ``sensitive_features``).
    threshold : float or None
        Threshold of the per-group sensitivity and specificity.
    rows : tuple of SubgroupRow
        One row per group, sorted by group label.
    max_auroc_difference : float
        Largest difference in AUROC between two non-suppressed groups (NaN when
        fewer than two groups can be reported).
    """

    attribute: str
    threshold: float | None
    rows: tuple[SubgroupRow, ...]
    max_auroc_difference: float = math.nan

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"attribute", "threshold", "max_auroc_difference", "rows"}``."""
        return {
            "attribute": self.attribute,
            "threshold": _num(self.threshold),
            "max_auroc_difference": _num(self.max_auroc_difference),
            "rows": [row.to_dict() for row in self.rows],
        }


@dataclass(frozen=True, eq=False)
class BootstrapResult:
    """Bootstrap percentile intervals of one or more metrics.

    Attributes
    ----------
    estimates : Mapping[str, Estimate]
        Point estimate and interval of each metric, by name.
    replicates : Mapping[str, numpy.ndarray]
        The ``n_boot`` replicate values of each metric (NaN where undefined).
    n_boot : int
        Number of replicates drawn.
    n_skipped : Mapping[str, int]
        Replicates in which the metric was undefined (e.g. a resample with one
        class); they are left out of the interval.
    ci_level : float
        Confidence level of the intervals.
    """

    estimates: Mapping[str, Estimate]
    replicates: Mapping[str, np.ndarray]
    n_boot: int
    n_skipped: Mapping[str, int]
    ci_level: float

    def __getitem__(self, name: str) -> Estimate:
        return self.estimates[name]

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"n_boot", "ci_level", "n_skipped", "estimates"}`` (no replicates)."""
        return {
            "n_boot": int(self.n_boot),
            "ci_level": float(self.ci_level),
            "n_skipped": {k: int(v) for k, v in self.n_skipped.items()},
            "estimates": {k: v.to_dict() for k, v in self.estimates.items()},
        }


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
        ``ci_method``; see :mod:`clinai.evaluation._bootstrap`).
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


def _plain(value: Any) -> Any:
    """Convert nested numbers in a caller-supplied mapping to plain JSON values."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return _num(value)
    return value


@dataclass(frozen=True)
class VariableImportance:
    """Mean absolute SHAP value of one clinical variable.

    Attributes
    ----------
    variable : str
        Clinical variable (its encoded columns summed back together).
    mean_abs_shap : float
        Mean over rows of ``|sum of the variable's columns' SHAP values|``.
    direction : str
        ``"positive"`` or ``"negative"``: sign of the Spearman correlation between
        the variable's summed SHAP value and its first encoded column;
        ``"mixed"`` when that correlation is weak (``|rho| < 0.1``) or undefined;
        ``"by_category"`` for an unordered categorical variable.
    """

    variable: str
    mean_abs_shap: float
    direction: str

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"variable", "mean_abs_shap", "direction"}``."""
        return {
            "variable": self.variable,
            "mean_abs_shap": _num(self.mean_abs_shap),
            "direction": self.direction,
        }


@dataclass(frozen=True)
class ShapImportance:
    """SHAP importance per clinical variable, sorted by ``mean_abs_shap`` (descending).

    Attributes
    ----------
    method : str
        Explainer and the scale of the SHAP values, e.g. ``"shap.TreeExplainer (log-odds)"``.
    n_rows : int
        Rows explained.
    variables : tuple of VariableImportance
    """

    method: str
    n_rows: int
    variables: tuple[VariableImportance, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"method", "n_rows", "variables": [...]}``."""
        return {
            "method": self.method,
            "n_rows": int(self.n_rows),
            "variables": [v.to_dict() for v in self.variables],
        }


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
        """Return ``{"criterion", "metric", "statistic", "min", "max", "value", "passed",
        "status", "rule"}``.

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


@dataclass(frozen=True)
class ThresholdDifference:
    """A difference in a threshold metric (e.g. net benefit) with a bootstrap interval."""

    threshold: float
    difference: Estimate

    def to_dict(self) -> dict[str, float | None]:
        """Return ``{"threshold", "estimate", "ci_low", "ci_high"}``."""
        return {"threshold": _num(self.threshold), **self.difference.to_dict()}


class DeLongTest(NamedTuple):
    """DeLong et al.'s test of two correlated AUROCs (see :func:`delong_test`).

    Attributes
    ----------
    auroc_diff : float
        AUROC of the first score minus AUROC of the second.
    z : float
        ``auroc_diff`` divided by its DeLong standard error.
    p_value : float
        Two-sided p-value from the standard normal distribution.
    """

    auroc_diff: float
    z: float
    p_value: float

    def to_dict(self) -> dict[str, float | None]:
        """Return ``{"auroc_diff", "z", "p_value"}``."""
        return {
            "auroc_diff": _num(self.auroc_diff),
            "z": _num(self.z),
            "p_value": _num(self.p_value),
        }


@dataclass(frozen=True)
class BaselineComparison:
    """The model against a baseline score on the same patients (:func:`compare_with_baseline`).

    Every difference is *model minus baseline*: a positive ``auroc_diff`` and
    net benefit difference, and a negative ``brier_diff``, favour the model.

    Attributes
    ----------
    name : str
        Name of the baseline (e.g. ``"NEWS2"``).
    baseline_auroc : Estimate
        AUROC of the baseline with its bootstrap interval.
    auroc_diff : Estimate
        AUROC difference with its paired bootstrap interval.
    brier_diff : Estimate or None
        Brier score difference; ``None`` when the baseline is not a probability.
    net_benefit_diff : tuple of ThresholdDifference or None
        Net benefit difference at each threshold; ``None`` when the baseline is
        not a probability.
    p_value : float
        Two-sided p-value of DeLong's test for two correlated AUROCs.
    delong_z : float
        The z statistic of that test (positive when the model's AUROC is higher).
    notes : tuple of str
        Plain-language notes on what was not computed and why.
    n_boot, ci_level, n_skipped :
        How the intervals were computed (not part of ``to_dict()``).
    """

    name: str
    baseline_auroc: Estimate
    auroc_diff: Estimate
    brier_diff: Estimate | None
    net_benefit_diff: tuple[ThresholdDifference, ...] | None
    p_value: float
    delong_z: float
    notes: tuple[str, ...] = ()
    n_boot: int = 0
    ci_level: float = 0.95
    n_skipped: Mapping[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the ``baseline_comparison`` block of ``metrics.json``.

        Keys: ``name``, ``baseline_auroc``, ``auroc_diff``, ``brier_diff``,
        ``net_benefit_diff`` (a list of ``{"threshold", "estimate", "ci_low",
        "ci_high"}`` or ``None``), ``p_value``, ``delong_z``, ``notes``.
        """
        return {
            "name": self.name,
            "baseline_auroc": self.baseline_auroc.to_dict(),
            "auroc_diff": self.auroc_diff.to_dict(),
            "brier_diff": None if self.brier_diff is None else self.brier_diff.to_dict(),
            "net_benefit_diff": (
                None
                if self.net_benefit_diff is None
                else [d.to_dict() for d in self.net_benefit_diff]
            ),
            "p_value": _num(self.p_value),
            "delong_z": _num(self.delong_z),
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class SampleSizeCriterion:
    """One of Riley et al.'s minimum sample size criteria (see :func:`riley_sample_size`).

    Attributes
    ----------
    name : str
        ``"shrinkage"``, ``"optimism"``, ``"overall_risk"`` or ``"mape"``.
    description : str
        What the criterion ensures, in plain words.
    target : float
        The criterion's target (expected shrinkage, R² difference, margin of
        error or mean absolute prediction error).
    n : int
        Smallest number of participants that meets it.
    events : int
        Expected number of events at that size, ``ceil(n * prevalence)``.
    events_per_parameter : float
        ``n * prevalence / n_parameters``.
    """

    name: str
    description: str
    target: float
    n: int
    events: int
    events_per_parameter: float

    def to_dict(self) -> dict[str, Any]:
        """Return the criterion as plain JSON values."""
        return {
            "name": self.name,
            "description": self.description,
            "target": _num(self.target),
            "n": int(self.n),
            "events": int(self.events),
            "events_per_parameter": _num(self.events_per_parameter),
        }


@dataclass(frozen=True)
class SampleSizeResult:
    """Minimum sample size for developing a binary-outcome model (Riley et al.).

    Attributes
    ----------
    prevalence : float
        Anticipated outcome proportion.
    r2_cs : float
        Anticipated Cox-Snell R² of the model.
    r2_cs_source : str
        ``"given"`` or ``"c_statistic"`` (derived from ``c_statistic``).
    c_statistic : float or None
        Anticipated C-statistic, when ``r2_cs`` was derived from it.
    max_r2_cs : float
        Largest Cox-Snell R² possible at this prevalence.
    r2_nagelkerke : float
        ``r2_cs / max_r2_cs``.
    n_parameters : int
        Candidate predictor parameters.
    criteria : tuple of SampleSizeCriterion
        Each criterion's requirement.
    n : int
        The minimum sample size: the largest requirement.
    events : int
        Expected events at ``n``: ``ceil(n * prevalence)``.
    events_per_parameter : float
        ``n * prevalence / n_parameters``.
    expected_shrinkage : float
        Expected uniform shrinkage of a model developed on ``n`` participants.
    binding_criterion : str
        Name of the criterion that requires ``n``.
    """

    prevalence: float
    r2_cs: float
    r2_cs_source: str
    c_statistic: float | None
    max_r2_cs: float
    r2_nagelkerke: float
    n_parameters: int
    criteria: tuple[SampleSizeCriterion, ...]
    n: int
    events: int
    events_per_parameter: float
    expected_shrinkage: float
    binding_criterion: str

    def __getitem__(self, name: str) -> SampleSizeCriterion:
        for criterion in self.criteria:
            if criterion.name == name:
                return criterion
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """Return the result as plain JSON values."""
        return {
            "prevalence": _num(self.prevalence),
            "r2_cs": _num(self.r2_cs),
            "r2_cs_source": self.r2_cs_source,
            "c_statistic": _num(self.c_statistic),
            "max_r2_cs": _num(self.max_r2_cs),
            "r2_nagelkerke": _num(self.r2_nagelkerke),
            "n_parameters": int(self.n_parameters),
            "criteria": [c.to_dict() for c in self.criteria],
            "n": int(self.n),
            "events": int(self.events),
            "events_per_parameter": _num(self.events_per_parameter),
            "expected_shrinkage": _num(self.expected_shrinkage),
            "binding_criterion": self.binding_criterion,
        }


@dataclass(frozen=True)
class SampleSizeAssessment:
    """Whether the available data meet a :class:`SampleSizeResult`.

    Attributes
    ----------
    adequate : bool
        ``True`` when both the participants and the events reach the minimum.
    n_available, events_available : int
        Participants and events in the development data.
    n_required, events_required : int
        The minimum from :func:`riley_sample_size`.
    events_per_parameter : float
        Events per candidate parameter in the available data.
    unmet : tuple of str
        Names of the criteria the available participants do not meet.
    warning : str or None
        A plain-language warning when the data fall short, else ``None``.
    """

    adequate: bool
    n_available: int
    events_available: int
    n_required: int
    events_required: int
    events_per_parameter: float
    unmet: tuple[str, ...]
    warning: str | None

    def to_dict(self) -> dict[str, Any]:
        """Return the assessment as plain JSON values."""
        return {
            "adequate": bool(self.adequate),
            "n_available": int(self.n_available),
            "events_available": int(self.events_available),
            "n_required": int(self.n_required),
            "events_required": int(self.events_required),
            "events_per_parameter": _num(self.events_per_parameter),
            "unmet": list(self.unmet),
            "warning": self.warning,
        }


def _estimate_or_none(value: Estimate | None) -> dict[str, float | None] | None:
    return None if value is None else value.to_dict()


@dataclass(frozen=True)
class FairnessGroup:
    """The fairness metrics of one group (or intersection cell) of sensitive attributes.

    A ``suppressed`` group has fewer than ``min_cell`` rows, patients, events
    or non-events: no number of it is reported (``metrics`` is empty, ``n`` and
    ``events`` are ``None``). ``n`` and ``events`` are also ``None`` when they
    would reveal a suppressed group's counts by subtraction.

    Attributes
    ----------
    group : str
        Group label; an intersection cell joins its levels with ``" & "``.
    levels : Mapping[str, str]
        The level of each attribute of the table, e.g. ``{"sex": "female"}``.
    n, events : int or None
        Rows and events of the group.
    suppressed : bool
        Whether the group is too small to report.
    metrics : Mapping[str, Estimate]
        By metric name (``auroc``, ``calibration_in_the_large``,
        ``sensitivity``, ``specificity``, ``net_benefit``).
    """

    group: str
    levels: Mapping[str, str]
    n: int | None
    events: int | None
    suppressed: bool
    metrics: Mapping[str, Estimate]

    def to_dict(self) -> dict[str, Any]:
        """Return one entry of ``fairness[table]["groups"]`` (metrics ``None`` if suppressed)."""
        return {
            "group": self.group,
            "levels": dict(self.levels),
            "n": _count(self.n),
            "events": _count(self.events),
            "suppressed": bool(self.suppressed),
            **{
                name: None if self.suppressed else estimate.to_dict()
                for name, estimate in self.metrics.items()
            },
        }


@dataclass(frozen=True)
class FairnessDisparity:
    """Between-group difference (max - min) and ratio (min / max) of one metric.

    Attributes
    ----------
    difference : Estimate
        Largest minus smallest value over the reported groups, with a
        bootstrap interval.
    ratio : Estimate or None
        Smallest over largest value; ``None`` for a metric that can be negative
        (calibration-in-the-large, net benefit), where a ratio has no meaning.
    n_groups : int
        Reported (not suppressed) groups the disparity is taken over.
    n_skipped : int
        Bootstrap replicates in which a reported group's metric was undefined.
    """

    difference: Estimate
    ratio: Estimate | None
    n_groups: int
    n_skipped: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"difference", "ratio", "n_groups", "n_skipped"}`` (no ratio if undefined)."""
        out: dict[str, Any] = {"difference": self.difference.to_dict()}
        if self.ratio is not None:
            out["ratio"] = self.ratio.to_dict()
        out["n_groups"] = int(self.n_groups)
        out["n_skipped"] = int(self.n_skipped)
        return out


@dataclass(frozen=True)
class FairnessTable:
    """Fairness metrics of one sensitive attribute or one intersection of attributes.

    Attributes
    ----------
    name : str
        ``"sex"``, or ``"sex_x_age_band"`` for an intersection.
    attributes : tuple of str
        The attribute(s) whose levels define the groups.
    threshold : float
        Operating threshold of sensitivity, specificity and net benefit.
    min_cell : int
        Smallest reported number of rows, patients, events and non-events.
    groups : tuple of FairnessGroup
        Sorted by label.
    disparities : Mapping[str, FairnessDisparity]
        By metric name.
    """

    name: str
    attributes: tuple[str, ...]
    threshold: float
    min_cell: int
    groups: tuple[FairnessGroup, ...]
    disparities: Mapping[str, FairnessDisparity]

    def to_dict(self) -> dict[str, Any]:
        """Return ``fairness[name]`` of ``metrics.json``: settings, groups, one key per metric."""
        return {
            "attributes": list(self.attributes),
            "intersection": len(self.attributes) > 1,
            "threshold": _num(self.threshold),
            "min_cell": int(self.min_cell),
            "groups": [group.to_dict() for group in self.groups],
            **{name: disparity.to_dict() for name, disparity in self.disparities.items()},
        }


@dataclass(frozen=True)
class FairnessResult:
    """Fairness metrics of every sensitive attribute and intersection; ``fairness`` of metrics.json.

    Attributes
    ----------
    tables : Mapping[str, FairnessTable]
        By table name (attribute, or ``"a_x_b"`` for an intersection).
    n_boot : int
        Bootstrap replicates behind the intervals (0: none).
    ci_level : float
        Confidence level of the intervals.
    """

    tables: Mapping[str, FairnessTable]
    n_boot: int = 0
    ci_level: float = 0.95

    def to_dict(self) -> dict[str, Any]:
        """Return ``{table: table.to_dict()}`` (paths like ``fairness.sex.auroc.difference``)."""
        return {name: table.to_dict() for name, table in self.tables.items()}


@dataclass(frozen=True)
class MitigationGroup:
    """Decision rates of one group before and after post-processing mitigation.

    Attributes
    ----------
    group : str
        Level of the mitigated attribute.
    n, events : int or None
        Rows and events in the test split (``None`` when hidden).
    suppressed : bool
        Too small to report: no rate is given.
    unmitigated, mitigated : Mapping[str, float]
        ``flag_rate``, ``sensitivity`` and ``specificity`` of the group.
    """

    group: str
    n: int | None
    events: int | None
    suppressed: bool
    unmitigated: Mapping[str, float]
    mitigated: Mapping[str, float]

    def to_dict(self) -> dict[str, Any]:
        """Return one entry of ``mitigation["groups"]`` (rates ``None`` if suppressed)."""
        return {
            "group": self.group,
            "n": _count(self.n),
            "events": _count(self.events),
            "suppressed": bool(self.suppressed),
            "unmitigated": None
            if self.suppressed
            else {k: _num(v) for k, v in self.unmitigated.items()},
            "mitigated": None
            if self.suppressed
            else {k: _num(v) for k, v in self.mitigated.items()},
        }


@dataclass(frozen=True)
class MitigationResult:
    """Post-processing mitigation (fairlearn ThresholdOptimizer) beside the unmitigated model.

    The mitigated rule is reported only; it is never applied to the
    registered model (``applied_to_registered_model`` is always false).

    Attributes
    ----------
    method, attribute, constraint, objective : str
        What was fitted, e.g. ``threshold_optimizer``, ``sex``, ``equalized_odds``.
    fitted_on : str
        The predictions the thresholds were learnt on (never the test split).
    n_fit : int
        Rows of those predictions.
    threshold : float
        Operating threshold of the unmitigated model (and the exchange rate of
        the net benefit of both rules).
    overall : Mapping[str, Mapping[str, Estimate]]
        ``{"unmitigated", "mitigated", "difference"}`` to ``{"sensitivity",
        "specificity", "flag_rate", "net_benefit"}``; the difference is
        mitigated minus unmitigated, with a paired bootstrap interval.
    disparities : Mapping[str, Mapping[str, float | None]]
        ``{"unmitigated", "mitigated"}`` to the between-group differences
        (max - min) of ``flag_rate``, ``sensitivity`` and ``specificity``.
    groups : tuple of MitigationGroup
    """

    method: str
    attribute: str
    constraint: str
    objective: str
    fitted_on: str
    n_fit: int
    threshold: float
    overall: Mapping[str, Mapping[str, Estimate]]
    disparities: Mapping[str, Mapping[str, float | None]]
    groups: tuple[MitigationGroup, ...]
    applied_to_registered_model: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return the ``mitigation`` block of ``metrics.json``."""
        return {
            "method": self.method,
            "attribute": self.attribute,
            "constraint": self.constraint,
            "objective": self.objective,
            "fitted_on": self.fitted_on,
            "n_fit": int(self.n_fit),
            "threshold": _num(self.threshold),
            "applied_to_registered_model": bool(self.applied_to_registered_model),
            "overall": {
                side: {name: _estimate_or_none(est) for name, est in values.items()}
                for side, values in self.overall.items()
            },
            "disparities": {
                side: {name: _num(v) for name, v in values.items()}
                for side, values in self.disparities.items()
            },
            "groups": [group.to_dict() for group in self.groups],
        }
