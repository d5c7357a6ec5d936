"""Evaluation of clinical prediction models: pure functions, frozen results.

Discrimination (:func:`auroc_score`, :func:`average_precision_score`),
overall accuracy (:func:`brier_score`, :func:`scaled_brier_score`),
calibration (:func:`calibration_intercept`, :func:`calibration_slope`,
:func:`oe_ratio`, :func:`calibration_errors`, :func:`lowess_calibration_curve`),
threshold metrics and decision curves (:func:`threshold_metrics`,
:func:`net_benefit`, :func:`net_benefit_treat_all`, :func:`decision_curve`),
bootstrap intervals (:func:`bootstrap`), DeLong's AUROC interval and test
(:func:`delong_ci`, :func:`delong_test`), comparison with a baseline score
(:func:`compare_with_baseline`), subgroups (:func:`subgroup_metrics`), fairness across groups and
intersections (:func:`fairness_metrics`) and post-processing mitigation
(:func:`threshold_optimizer_mitigation`),
SHAP importance (:func:`shap_importance`; rank intervals, subgroup importance,
dependence data and synthetic profiles: :func:`explain_global`,
:func:`synthetic_profiles`, :func:`explain_profiles`), acceptance criteria
(:func:`evaluate_acceptance`), Riley et al.'s minimum sample size
(:func:`riley_sample_size`, :func:`assess_sample_size`) and the whole
validation in one call (:func:`evaluate_predictions`, whose ``to_dict()`` is
``metrics.json``).

Each concern is a subpackage (``discrimination``, ``calibration``, ``thresholds``,
``resampling`` (the bootstrap engine), ``comparison``, ``fairness``, ``explain``,
``acceptance``, ``sample_size``, ``validate``; the map is in ``docs/architecture.md``);
every public name is imported from here.

No I/O, no plotting, no MLflow. shap, fairlearn and statsmodels are imported
inside the functions that use them.
"""

from __future__ import annotations

from clinai.evaluation._estimate import Estimate
from clinai.evaluation.acceptance import AcceptanceResult, evaluate_acceptance
from clinai.evaluation.calibration import (
    CalibrationCurve,
    CalibrationCurvePoint,
    CalibrationErrors,
    CalibrationResult,
    calibration_errors,
    calibration_intercept,
    calibration_slope,
    lowess_calibration_curve,
    oe_ratio,
)
from clinai.evaluation.comparison import (
    BaselineComparison,
    OperatingPoint,
    OperatingPointComparison,
    ThresholdDifference,
    compare_operating_points,
    compare_with_baseline,
)
from clinai.evaluation.discrimination import (
    DeLongTest,
    RocPoint,
    auroc_score,
    average_precision_score,
    brier_score,
    delong_ci,
    delong_test,
    roc_curve_points,
    scaled_brier_score,
)
from clinai.evaluation.explain import (
    ContributionItem,
    Dependence,
    DependenceLevel,
    Explanation,
    LocalExplanation,
    RankInterval,
    RankIntervals,
    ShapImportance,
    ShapValues,
    SubgroupImportance,
    SubgroupImportanceCell,
    SyntheticProfiles,
    VariableImportance,
    dependence_data,
    explain_global,
    explain_profiles,
    importance_from_values,
    importance_rank_intervals,
    mean_shap_values,
    shap_importance,
    shap_values,
    subgroup_importance,
    synthetic_profiles,
    variable_contributions,
)
from clinai.evaluation.fairness import (
    FairnessDisparity,
    FairnessGroup,
    FairnessResult,
    FairnessTable,
    MitigationGroup,
    MitigationResult,
    SubgroupResult,
    SubgroupRow,
    fairness_metrics,
    intersection_name,
    subgroup_metrics,
    threshold_optimizer_mitigation,
)
from clinai.evaluation.resampling import BootstrapResult, bootstrap, bootstrap_indices
from clinai.evaluation.sample_size import (
    SampleSizeAssessment,
    SampleSizeCriterion,
    SampleSizeResult,
    assess_sample_size,
    cox_snell_r2_from_c_statistic,
    max_cox_snell_r2,
    riley_sample_size,
)
from clinai.evaluation.thresholds import (
    DecisionCurvePoint,
    ThresholdEstimates,
    ThresholdMetrics,
    decision_curve,
    net_benefit,
    net_benefit_treat_all,
    target_sensitivity_threshold,
    threshold_metrics,
)
from clinai.evaluation.validate import SCHEMA_VERSION, ValidationResult, evaluate_predictions

__all__ = [
    "SCHEMA_VERSION",
    "AcceptanceResult",
    "BaselineComparison",
    "BootstrapResult",
    "CalibrationCurve",
    "CalibrationCurvePoint",
    "CalibrationErrors",
    "CalibrationResult",
    "ContributionItem",
    "DeLongTest",
    "DecisionCurvePoint",
    "Dependence",
    "DependenceLevel",
    "Estimate",
    "Explanation",
    "FairnessDisparity",
    "FairnessGroup",
    "FairnessResult",
    "FairnessTable",
    "LocalExplanation",
    "MitigationGroup",
    "MitigationResult",
    "OperatingPoint",
    "OperatingPointComparison",
    "RankInterval",
    "RankIntervals",
    "RocPoint",
    "SampleSizeAssessment",
    "SampleSizeCriterion",
    "SampleSizeResult",
    "ShapImportance",
    "ShapValues",
    "SubgroupImportance",
    "SubgroupImportanceCell",
    "SubgroupResult",
    "SubgroupRow",
    "SyntheticProfiles",
    "ThresholdDifference",
    "ThresholdEstimates",
    "ThresholdMetrics",
    "ValidationResult",
    "VariableImportance",
    "assess_sample_size",
    "auroc_score",
    "average_precision_score",
    "bootstrap",
    "bootstrap_indices",
    "brier_score",
    "calibration_errors",
    "calibration_intercept",
    "calibration_slope",
    "compare_operating_points",
    "compare_with_baseline",
    "cox_snell_r2_from_c_statistic",
    "decision_curve",
    "delong_ci",
    "delong_test",
    "dependence_data",
    "evaluate_acceptance",
    "evaluate_predictions",
    "explain_global",
    "explain_profiles",
    "fairness_metrics",
    "importance_from_values",
    "importance_rank_intervals",
    "intersection_name",
    "lowess_calibration_curve",
    "max_cox_snell_r2",
    "mean_shap_values",
    "net_benefit",
    "net_benefit_treat_all",
    "oe_ratio",
    "riley_sample_size",
    "roc_curve_points",
    "scaled_brier_score",
    "shap_importance",
    "shap_values",
    "subgroup_importance",
    "subgroup_metrics",
    "synthetic_profiles",
    "target_sensitivity_threshold",
    "threshold_metrics",
    "threshold_optimizer_mitigation",
    "variable_contributions",
]
