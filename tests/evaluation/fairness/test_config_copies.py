"""The config layer's copies of the mitigation choices match what evaluation implements.

``clinai.config`` cannot import ``clinai.evaluation`` (layers contract), so the
YAML schema spells the ThresholdOptimizer constraints and objectives out as
``Literal`` types; this test keeps the two lists from drifting.
"""

from __future__ import annotations

from typing import get_args

from clinai.config._schema import MitigationConfig
from clinai.evaluation.fairness._mitigation import CONSTRAINTS, OBJECTIVES


def test_config_accepts_exactly_the_implemented_constraints_and_objectives() -> None:
    fields = MitigationConfig.model_fields
    assert get_args(fields["constraint"].annotation) == CONSTRAINTS
    assert get_args(fields["objective"].annotation) == OBJECTIVES
    assert fields["constraint"].default == CONSTRAINTS[0]
    assert fields["objective"].default == OBJECTIVES[0]
