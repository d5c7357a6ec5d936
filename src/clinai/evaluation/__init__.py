"""Evaluation of clinical prediction models: pure functions, frozen results.

Discrimination (:func:`auroc_score`, :func:`average_precision_score`),
overall accuracy (:func:`brier_score`, :func:`scaled_brier_score`),
calibration (:func:`calibration_intercept`, :func:`calibration_slope`,
:func:`oe_ratio`, :func:`calibration_errors`, :func:`lowess_calibration_curve`),
threshold metrics and decision curves (:func:`threshold_metrics`,
:func:`net_benefit`, :func:`net_benefit_treat_all`, :func:`decision_curve`),
bootstrap intervals (:func:`bootstrap`), subgroups (:func:`subgroup_metrics`),
SHAP importance (:func:`shap_importance`), acceptance criteria
(:func:`evaluate_acceptance`) and the whole validation in one call
(:func:`evaluate_predictions`, whose ``to_dict()`` is ``metrics.json``).

No I/O, no plotting, no MLflow. shap, fairlearn and statsmodels are imported
inside the functions that use them.
"""

from __future__ import annotations

from clinai.evaluation._acceptance import evaluate_acceptance
from clinai.evaluation._bootstrap import bootstrap, bootstrap_indices
from clinai.evaluation._calibration import (
    calibration_errors,
    calibration_intercept,
    calibration_slope,
    lowess_calibration_curve,
    oe_ratio,
)
from clinai.evaluation._decision_curve import decision_curve, net_benefit, net_benefit_treat_all
from clinai.evaluation._explain import shap_importance
from clinai.evaluation._fairness import subgroup_metrics
from clinai.evaluation._metrics import (
    auroc_score,
    average_precision_score,
    brier_score,
    roc_curve_points,
    scaled_brier_score,
)
from clinai.evaluation._results import (
    SCHEMA_VERSION,
    AcceptanceResult,
    BootstrapResult,
    CalibrationCurve,
    CalibrationCurvePoint,
    CalibrationErrors,
    CalibrationResult,
    DecisionCurvePoint,
    Estimate,
    RocPoint,
    ShapImportance,
    SubgroupResult,
    SubgroupRow,
    ThresholdEstimates,
    ThresholdMetrics,
    ValidationResult,
    VariableImportance,
)
from clinai.evaluation._thresholds import threshold_metrics
from clinai.evaluation._validate import evaluate_predictions

__all__ = [
    "SCHEMA_VERSION",
    "AcceptanceResult",
    "BootstrapResult",
    "CalibrationCurve",
    "CalibrationCurvePoint",
    "CalibrationErrors",
    "CalibrationResult",
    "DecisionCurvePoint",
    "Estimate",
    "RocPoint",
    "ShapImportance",
    "SubgroupResult",
    "SubgroupRow",
    "ThresholdEstimates",
    "ThresholdMetrics",
    "ValidationResult",
    "VariableImportance",
    "auroc_score",
    "average_precision_score",
    "bootstrap",
    "bootstrap_indices",
    "brier_score",
    "calibration_errors",
    "calibration_intercept",
    "calibration_slope",
    "decision_curve",
    "evaluate_acceptance",
    "evaluate_predictions",
    "lowess_calibration_curve",
    "net_benefit",
    "net_benefit_treat_all",
    "oe_ratio",
    "roc_curve_points",
    "scaled_brier_score",
    "shap_importance",
    "subgroup_metrics",
    "threshold_metrics",
]
