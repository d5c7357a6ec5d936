"""Comparison with a baseline score: paired bootstrap differences and the DeLong test."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from clinai.evaluation import (
    bootstrap_indices,
    brier_score,
    compare_with_baseline,
    delong_test,
    evaluate_predictions,
    net_benefit,
)
from clinai.evaluation._inputs import SCORE_NON_FINITE_MSG, SCORE_NOT_NUMERIC_MSG
from clinai.evaluation.comparison._comparison import (
    BASELINE_NAME_MSG,
    NOT_PROBABILITY_NOTE,
    PATIENT_ROWS_NOTE,
    REVERSED_NOTE,
)
from clinai.evaluation.validate._steps import BASELINE_NAME_WITHOUT_SCORE_MSG
from clinai.exceptions import DataError

KEYS = {
    "name",
    "baseline_auroc",
    "auroc_diff",
    "brier_diff",
    "net_benefit_diff",
    "p_value",
    "delong_z",
    "notes",
}


def cohort(n: int = 250, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Outcome, model probability, a probability baseline and an integer (NEWS2-like) score."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = rng.binomial(1, 1 / (1 + np.exp(-(x - 1.0))))
    y[:2] = [0, 1]
    p = 1 / (1 + np.exp(-(x - 1.0 + rng.normal(0, 0.3, size=n))))
    old = 1 / (1 + np.exp(-(0.6 * x - 1.0 + rng.normal(0, 0.8, size=n))))
    points = np.clip(np.round(5 + 2 * x + rng.normal(0, 1.5, size=n)), 0, 20)
    return y, p, old, points


def test_probability_baseline_estimates_equal_the_definitions() -> None:
    y, p, old, _ = cohort()
    result = compare_with_baseline(
        y, p, old, baseline_name="old model", thresholds=[0.1, 0.3], n_boot=60, random_state=2
    )
    document = result.to_dict()
    assert set(document) == KEYS
    assert json.loads(json.dumps(document, allow_nan=False)) == document
    assert document["name"] == "old model"
    assert document["baseline_auroc"]["estimate"] == pytest.approx(roc_auc_score(y, old))
    diff = roc_auc_score(y, p) - roc_auc_score(y, old)
    assert document["auroc_diff"]["estimate"] == pytest.approx(diff, abs=1e-12)
    test = delong_test(y, p, old)
    assert (document["p_value"], document["delong_z"]) == (test.p_value, test.z)
    assert document["brier_diff"]["estimate"] == pytest.approx(
        brier_score(y, p) - brier_score(y, old), abs=1e-12
    )
    for row in document["net_benefit_diff"]:
        t = row["threshold"]
        expected = net_benefit(y, p, threshold=t) - net_benefit(y, old, threshold=t)
        assert row["estimate"] == pytest.approx(expected, abs=1e-12)
        assert set(row) == {"threshold", "estimate", "ci_low", "ci_high"}
        assert row["ci_low"] <= row["ci_high"]
    assert document["notes"] == []


def test_intervals_are_paired_percentiles_over_the_same_resamples() -> None:
    y, p, old, _ = cohort(150, 1)
    result = compare_with_baseline(y, p, old, n_boot=40, ci_level=0.9, random_state=5)
    auroc_diffs, brier_diffs, nb_diffs = [], [], []
    for index in bootstrap_indices(150, n_boot=40, random_state=5):
        yb, pb, ob = y[index], p[index], old[index]
        auroc_diffs.append(roc_auc_score(yb, pb) - roc_auc_score(yb, ob))
        brier_diffs.append(np.mean((pb - yb) ** 2) - np.mean((ob - yb) ** 2))
        nb_diffs.append(net_benefit(yb, pb, threshold=0.2) - net_benefit(yb, ob, threshold=0.2))
    for estimate, replicates in (
        (result.auroc_diff, auroc_diffs),
        (result.brier_diff, brier_diffs),
        (result.net_benefit_diff[1].difference, nb_diffs),  # type: ignore[index]
    ):
        low, high = np.percentile(replicates, [5, 95])
        assert estimate.ci_low == pytest.approx(low, abs=1e-10)
        assert estimate.ci_high == pytest.approx(high, abs=1e-10)


def test_score_baseline_reports_auroc_only_with_a_note() -> None:
    y, p, _, points = cohort(200, 2)
    result = compare_with_baseline(y, p, points, baseline_name="NEWS2", n_boot=30)
    document = result.to_dict()
    assert document["brier_diff"] is None
    assert document["net_benefit_diff"] is None
    assert document["baseline_auroc"]["estimate"] == pytest.approx(roc_auc_score(y, points))
    assert document["notes"] == [
        NOT_PROBABILITY_NOTE.format(name="NEWS2", low=points.min(), high=points.max())
    ]


def test_notes_for_a_reversed_baseline_and_patients_with_several_rows() -> None:
    y, p, _, points = cohort(200, 3)
    patients = np.repeat(np.arange(100), 2)
    result = compare_with_baseline(
        y, p, -points, baseline_name="reversed", patient_ids=patients, n_boot=20
    )
    auroc = result.baseline_auroc.estimate
    assert auroc < 0.5
    assert REVERSED_NOTE.format(name="reversed", auroc=auroc) in result.notes
    assert PATIENT_ROWS_NOTE in result.notes


def test_evaluate_predictions_reports_the_same_comparison() -> None:
    y, p, old, _ = cohort(220, 4)
    result = evaluate_predictions(
        y, p, y_baseline=old, baseline_name="old", n_boot=40, random_state=9
    )
    alone = compare_with_baseline(
        y, p, old, baseline_name="old", n_boot=40, random_state=9, thresholds=(0.1, 0.2, 0.3)
    )
    assert result.to_dict()["baseline_comparison"] == alone.to_dict()
    unnamed = evaluate_predictions(y, p, y_baseline=old, n_boot=0).to_dict()
    assert unnamed["baseline_comparison"]["name"] == "baseline"
    assert unnamed["baseline_comparison"]["auroc_diff"]["ci_low"] is None


def test_bad_baselines_are_refused_with_their_name() -> None:
    y, p, old, _ = cohort(50, 5)
    missing = old.copy()
    missing[[3, 7]] = np.nan
    message = SCORE_NON_FINITE_MSG.format(name="baseline 'NEWS2'", count=2)
    with pytest.raises(DataError, match=re.escape(message)):
        compare_with_baseline(y, p, missing, baseline_name="NEWS2")
    with pytest.raises(DataError, match=re.escape(message)):
        evaluate_predictions(y, p, y_baseline=missing, baseline_name="NEWS2")
    text = np.array(["I", "II"] * 25, dtype=object)
    with pytest.raises(
        DataError,
        match=re.escape(SCORE_NOT_NUMERIC_MSG.split(" (")[0].format(name="baseline 'ASA'")),
    ):
        compare_with_baseline(y, p, text, baseline_name="ASA")
    with pytest.raises(DataError, match=re.escape(BASELINE_NAME_MSG.format(value=""))):
        compare_with_baseline(y, p, old, baseline_name="")
    message = BASELINE_NAME_WITHOUT_SCORE_MSG.format(name="NEWS2")
    with pytest.raises(DataError, match=re.escape(message)):
        evaluate_predictions(y, p, baseline_name="NEWS2")


def test_same_seed_same_numbers() -> None:
    y, p, old, _ = cohort(120, 6)
    first = compare_with_baseline(y, p, old, n_boot=30, random_state=3).to_dict()
    again = compare_with_baseline(y, p, old, n_boot=30, random_state=3).to_dict()
    other = compare_with_baseline(y, p, old, n_boot=30, random_state=4).to_dict()
    assert first == again
    assert first["auroc_diff"]["ci_low"] != other["auroc_diff"]["ci_low"]


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(20, 120), transform=st.booleans())
def test_a_score_against_itself_differs_by_nothing(seed: int, n: int, transform: bool) -> None:
    rng = np.random.default_rng(seed)
    p = rng.uniform(size=n)
    y = rng.binomial(1, p)
    y[:2] = [0, 1]
    same = np.sqrt(p) if transform else p  # a monotone transform ranks patients identically
    result = compare_with_baseline(y, p, same, n_boot=15, random_state=seed)
    assert result.auroc_diff.estimate == 0.0
    assert result.auroc_diff.ci_low == 0.0 and result.auroc_diff.ci_high == 0.0
    assert (result.p_value, result.delong_z) == (1.0, 0.0)
    if not transform:
        assert result.brier_diff is not None and result.brier_diff.estimate == 0.0
    assert math.isfinite(result.baseline_auroc.estimate)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(30, 120), clustered=st.booleans())
def test_same_seed_gives_identical_output(seed: int, n: int, clustered: bool) -> None:
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.05, 0.9, size=n)
    y = rng.binomial(1, p)
    y[:2] = [0, 1]
    old = np.clip(p + rng.normal(0, 0.2, size=n), 0, 1)
    patients = rng.integers(0, max(n // 2, 2), size=n) if clustered else None
    kwargs = {"patient_ids": patients, "n_boot": 12, "random_state": seed}
    first = evaluate_predictions(y, p, y_baseline=old, target_sensitivities=(0.9,), **kwargs)
    again = evaluate_predictions(y, p, y_baseline=old, target_sensitivities=(0.9,), **kwargs)
    assert first.to_dict() == again.to_dict()
    assert (
        compare_with_baseline(y, p, old, **kwargs).to_dict()
        == compare_with_baseline(y, p, old, **kwargs).to_dict()
    )
