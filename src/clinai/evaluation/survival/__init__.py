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

from clinai.evaluation.survival._kaplan_meier import (
    KaplanMeier,
    aalen_johansen,
    censoring_survival,
    kaplan_meier,
)

__all__ = [
    "KaplanMeier",
    "aalen_johansen",
    "censoring_survival",
    "kaplan_meier",
]
