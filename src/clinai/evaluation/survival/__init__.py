"""Validation of survival (time-to-event) predictions.

Non-parametric estimators (:func:`kaplan_meier`, :func:`censoring_survival`,
:func:`aalen_johansen`), discrimination (:func:`harrell_c`, :func:`uno_c`,
:func:`time_dependent_auc`) and overall accuracy (:func:`ipcw_brier_score`,
:func:`index_of_prediction_accuracy`, :func:`integrated_brier_score`), calibration at a
horizon (:func:`survival_oe_ratio`, :func:`survival_calibration_slope`,
:func:`survival_calibration_groups`,
:func:`flexible_survival_calibration`), over the whole follow-up (:func:`d_calibration`,
:func:`a_calibration`) and the decision curve (:func:`survival_decision_curve`).
With competing events: :func:`competing_risk_metrics` (Wolbers' C, Blanche's
time-dependent AUC, Aalen-Johansen O/E, the Brier score of the cumulative incidence).

Inputs everywhere: ``time`` (follow-up, >= 0), ``event`` (0/1, or integer
codes with competing events), ``risk`` (predicted absolute risk by the horizon)
or ``score``/``lp`` (higher means higher risk).
"""

from __future__ import annotations

from clinai.evaluation.survival._brier import (
    IntegratedBrier,
    SurvivalBrier,
    index_of_prediction_accuracy,
    integrated_brier_score,
    ipcw_brier_score,
)
from clinai.evaluation.survival._calibration import (
    SurvivalCalibrationSlope,
    SurvivalOERatio,
    SurvivalRiskGroup,
    survival_calibration_groups,
    survival_calibration_slope,
    survival_oe_ratio,
)
from clinai.evaluation.survival._competing import (
    CompetingRiskMetrics,
    competing_brier_score,
    competing_risk_metrics,
    competing_time_auc,
    wolbers_c,
)
from clinai.evaluation.survival._concordance import Concordance, harrell_c, uno_c
from clinai.evaluation.survival._decision_curve import (
    SurvivalDecisionCurve,
    SurvivalDecisionPoint,
    survival_decision_curve,
)
from clinai.evaluation.survival._distribution_calibration import (
    DistributionCalibration,
    a_calibration,
    d_calibration,
    survival_at_own_time,
)
from clinai.evaluation.survival._flexible_calibration import (
    FlexibleSurvivalCalibration,
    flexible_survival_calibration,
)
from clinai.evaluation.survival._kaplan_meier import (
    KaplanMeier,
    aalen_johansen,
    censoring_survival,
    kaplan_meier,
)
from clinai.evaluation.survival._time_auc import TimeDependentAUC, time_dependent_auc

__all__ = [
    "CompetingRiskMetrics",
    "Concordance",
    "DistributionCalibration",
    "FlexibleSurvivalCalibration",
    "IntegratedBrier",
    "KaplanMeier",
    "SurvivalBrier",
    "SurvivalCalibrationSlope",
    "SurvivalDecisionCurve",
    "SurvivalDecisionPoint",
    "SurvivalOERatio",
    "SurvivalRiskGroup",
    "TimeDependentAUC",
    "a_calibration",
    "aalen_johansen",
    "censoring_survival",
    "competing_brier_score",
    "competing_risk_metrics",
    "competing_time_auc",
    "d_calibration",
    "flexible_survival_calibration",
    "harrell_c",
    "index_of_prediction_accuracy",
    "integrated_brier_score",
    "ipcw_brier_score",
    "kaplan_meier",
    "survival_at_own_time",
    "survival_calibration_groups",
    "survival_calibration_slope",
    "survival_decision_curve",
    "survival_oe_ratio",
    "time_dependent_auc",
    "uno_c",
    "wolbers_c",
]
