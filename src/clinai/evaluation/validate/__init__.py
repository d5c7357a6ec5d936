"""The whole validation in one call.

:func:`evaluate_predictions` composes the concerns; its result's ``to_dict()``
is ``metrics.json``. :func:`period_performance` gives the monitor's subset of it.
"""

from __future__ import annotations

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
    "SurvivalValidationResult",
    "ValidationResult",
    "evaluate_competing",
    "evaluate_predictions",
    "evaluate_survival",
    "period_performance",
]
