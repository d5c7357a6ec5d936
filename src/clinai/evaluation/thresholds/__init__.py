"""Threshold metrics (sensitivity, specificity, PPV, NPV, flag rate) and decision curves."""

from __future__ import annotations

from clinai.evaluation.thresholds._decision_curve import (
    DecisionCurvePoint,
    decision_curve,
    net_benefit,
    net_benefit_treat_all,
)
from clinai.evaluation.thresholds._targets import target_sensitivity_threshold
from clinai.evaluation.thresholds._thresholds import (
    ThresholdEstimates,
    ThresholdMetrics,
    threshold_metrics,
)

__all__ = [
    "DecisionCurvePoint",
    "ThresholdEstimates",
    "ThresholdMetrics",
    "decision_curve",
    "net_benefit",
    "net_benefit_treat_all",
    "target_sensitivity_threshold",
    "threshold_metrics",
]
