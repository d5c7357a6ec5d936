"""evaluate_predictions: the metrics.json document (schema v1)."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinai.evaluation import (
    SCHEMA_VERSION,
    auroc_score,
    average_precision_score,
    bootstrap,
    brier_score,
    calibration_errors,
    calibration_intercept,
    calibration_slope,
    evaluate_acceptance,
    evaluate_predictions,
    net_benefit,
    oe_ratio,
    scaled_brier_score,
    threshold_metrics,
)
from clinai.evaluation._inputs import ONE_CLASS_MSG, THRESHOLD_MSG
from clinai.exceptions import DataError
from tests._helpers import METRICS_JSON_KEYS

# evaluate_predictions alone adds DeLong's interval, the ROC curve and the interval method
TOP_KEYS = METRICS_JSON_KEYS | {"auroc_delong", "roc_curve", "ci_method", "ci_extended"}
ESTIMATE_KEYS = {"estimate", "ci_low", "ci_high"}


def cohort(n: int = 300, seed: int = 0):
    rng = np.random.default_rng(seed)
    p = rng.beta(2, 5, size=n)
    y = rng.binomial(1, p)
    patients = rng.integers(0, n // 2, size=n)
    features = pd.DataFrame(
        {"sex": rng.choice(["F", "M"], size=n), "site": rng.choice(["A", "B", "C"], size=n)}
    )
    features.loc[:2, "site"] = "tiny"
    return y, p, patients, features


@pytest.fixture(scope="module")
def result():
    y, p, patients, features = cohort()
    return evaluate_predictions(
        y, p, patient_ids=patients, sensitive_features=features, n_boot=40, random_state=1
    )


def test_to_dict_is_exactly_schema_v1_and_strict_json(result) -> None:
    document = result.to_dict()
    assert set(document) == TOP_KEYS
    assert document["schema_version"] == SCHEMA_VERSION == 1
    text = json.dumps(document, allow_nan=False)
    assert json.loads(text) == document
    assert isinstance(document["n"], int)
    assert isinstance(document["events"], int)
    assert isinstance(document["prevalence"], float)
    for key in ("auroc", "auprc", "brier", "scaled_brier"):
        assert set(document[key]) == ESTIMATE_KEYS
    calibration = document["calibration"]
    assert set(calibration) == {"intercept", "slope", "oe_ratio", "ici", "e50", "e90", "curve"}
    for key in ("intercept", "slope", "oe_ratio", "ici", "e50", "e90"):
        assert set(calibration[key]) == ESTIMATE_KEYS
    assert len(calibration["curve"]) == 20
    assert set(calibration["curve"][0]) == {"p", "observed", "ci_low", "ci_high"}
    assert [t["threshold"] for t in document["thresholds"]] == [0.1, 0.2, 0.3]
    for entry in document["thresholds"]:
        assert set(entry) == {"threshold", "sensitivity", "specificity", "ppv", "npv", "flag_rate"}
        assert set(entry["sensitivity"]) == ESTIMATE_KEYS
    assert len(document["decision_curve"]) == 50
    assert set(document["decision_curve"][0]) == {
        "threshold",
        "net_benefit",
        "net_benefit_treat_all",
    }
    assert 2 <= len(document["roc_curve"]) <= 200
    assert set(document["roc_curve"][0]) == {"fpr", "tpr"}
    assert document["baseline_comparison"] is None
    assert document["acceptance"] == []
    assert set(document["subgroups"]) == {"sex", "site"}
    row = document["subgroups"]["sex"][0]
    assert set(row) == {
        "group",
        "n",
        "events",
        "suppressed",
        "auroc",
        "calibration_intercept",
        "oe_ratio",
        "sensitivity",
        "specificity",
    }


def _plain_types(value) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain_types(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain_types(v) for v in value)
    return value is None or type(value) in (bool, int, float, str)


def test_every_value_is_a_plain_python_type(result) -> None:
    assert _plain_types(result.to_dict())


def test_estimates_equal_the_metric_functions() -> None:
    y, p, _, _ = cohort(seed=2)
    document = evaluate_predictions(y, p, n_boot=10).to_dict()
    assert document["n"] == y.shape[0]
    assert document["events"] == y.sum()
    assert document["prevalence"] == pytest.approx(y.mean())
    assert document["auroc"]["estimate"] == auroc_score(y, p)
    assert document["auprc"]["estimate"] == average_precision_score(y, p)
    assert document["brier"]["estimate"] == brier_score(y, p)
    assert document["scaled_brier"]["estimate"] == scaled_brier_score(y, p)
    calibration = document["calibration"]
    assert calibration["intercept"]["estimate"] == calibration_intercept(y, p)
    assert calibration["slope"]["estimate"] == calibration_slope(y, p)
    assert calibration["oe_ratio"]["estimate"] == oe_ratio(y, p)
    assert calibration["ici"]["estimate"] == calibration_errors(y, p).ici
    entry = document["thresholds"][1]
    expected = threshold_metrics(y, p, threshold=0.2)
    assert entry["ppv"]["estimate"] == pytest.approx(expected.ppv)
    assert entry["flag_rate"]["estimate"] == pytest.approx(expected.flag_rate)
    point = document["decision_curve"][9]
    assert point["threshold"] == pytest.approx(0.1)
    assert point["net_benefit"] == pytest.approx(net_benefit(y, p, threshold=0.1))


def test_intervals_bracket_estimates_and_match_bootstrap() -> None:
    y, p, _, _ = cohort(seed=3)
    result = evaluate_predictions(y, p, n_boot=60, random_state=5)
    for estimate in (result.auroc, result.brier, result.calibration.slope):
        assert estimate.ci_low <= estimate.estimate <= estimate.ci_high
    # the same resamples as bootstrap() with the same seed
    alone = bootstrap(y, p, metric=auroc_score, n_boot=60, random_state=5)["auroc_score"]
    assert result.auroc == alone
    for point in result.calibration.curve:
        assert point.ci_low <= point.ci_high


def test_same_seed_same_document(result) -> None:
    y, p, patients, features = cohort()
    again = evaluate_predictions(
        y, p, patient_ids=patients, sensitive_features=features, n_boot=40, random_state=1
    )
    assert again.to_dict() == result.to_dict()
    other = evaluate_predictions(
        y, p, patient_ids=patients, sensitive_features=features, n_boot=40, random_state=2
    )
    assert other.to_dict()["auroc"]["ci_low"] != result.to_dict()["auroc"]["ci_low"]
    assert result.n_patients == len(np.unique(patients))


def test_suppressed_subgroup_hides_counts(result) -> None:
    site = {row["group"]: row for row in result.to_dict()["subgroups"]["site"]}
    tiny = site["tiny"]
    assert tiny["suppressed"] is True
    assert tiny["n"] is None
    assert tiny["events"] is None
    assert tiny["auroc"] == {"estimate": None, "ci_low": None, "ci_high": None}
    # its 3 rows cannot be recovered by subtraction from n
    assert sum(1 for row in site.values() if row["n"] is None) >= 2


def test_undefined_values_become_none() -> None:
    y, p, _, _ = cohort(seed=4)
    document = evaluate_predictions(y, p, thresholds=[0.99], n_boot=5).to_dict()
    assert document["thresholds"][0]["ppv"]["estimate"] is None  # nobody flagged
    assert document["thresholds"][0]["sensitivity"]["estimate"] == 0.0


def test_no_bootstrap_gives_estimates_without_intervals() -> None:
    y, p, _, _ = cohort(seed=5)
    document = evaluate_predictions(y, p, n_boot=0).to_dict()
    assert document["auroc"]["ci_low"] is None
    assert document["calibration"]["curve"][0]["ci_low"] is None
    assert document["auroc"]["estimate"] == auroc_score(y, p)


def test_progress_reports_each_replicate() -> None:
    y, p, _, _ = cohort(seed=6)
    calls: list[tuple[int, int]] = []
    evaluate_predictions(y, p, n_boot=7, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(k, 7) for k in range(8)]


def test_custom_dca_thresholds_and_acceptance() -> None:
    y, p, _, _ = cohort(seed=7)
    result = evaluate_predictions(y, p, dca_thresholds=[0.05, 0.1], n_boot=20)
    document = result.to_dict()
    assert [d["threshold"] for d in document["decision_curve"]] == [0.05, 0.1]
    verdicts = evaluate_acceptance(
        document,
        [
            {"name": "disc", "metric": "auroc", "statistic": "ci_low", "min": 0.5},
            {"name": "cal", "metric": "calibration.slope", "min": 0.5, "max": 2.0},
        ],
    )
    assert [v.status for v in verdicts] == ["pass", "pass"]


def test_input_errors() -> None:
    with pytest.raises(DataError, match=re.escape(ONE_CLASS_MSG.format(value=0))):
        evaluate_predictions([0, 0, 0], [0.1, 0.2, 0.3])
    message = THRESHOLD_MSG.format(
        name="thresholds", interval="(0, 1) (strictly between 0 and 1)", value=1.5
    )
    with pytest.raises(DataError, match=re.escape(message)):
        evaluate_predictions([0, 1, 0], [0.1, 0.2, 0.3], thresholds=[0.1, 1.5])


def test_small_sample_with_undefined_replicates_still_works() -> None:
    y = np.array([0, 0, 0, 0, 0, 0, 1, 1])
    p = np.array([0.1, 0.2, 0.15, 0.3, 0.25, 0.4, 0.35, 0.6])
    result = evaluate_predictions(y, p, n_boot=30)
    assert result.n_skipped["auroc"] > 0
    assert math.isfinite(result.auroc.ci_low)
    json.dumps(result.to_dict(), allow_nan=False)


def test_auroc_delong_is_reported_beside_the_bootstrap_interval() -> None:
    from clinai.evaluation import delong_ci

    y, p, _, _ = cohort(seed=8)
    document = evaluate_predictions(y, p, n_boot=10, ci_level=0.9).to_dict()
    assert document["auroc_delong"] == delong_ci(y, p, ci_level=0.9).to_dict()
    assert document["auroc_delong"]["estimate"] == document["auroc"]["estimate"]


def slow_target_threshold(y, p, target: float) -> float:
    """The highest of all candidate thresholds whose sensitivity reaches the target."""
    best = -1.0
    for t in np.unique(p):
        sensitivity = np.sum((p >= t) & (y == 1)) / np.sum(y == 1)
        if sensitivity >= target:
            best = max(best, t)
    return float(best)


def test_target_sensitivity_rows() -> None:
    from clinai.evaluation import target_sensitivity_threshold

    y, p, _, _ = cohort(seed=9)
    p = np.round(p, 2)  # ties
    result = evaluate_predictions(y, p, target_sensitivities=[0.8, 0.95, 1.0], n_boot=20)
    rows = result.to_dict()["thresholds"]
    assert [row["threshold"] for row in rows[:3]] == [0.1, 0.2, 0.3]
    assert all("target_sensitivity" not in row for row in rows[:3])
    for row, target in zip(rows[3:], (0.8, 0.95, 1.0), strict=True):
        assert row["target_sensitivity"] == target
        assert row["threshold"] == slow_target_threshold(y, p, target)
        assert row["threshold"] == target_sensitivity_threshold(y, p, target=target)
        assert row["sensitivity"]["estimate"] >= target
        assert row["sensitivity"]["ci_low"] <= row["sensitivity"]["ci_high"]


def test_invalid_target_sensitivity() -> None:
    from clinai.evaluation.thresholds._targets import TARGET_SENSITIVITY_MSG

    y, p, _, _ = cohort(seed=10)
    for bad in (0.0, 1.5, "high"):
        with pytest.raises(DataError, match=re.escape(TARGET_SENSITIVITY_MSG.format(value=bad))):
            evaluate_predictions(y, p, target_sensitivities=[bad], n_boot=0)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(10, 80), target=st.floats(0.05, 1.0))
def test_target_threshold_is_the_highest_reaching_the_target(seed, n, target) -> None:
    from clinai.evaluation import target_sensitivity_threshold

    rng = np.random.default_rng(seed)
    p = np.round(rng.uniform(size=n), 1)
    y = rng.binomial(1, 0.4, size=n)
    y[:2] = [0, 1]
    assert target_sensitivity_threshold(y, p, target=target) == slow_target_threshold(y, p, target)
