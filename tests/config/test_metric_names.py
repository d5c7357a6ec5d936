"""Acceptance criteria name metrics that exist: checked when the config loads.

The config layer states the layout of ``metrics.json`` itself (it may not import
``clinai.evaluation``); these tests hold that layout to a real ``metrics.json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pytest

from clinai import evaluation
from clinai.config import parse_config
from clinai.config._metric_names import (
    ESTIMATE,
    METRIC_TREE,
    NUMBER,
    OPEN,
    metric_path_problem,
)
from clinai.exceptions import ConfigError

MINIMAL = {
    "experiment": "demo",
    "pipeline": "icu_mortality",
    "data": {"source": {"type": "bundled", "name": "vcdExtra/ICU"}},
}
#: Top-level keys of metrics.json that are records, not metrics a criterion can judge.
NOT_METRICS = {"schema_version", "roc_curve", "acceptance"}


@pytest.fixture(scope="module")
def metrics() -> dict[str, Any]:
    """A real metrics.json document: thresholds, subgroups and a baseline comparison."""
    rng = np.random.default_rng(0)
    n = 300
    y = rng.integers(0, 2, n)
    p = np.clip(0.3 * y + rng.random(n) * 0.7, 0.01, 0.99)
    baseline = np.clip(p + rng.normal(0, 0.2, n), 0.01, 0.99)
    result = evaluation.evaluate_predictions(
        y,
        p,
        sensitive_features=pd.DataFrame({"sex": rng.choice(["F", "M"], n)}),
        thresholds=[0.2, 0.3],
        dca_thresholds=[0.1, 0.2],
        n_boot=10,
        random_state=0,
        y_baseline=baseline,
        baseline_name="score",
    )
    return result.to_dict()


def _leaves(node: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Every fixed leaf path of the tree with its kind (lists as item 0)."""
    if isinstance(node, Mapping):
        return [
            leaf
            for key, child in node.items()
            for leaf in _leaves(child, f"{prefix}.{key}" if prefix else key)
        ]
    if isinstance(node, list):
        return _leaves(node[0], f"{prefix}.0")
    return [(prefix, node)]


def _holds_a_number(value: Any) -> bool:
    """Whether a block of metrics.json holds a number anywhere (records such as names do not)."""
    if isinstance(value, Mapping):
        return any(_holds_a_number(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_a_number(v) for v in value)
    return isinstance(value, int | float) and not isinstance(value, bool)


def _resolve(document: Any, path: str) -> Any:
    for part in path.split("."):
        document = document[int(part)] if isinstance(document, list) else document[part]
    return document


def test_every_named_metric_exists_in_a_real_metrics_json(metrics: dict[str, Any]) -> None:
    for path, kind in _leaves(METRIC_TREE):
        if kind == OPEN:
            continue
        value = _resolve(metrics, path)
        if kind == ESTIMATE:
            assert isinstance(value, Mapping) and {"estimate", "ci_low", "ci_high"} <= set(value)
        else:
            assert kind == NUMBER and isinstance(value, int | float), path
        assert metric_path_problem(path) is None, path


def test_every_metric_of_metrics_json_is_named(metrics: dict[str, Any]) -> None:
    """A metric added to evaluation without a line in config's list fails here."""
    metric_keys = {key for key, value in metrics.items() if _holds_a_number(value)}
    assert metric_keys - NOT_METRICS <= set(METRIC_TREE)
    for block in ("calibration", "baseline_comparison"):
        named = METRIC_TREE[block]
        extra = {
            k for k, v in metrics[block].items() if isinstance(v, int | float | Mapping | list)
        }
        assert extra - {"curve", "notes"} <= set(named), block
    for block in ("thresholds", "decision_curve"):
        assert set(metrics[block][0]) <= set(METRIC_TREE[block][0]), block


def test_bundled_criteria_are_valid() -> None:
    for metric in ("auroc", "calibration.slope", "baseline_comparison.auroc_diff"):
        assert metric_path_problem(metric, "ci_low") is None
    assert metric_path_problem("thresholds.1.sensitivity") is None
    assert metric_path_problem("auroc.ci_low") is None  # the bound as its own number
    assert metric_path_problem("subgroups.sex.0.auroc", "ci_low") is None


def _criterion(**fields: Any) -> dict[str, Any]:
    return {
        **MINIMAL,
        "evaluation": {"acceptance": [{"name": "typo", "min": 0.5, **fields}]},
    }


@pytest.mark.parametrize(
    ("fields", "needles"),
    [
        (
            {"metric": "no_such_metric"},
            ["evaluation.acceptance.0.metric", "'no_such_metric'", "auroc", "calibration.{"],
        ),
        ({"metric": "calibration.slop"}, ["'slop'", "did you mean 'slope'"]),
        ({"metric": "auroc_ci"}, ["'auroc_ci'", "did you mean 'auroc'"]),
        ({"metric": "calibration"}, ["group of metrics", "calibration.intercept"]),
        ({"metric": "thresholds.sensitivity"}, ["thresholds.0.sensitivity"]),
        ({"metric": "prevalence", "statistic": "ci_low"}, ["plain number", "'estimate'"]),
    ],
    ids=["unknown", "misspelt-sub-metric", "misspelt", "group", "list-without-index", "no-ci"],
)
def test_criterion_naming_no_metric_is_refused(fields: dict[str, Any], needles: list[str]) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(_criterion(**fields))
    message = str(error.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, (needle, message)


def test_duplicate_models_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"'models'.*logistic more than once"):
        parse_config({**MINIMAL, "models": ["logistic", "lightgbm", "logistic"]})
    assert parse_config({**MINIMAL, "models": ["logistic", "lightgbm"]}).models == [
        "logistic",
        "lightgbm",
    ]
