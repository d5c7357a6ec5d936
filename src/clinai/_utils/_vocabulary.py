"""Names several layers must spell alike: the fairness and mitigation blocks' metrics and options.

``clinai.config`` checks them (it may not import ``clinai.evaluation``), ``clinai.evaluation``
computes them and ``clinai.reporting`` shows them; each table is written here once and
imported from this module by all three under the names they have always had.

Examples
--------
>>> FAIRNESS_RATIO_METRICS
('auroc', 'sensitivity', 'specificity')
>>> MITIGATION_CONSTRAINTS[0], MITIGATION_OBJECTIVES[0]
('equalized_odds', 'balanced_accuracy_score')
"""

from __future__ import annotations

from typing import Final, Literal, get_args

__all__ = [
    "COMPETING_FAIRNESS_METRICS",
    "FAIRNESS_METRICS",
    "FAIRNESS_RATIO_METRICS",
    "MITIGATION_CONSTRAINTS",
    "MITIGATION_GROUP_RATES",
    "MITIGATION_METRICS",
    "MITIGATION_OBJECTIVES",
    "SURVIVAL_FAIRNESS_METRICS",
    "MitigationConstraint",
    "MitigationObjective",
]

#: Per-group metrics of the ``fairness`` block of metrics.json, in report order.
FAIRNESS_METRICS: Final = (
    "auroc",
    "calibration_in_the_large",
    "sensitivity",
    "specificity",
    "net_benefit",
)
#: Metrics that cannot be negative, for which a between-group ratio min / max is
#: reported as well as the difference.
FAIRNESS_RATIO_METRICS: Final = ("auroc", "sensitivity", "specificity")

#: A survival run's per-group metrics (C and O/E by the first horizon), in record order.
SURVIVAL_FAIRNESS_METRICS: Final = ("harrell_c", "oe_ratio")
#: A competing-risk run's per-group metrics: Wolbers' C and the Aalen-Johansen O/E.
COMPETING_FAIRNESS_METRICS: Final = ("wolbers_c", "oe_ratio")

#: fairlearn ThresholdOptimizer constraints (the first is the default).
MitigationConstraint = Literal[
    "equalized_odds",
    "demographic_parity",
    "true_positive_rate_parity",
    "false_positive_rate_parity",
    "true_negative_rate_parity",
    "false_negative_rate_parity",
]
#: ThresholdOptimizer objectives (the first is the default).
MitigationObjective = Literal["balanced_accuracy_score", "accuracy_score"]
MITIGATION_CONSTRAINTS: Final[tuple[str, ...]] = get_args(MitigationConstraint)
MITIGATION_OBJECTIVES: Final[tuple[str, ...]] = get_args(MitigationObjective)
#: Overall metrics of each rule (unmitigated, mitigated) in the ``mitigation`` block.
MITIGATION_METRICS: Final = ("sensitivity", "specificity", "flag_rate", "net_benefit")
#: Decision rates of each rule in every group of the mitigated attribute.
MITIGATION_GROUP_RATES: Final = ("flag_rate", "sensitivity", "specificity")
