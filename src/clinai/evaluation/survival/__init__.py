"""Validation of survival (time-to-event) predictions.

Non-parametric estimators (:func:`kaplan_meier`, :func:`censoring_survival`,
:func:`aalen_johansen`), discrimination (:func:`harrell_c`, :func:`uno_c`,
:func:`time_dependent_auc`) and overall accuracy (:func:`ipcw_brier_score`,
:func:`index_of_prediction_accuracy`, :func:`integrated_brier_score`).

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
from clinai.evaluation.survival._concordance import Concordance, harrell_c, uno_c
from clinai.evaluation.survival._kaplan_meier import (
    KaplanMeier,
    aalen_johansen,
    censoring_survival,
    kaplan_meier,
)
from clinai.evaluation.survival._time_auc import TimeDependentAUC, time_dependent_auc

__all__ = [
    "Concordance",
    "IntegratedBrier",
    "KaplanMeier",
    "SurvivalBrier",
    "TimeDependentAUC",
    "aalen_johansen",
    "censoring_survival",
    "harrell_c",
    "index_of_prediction_accuracy",
    "integrated_brier_score",
    "ipcw_brier_score",
    "kaplan_meier",
    "time_dependent_auc",
    "uno_c",
]
