"""Subgroup metrics and small-cell suppression."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from clinai.evaluation import (
    auroc_score,
    calibration_intercept,
    oe_ratio,
    subgroup_metrics,
    threshold_metrics,
)
from clinai.evaluation._inputs import MIN_CELL_MSG
from clinai.evaluation.fairness._subgroups import SENSITIVE_LENGTH_MSG, SENSITIVE_TYPE_MSG
from clinai.exceptions import DataError


def cohort(seed: int = 0) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = 400
    p = rng.beta(2, 4, size=n)
    y = rng.binomial(1, p)
    sex = rng.choice(["F", "M"], size=n)
    age = np.where(rng.uniform(size=n) < 0.5, "18-64", "65+").astype(object)
    age[:3] = "100+"  # a tiny group: must be suppressed
    age[3:5] = None  # missing values form their own group
    y[:3] = [0, 1, 0]
    return y, p, pd.DataFrame({"sex": sex, "age": age}, index=np.arange(1000, 1000 + n))


def test_group_metrics_equal_the_metrics_on_each_subset() -> None:
    y, p, features = cohort()
    results = subgroup_metrics(y, p, features, threshold=0.3, min_cell=5)
    assert list(results) == ["sex", "age"]
    sex = results["sex"]
    assert [row.group for row in sex.rows] == ["F", "M"]
    for row in sex.rows:
        mask = features["sex"].to_numpy() == row.group
        assert row.n == mask.sum()
        assert row.events == y[mask].sum()
        assert not row.suppressed
        assert row.auroc.estimate == pytest.approx(auroc_score(y[mask], p[mask]))
        assert row.calibration_intercept.estimate == pytest.approx(
            calibration_intercept(y[mask], p[mask])
        )
        assert row.oe_ratio.estimate == pytest.approx(oe_ratio(y[mask], p[mask]))
        expected = threshold_metrics(y[mask], p[mask], threshold=0.3)
        assert row.sensitivity.estimate == pytest.approx(expected.sensitivity)
        assert row.specificity.estimate == pytest.approx(expected.specificity)
        assert math.isnan(row.auroc.ci_low)  # n_boot=0: estimates only
    aurocs = [row.auroc.estimate for row in sex.rows]
    assert sex.max_auroc_difference == pytest.approx(max(aurocs) - min(aurocs))


def test_small_groups_are_suppressed_and_their_counts_never_revealed() -> None:
    y, p, features = cohort()
    age = subgroup_metrics(y, p, features, threshold=0.3, min_cell=5)["age"]
    rows = {row.group: row for row in age.rows}
    assert set(rows) == {"100+", "18-64", "65+", "missing"}
    for group in ("100+", "missing"):
        entry = rows[group].to_dict()
        assert entry["suppressed"] is True
        assert entry["n"] is None
        assert entry["events"] is None
        for metric in ("auroc", "calibration_intercept", "oe_ratio", "sensitivity", "specificity"):
            assert entry[metric] == {"estimate": None, "ci_low": None, "ci_high": None}
    # the 5 suppressed rows would follow from n - n(18-64) - n(65+): hide one more count
    visible = [row for row in age.rows if not row.suppressed]
    hidden_counts = [row for row in visible if row.n is None]
    assert len(hidden_counts) == 1
    assert hidden_counts[0].auroc.estimate is not None  # its metrics are still reported
    assert all(row.n is None or row.n >= 5 for row in age.rows)
    json.dumps(age.to_dict(), allow_nan=False)
    # the gap ignores suppressed groups
    reported = [row.auroc.estimate for row in visible]
    assert age.max_auroc_difference == pytest.approx(max(reported) - min(reported))


def test_group_with_few_events_or_patients_is_suppressed() -> None:
    rng = np.random.default_rng(1)
    n = 200
    p = rng.uniform(0.05, 0.6, size=n)
    y = rng.binomial(1, p)
    group = np.array(["a"] * 180 + ["b"] * 20, dtype=object)
    y[180:] = 0
    y[180:183] = 1  # group b: 20 rows but 3 events
    results = subgroup_metrics(y, p, pd.DataFrame({"g": group}), threshold=0.2, min_cell=5)
    b = next(row for row in results["g"].rows if row.group == "b")
    assert b.suppressed
    assert b.n is None
    # few patients: 20 rows of group b belong to 2 patients
    y[180:190] = 1
    patients = np.r_[np.arange(180), np.repeat([1000, 1001], 10)]
    results = subgroup_metrics(
        y, p, pd.DataFrame({"g": group}), threshold=0.2, min_cell=5, patient_ids=patients
    )
    assert next(row for row in results["g"].rows if row.group == "b").suppressed
    results = subgroup_metrics(y, p, pd.DataFrame({"g": group}), threshold=0.2, min_cell=5)
    assert not next(row for row in results["g"].rows if row.group == "b").suppressed


def test_bootstrap_intervals_per_group_are_reproducible() -> None:
    y, p, features = cohort(2)
    first = subgroup_metrics(y, p, features[["sex"]], threshold=0.3, n_boot=40, random_state=3)
    again = subgroup_metrics(y, p, features[["sex"]], threshold=0.3, n_boot=40, random_state=3)
    assert first == again
    for row in first["sex"].rows:
        for estimate in (row.auroc, row.calibration_intercept, row.oe_ratio, row.sensitivity):
            assert estimate.ci_low <= estimate.ci_high
        assert row.auroc.ci_low < row.auroc.estimate < row.auroc.ci_high


def test_input_errors() -> None:
    y, p, features = cohort()
    with pytest.raises(DataError, match=re.escape(SENSITIVE_TYPE_MSG.format(type="dict"))):
        subgroup_metrics(y, p, {"sex": features["sex"]}, threshold=0.3)
    with pytest.raises(DataError, match=re.escape(SENSITIVE_LENGTH_MSG.format(n_rows=10, n=400))):
        subgroup_metrics(y, p, features.iloc[:10], threshold=0.3)
    with pytest.raises(DataError, match=re.escape(MIN_CELL_MSG.format(value=-1))):
        subgroup_metrics(y, p, features, threshold=0.3, min_cell=-1)
