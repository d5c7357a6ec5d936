"""The whole validation in one call.

:func:`evaluate_predictions` composes the concerns; its result's ``to_dict()``
is ``metrics.json``. :func:`period_performance` gives the monitor's subset of it.
"""

from __future__ import annotations

from clinai.evaluation.validate._compare_survival import (
    SurvivalComparison,
    compare_survival_models,
    integrated_brier_with_interval,
)
from clinai.evaluation.validate._competing_paired import (
    compare_competing_models,
    competing_fairness,
)
from clinai.evaluation.validate._fairness_survival import SurvivalFairnessTable, survival_fairness
from clinai.evaluation.validate._period import (
    PERIOD_METRICS,
    PeriodPerformance,
    period_performance,
)
from clinai.evaluation.validate._survival import (
    SURVIVAL_METRICS,
    SURVIVAL_SCHEMA,
    SurvivalValidationResult,
    evaluate_survival,
)
from clinai.evaluation.validate._survival_competing import (
    CompetingValidationResult,
    evaluate_competing,
)
from clinai.evaluation.validate._validate import (
    SCHEMA_VERSION,
    ValidationResult,
    evaluate_predictions,
)

__all__ = [
    "PERIOD_METRICS",
    "SCHEMA_VERSION",
    "SURVIVAL_METRICS",
    "SURVIVAL_SCHEMA",
    "CompetingValidationResult",
    "PeriodPerformance",
    "SurvivalComparison",
    "SurvivalFairnessTable",
    "SurvivalValidationResult",
    "ValidationResult",
    "compare_competing_models",
    "compare_survival_models",
    "competing_fairness",
    "evaluate_competing",
    "evaluate_predictions",
    "evaluate_survival",
    "integrated_brier_with_interval",
    "period_performance",
    "survival_fairness",
]
