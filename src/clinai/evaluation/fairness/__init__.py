"""Subgroups and fairness.

Metrics per group and intersection, between-group disparities and
post-processing mitigation.
"""

from __future__ import annotations

from clinai.evaluation.fairness._fairness_metrics import (
    FairnessDisparity,
    FairnessGroup,
    FairnessResult,
    FairnessTable,
    fairness_metrics,
    intersection_name,
)
from clinai.evaluation.fairness._mitigation import (
    MitigationGroup,
    MitigationResult,
    threshold_optimizer_mitigation,
)
from clinai.evaluation.fairness._subgroups import SubgroupResult, SubgroupRow, subgroup_metrics

__all__ = [
    "FairnessDisparity",
    "FairnessGroup",
    "FairnessResult",
    "FairnessTable",
    "MitigationGroup",
    "MitigationResult",
    "SubgroupResult",
    "SubgroupRow",
    "fairness_metrics",
    "intersection_name",
    "subgroup_metrics",
    "threshold_optimizer_mitigation",
]
