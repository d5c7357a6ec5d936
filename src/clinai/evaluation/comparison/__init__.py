"""Comparison with a baseline score.

AUROC difference (DeLong), Brier and net benefit differences, and operating
points matched on the number flagged.
"""

from __future__ import annotations

from clinai.evaluation.comparison._comparison import (
    BaselineComparison,
    ThresholdDifference,
    compare_with_baseline,
)
from clinai.evaluation.comparison._operating_points import (
    OperatingPoint,
    OperatingPointComparison,
    compare_operating_points,
)

__all__ = [
    "BaselineComparison",
    "OperatingPoint",
    "OperatingPointComparison",
    "ThresholdDifference",
    "compare_operating_points",
    "compare_with_baseline",
]
