"""Discrimination and overall accuracy.

AUROC, average precision, Brier score, ROC curve, and DeLong's AUROC interval
and test.
"""

from __future__ import annotations

from clinai.evaluation.discrimination._delong import DeLongTest, delong_ci, delong_test
from clinai.evaluation.discrimination._metrics import (
    RocPoint,
    auroc_score,
    average_precision_score,
    brier_score,
    roc_curve_points,
    scaled_brier_score,
)

__all__ = [
    "DeLongTest",
    "RocPoint",
    "auroc_score",
    "average_precision_score",
    "brier_score",
    "delong_ci",
    "delong_test",
    "roc_curve_points",
    "scaled_brier_score",
]
