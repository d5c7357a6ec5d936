"""Acceptance criteria: pass, fail, not applicable."""

from __future__ import annotations

import json
import re

import pytest

from clinai.evaluation import evaluate_acceptance
from clinai.evaluation.acceptance._acceptance import CRITERIA_MSG
from clinai.exceptions import DataError

METRICS = {
    "n": 500,
    "prevalence": 0.2,
    "auroc": {"estimate": 0.81, "ci_low": 0.74, "ci_high": 0.87},
    "calibration": {
        "slope": {"estimate": 0.92, "ci_low": 0.75, "ci_high": 1.1},
        "ici": {"estimate": 0.02, "ci_low": None, "ci_high": None},
    },
    "thresholds": [{"threshold": 0.1, "sensitivity": {"estimate": 0.9, "ci_low": 0.85}}],
}


def judge(**criterion):
    return evaluate_acceptance(METRICS, [{"name": "c", **criterion}])[0]


def test_pass_fail_and_rules() -> None:
    passed = judge(metric="auroc", statistic="ci_low", min=0.7)
    assert passed.status == "pass"
    assert passed.passed is True
    assert passed.value == 0.74
    assert passed.rule == "auroc ci_low >= 0.7"
    failed = judge(metric="auroc", statistic="ci_low", min=0.75)
    assert (failed.status, failed.passed) == ("fail", False)
    band = judge(metric="calibration.slope", min=0.8, max=1.2)
    assert band.status == "pass"
    assert band.rule == "0.8 <= calibration.slope estimate <= 1.2"
    upper = judge(metric="calibration.ici", max=0.01)
    assert upper.status == "fail"
    assert upper.rule == "calibration.ici estimate <= 0.01"


def test_bounds_are_inclusive() -> None:
    assert judge(metric="auroc", min=0.81).status == "pass"
    assert judge(metric="auroc", max=0.81).status == "pass"


def test_on_is_a_synonym_of_statistic() -> None:
    assert judge(metric="auroc", on="ci_high", max=0.9).value == 0.87


def test_not_applicable_is_kept_apart_from_fail() -> None:
    for criterion in (
        {"metric": "calibration.ici", "statistic": "ci_low", "min": 0.0},  # None
        {"metric": "baseline_comparison.auroc_diff", "min": 0.0},  # missing
        {"metric": "prevalence", "statistic": "ci_low", "min": 0.0},  # a plain number has no CI
        {"metric": "thresholds.3.sensitivity", "min": 0.5},  # no such list entry
    ):
        result = judge(**criterion)
        assert result.status == "not_applicable"
        assert result.passed is None
        assert result.value is None


def test_paths_into_lists_and_plain_numbers() -> None:
    assert judge(metric="thresholds.0.sensitivity", statistic="ci_low", min=0.8).value == 0.85
    assert judge(metric="n", min=100).status == "pass"


def test_to_dict_is_json() -> None:
    result = judge(metric="auroc", statistic="ci_low", min=0.7)
    entry = result.to_dict()
    assert entry == {
        "criterion": "c",
        "metric": "auroc",
        "statistic": "ci_low",
        "min": 0.7,
        "max": None,
        "value": 0.74,
        "passed": True,
        "status": "pass",
        "rule": "auroc ci_low >= 0.7",
    }
    json.dumps(entry, allow_nan=False)


def test_malformed_criteria_are_listed_at_once() -> None:
    criteria = [
        {"name": "a", "metric": "auroc"},
        {"name": "", "metric": "auroc", "min": 0.5, "statistic": "mean"},
        {"name": "c", "metric": "auroc", "min": 0.9, "max": 0.1, "colour": "red"},
    ]
    problems = "\n".join(
        [
            "- criteria[0]: give min, max or both",
            "- criteria[1].name: must be a non-empty string; got ''",
            "- criteria[1].statistic: must be one of estimate, ci_low, ci_high; got 'mean'",
            "- criteria[2]: unknown key(s) colour; use max, metric, min, name, on, statistic",
            "- criteria[2]: min (0.9) is greater than max (0.1)",
        ]
    )
    with pytest.raises(DataError, match=re.escape(CRITERIA_MSG.format(problems=problems))):
        evaluate_acceptance(METRICS, criteria)


def test_empty_criteria() -> None:
    assert evaluate_acceptance(METRICS, []) == []


FAIRNESS_METRICS = {
    **METRICS,
    "fairness": {
        "sex": {
            "attributes": ["sex"],
            "groups": [
                {"group": "female", "auroc": {"estimate": 0.8, "ci_low": 0.7, "ci_high": 0.9}},
                {"group": "male", "auroc": {"estimate": 0.75, "ci_low": 0.66, "ci_high": 0.84}},
            ],
            "auroc": {
                "difference": {"estimate": 0.05, "ci_low": 0.0, "ci_high": 0.14},
                "ratio": {"estimate": 0.94, "ci_low": 0.82, "ci_high": 1.0},
            },
            "net_benefit": {"difference": {"estimate": 0.01, "ci_low": 0.0, "ci_high": 0.03}},
        }
    },
}


def test_fairness_criteria_resolve_into_the_fairness_block() -> None:
    criteria = [
        {
            "name": "sex AUROC gap",
            "metric": "fairness.sex.auroc.difference",
            "statistic": "ci_high",
            "max": 0.10,
        },
        {
            "name": "sex AUROC ratio",
            "metric": "fairness.sex.auroc.ratio",
            "statistic": "ci_low",
            "min": 0.8,
        },
        {
            "name": "female AUROC",
            "metric": "fairness.sex.groups.0.auroc",
            "statistic": "ci_low",
            "min": 0.65,
        },
        {"name": "third group", "metric": "fairness.sex.groups.2.auroc", "min": 0.65},
    ]
    results = evaluate_acceptance(FAIRNESS_METRICS, criteria)
    assert [r.status for r in results] == ["fail", "pass", "pass", "not_applicable"]
    assert results[0].value == 0.14
    assert results[0].rule == "fairness.sex.auroc.difference ci_high <= 0.1"


def test_unknown_fairness_paths_name_the_criterion() -> None:
    for metric, part in (
        ("fairness.sexx.auroc.difference", "sexx"),
        ("fairness.sex.aurocc.difference", "aurocc"),
        ("fairness.sex.net_benefit.ratio", "ratio"),
    ):
        with pytest.raises(
            DataError,
            match=re.escape(
                f"acceptance criterion 'gap': metric {metric!r} does not exist in metrics.json: "
                f"{part!r} is not one of"
            ),
        ):
            evaluate_acceptance(FAIRNESS_METRICS, [{"name": "gap", "metric": metric, "max": 0.1}])
    with pytest.raises(
        DataError,
        match=re.escape(
            "acceptance criterion 'gap': metric 'fairness.sex.auroc.difference' needs fairness "
            "results, but none were computed: set evaluation.sensitive_attributes"
        ),
    ):
        evaluate_acceptance(
            METRICS, [{"name": "gap", "metric": "fairness.sex.auroc.difference", "max": 0.1}]
        )


def test_config_refuses_an_unknown_fairness_path_at_load_time() -> None:
    # config and evaluation name one metric table: see fairness/test_shared_names.py
    from clinai.config import ExperimentConfig

    base = {
        "experiment": "x",
        "pipeline": "icu_mortality",
        "data": {"source": {"type": "bundled", "name": "vcdExtra/ICU"}},
    }
    evaluation = {
        "sensitive_attributes": ["sex", "age_band"],
        "intersections": [["sex", "age_band"]],
        "acceptance": [
            {
                "name": "cross gap",
                "metric": "fairness.sex_x_age_band.auroc.difference",
                "statistic": "ci_high",
                "max": 0.2,
            }
        ],
    }
    config = ExperimentConfig.model_validate({**base, "evaluation": evaluation})
    assert config.evaluation.intersections == [("sex", "age_band")]
    assert config.evaluation.resolved_operating_threshold == 0.1
    bad = {
        **evaluation,
        "acceptance": [{"name": "typo", "metric": "fairness.sx.auroc.difference", "max": 0.1}],
    }
    with pytest.raises(
        ValueError,
        match=re.escape(
            "acceptance criterion 'typo': metric 'fairness.sx.auroc.difference' is not a fairness "
            "result"
        ),
    ):
        ExperimentConfig.model_validate({**base, "evaluation": bad})
