"""The whole validation in one call.

:func:`evaluate_predictions` composes the concerns; its result's ``to_dict()``
is ``metrics.json``.
"""

from __future__ import annotations

from clinai.evaluation.validate._validate import (
    SCHEMA_VERSION,
    ValidationResult,
    evaluate_predictions,
)

__all__ = ["SCHEMA_VERSION", "ValidationResult", "evaluate_predictions"]
