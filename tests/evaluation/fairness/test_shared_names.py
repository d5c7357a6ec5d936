"""The config, evaluation and reporting layers name fairness metrics and mitigation options alike.

``clinai.config`` may not import ``clinai.evaluation`` (layers contract), so each table
lives once in ``clinai._utils._vocabulary`` (which every layer may import) and every
layer's public name is that one table: the YAML schema cannot accept a constraint, nor an
acceptance criterion name a metric, that evaluation does not implement or reporting does
not show.
"""

from __future__ import annotations

from typing import get_args

import pytest
from pydantic import ValidationError

from clinai._utils import _vocabulary
from clinai.config import _schema
from clinai.config._schema import MitigationConfig
from clinai.evaluation.fairness import _fairness_metrics, _mitigation
from clinai.evaluation.validate import _competing_paired, _fairness_survival
from clinai.reporting import _fairness_view


def test_every_layer_names_the_one_fairness_metric_table() -> None:
    assert _schema.FAIRNESS_METRICS is _vocabulary.FAIRNESS_METRICS
    assert _fairness_metrics.FAIRNESS_METRICS is _vocabulary.FAIRNESS_METRICS
    assert _fairness_view.FAIRNESS_METRICS is _vocabulary.FAIRNESS_METRICS
    assert _schema.FAIRNESS_RATIO_METRICS is _vocabulary.FAIRNESS_RATIO_METRICS
    assert _fairness_metrics.RATIO_METRICS is _vocabulary.FAIRNESS_RATIO_METRICS
    assert set(_vocabulary.FAIRNESS_RATIO_METRICS) <= set(_vocabulary.FAIRNESS_METRICS)


def test_config_and_evaluation_name_the_one_time_to_event_fairness_table() -> None:
    survival, competing = (
        _vocabulary.SURVIVAL_FAIRNESS_METRICS,
        _vocabulary.COMPETING_FAIRNESS_METRICS,
    )
    assert _schema.SURVIVAL_FAIRNESS_METRICS is survival
    assert _fairness_survival.SURVIVAL_FAIRNESS_METRICS is survival
    assert _schema.COMPETING_FAIRNESS_METRICS is competing
    assert _competing_paired.COMPETING_FAIRNESS_METRICS is competing
    assert set(_schema.SURVIVAL_FAIRNESS_RATIO_METRICS) <= set(survival)


def test_config_accepts_exactly_the_constraints_and_objectives_mitigation_implements() -> None:
    assert _mitigation.CONSTRAINTS is _vocabulary.MITIGATION_CONSTRAINTS
    assert _mitigation.OBJECTIVES is _vocabulary.MITIGATION_OBJECTIVES
    fields = MitigationConfig.model_fields
    assert get_args(fields["constraint"].annotation) == _mitigation.CONSTRAINTS
    assert get_args(fields["objective"].annotation) == _mitigation.OBJECTIVES
    assert fields["constraint"].default == _mitigation.CONSTRAINTS[0]
    assert fields["objective"].default == _mitigation.OBJECTIVES[0]


def test_reporting_shows_the_mitigation_keys_evaluation_writes() -> None:
    assert _mitigation.MITIGATION_METRICS is _vocabulary.MITIGATION_METRICS
    assert _fairness_view._MITIGATION_METRICS is _vocabulary.MITIGATION_METRICS
    assert _mitigation._GROUP_RATES is _vocabulary.MITIGATION_GROUP_RATES
    assert _fairness_view._GROUP_RATES is _vocabulary.MITIGATION_GROUP_RATES


@pytest.mark.parametrize("field", ["constraint", "objective"])
def test_config_refuses_a_mitigation_option_evaluation_does_not_implement(field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        MitigationConfig.model_validate({"attribute": "sex", field: "equal_opportunity"})
