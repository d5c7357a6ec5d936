"""The config and reporting layers' copies of fairness names match what evaluation implements.

``clinai.config`` cannot import ``clinai.evaluation`` (layers contract), so the
YAML schema spells the ThresholdOptimizer constraints and objectives out as
``Literal`` types and lists the fairness metrics an acceptance criterion may name;
``clinai.reporting`` stays light to import (no numpy stack), so its whitelist of the
fairness block's metrics is its own tuple. These tests keep the copies from drifting.
"""

from __future__ import annotations

from typing import get_args

from clinai.config import _schema
from clinai.config._schema import MitigationConfig
from clinai.evaluation.fairness._fairness_metrics import FAIRNESS_METRICS, RATIO_METRICS
from clinai.evaluation.fairness._mitigation import CONSTRAINTS, OBJECTIVES
from clinai.reporting import _fairness_view


def test_config_accepts_exactly_the_implemented_constraints_and_objectives() -> None:
    fields = MitigationConfig.model_fields
    assert get_args(fields["constraint"].annotation) == CONSTRAINTS
    assert get_args(fields["objective"].annotation) == OBJECTIVES
    assert fields["constraint"].default == CONSTRAINTS[0]
    assert fields["objective"].default == OBJECTIVES[0]


def test_config_and_reporting_name_the_fairness_metrics_evaluation_writes() -> None:
    assert _schema.FAIRNESS_METRICS == FAIRNESS_METRICS
    assert _schema.FAIRNESS_RATIO_METRICS == RATIO_METRICS
    assert _fairness_view.FAIRNESS_METRICS == FAIRNESS_METRICS
