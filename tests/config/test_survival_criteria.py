"""Acceptance criteria of a survival config name survival metrics; each kind refuses the other's."""

from __future__ import annotations

import pytest

from clinai.config import parse_config
from clinai.config._metric_names import SURVIVAL_METRIC_TREE
from clinai.evaluation import SURVIVAL_METRICS, survival_acceptance_view
from clinai.exceptions import ConfigError

BINARY = {
    "experiment": "demo",
    "pipeline": "ami_1y_mortality",
    "data": {"source": {"type": "bundled", "name": "sksurv/whas500"}},
    "evaluation": {"sensitive_attributes": ["sex"]},
}
SURVIVAL = {**BINARY, "outcome": {"type": "survival", "horizons": [365]}}


def _with(base: dict, *criteria: dict) -> dict:
    return {**base, "evaluation": {**base["evaluation"], "acceptance": list(criteria)}}


def test_survival_config_takes_survival_metric_names() -> None:
    criteria = [
        {"name": "C", "metric": "harrell_c", "statistic": "ci_low", "min": 0.6},
        {"name": "AUC", "metric": "td_auc", "min": 0.6},
        {"name": "slope", "metric": "calibration_slope", "min": 0.8, "max": 1.2},
        {"name": "IBS", "metric": "integrated_brier", "max": 0.2},
        {"name": "vs registered", "metric": "comparison.harrell_c.difference", "min": -0.02},
        {"name": "sex gap", "metric": "fairness.sex.oe_ratio.ratio", "min": 0.8},
    ]
    config = parse_config(_with(SURVIVAL, *criteria))
    assert [c.metric for c in config.evaluation.acceptance] == [c["metric"] for c in criteria]


@pytest.mark.parametrize(
    ("base", "criterion", "needle"),
    [
        (SURVIVAL, {"metric": "auroc", "min": 0.6}, "(outcome.type: survival)"),
        (SURVIVAL, {"metric": "harel_c", "min": 0.6}, "did you mean 'harrell_c'"),
        (SURVIVAL, {"metric": "fairness.sex.auroc.difference", "max": 0.1}, "'auroc' is not one"),
        (SURVIVAL, {"metric": "n", "statistic": "ci_low", "min": 1}, "plain number"),
        (BINARY, {"metric": "harrell_c", "min": 0.6}, "(outcome.type: binary)"),
        (BINARY, {"metric": "fairness.sex.harrell_c.difference", "max": 0.1}, "'harrell_c'"),
    ],
)
def test_criterion_of_the_other_outcome_kind_is_one_config_error(
    base: dict, criterion: dict, needle: str
) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(_with(base, {"name": "x", **criterion}))
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_survival_names_are_those_of_the_acceptance_view() -> None:
    # the config layer states the names; evaluation's view of survival_metrics.json has them
    document = {
        "n": 10,
        "follow_up": {"events_by_horizon": 3},
        "metrics": {name: {"estimate": 0.5} for name in SURVIVAL_METRICS},
        "integrated_brier": {"estimate": 0.1},
        "comparison": {},
        "fairness": {},
    }
    assert set(survival_acceptance_view(document)) == set(SURVIVAL_METRIC_TREE)
