"""Bootstrap: reproducibility, percentile intervals, patient (cluster) resampling."""

from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinai.evaluation import (
    auroc_score,
    average_precision_score,
    bootstrap,
    bootstrap_indices,
    brier_score,
    calibration_intercept,
    calibration_slope,
    oe_ratio,
    scaled_brier_score,
)
from clinai.evaluation._inputs import (
    CI_LEVEL_MSG,
    N_BOOT_MSG,
    PATIENT_IDS_LENGTH_MSG,
    PATIENT_IDS_MISSING_MSG,
)
from clinai.evaluation.resampling._bootstrap import NOT_SCALAR_MSG
from clinai.exceptions import DataError


def sample(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.beta(2, 5, size=n)
    y = rng.binomial(1, p)
    y[:2] = [0, 1]
    return y, p


def test_same_seed_gives_identical_numbers_and_other_seed_differs() -> None:
    y, p = sample()
    first = bootstrap(y, p, metric=auroc_score, n_boot=50, random_state=7)
    again = bootstrap(y, p, metric=auroc_score, n_boot=50, random_state=7)
    other = bootstrap(y, p, metric=auroc_score, n_boot=50, random_state=8)
    assert first["auroc_score"] == again["auroc_score"]
    np.testing.assert_array_equal(first.replicates["auroc_score"], again.replicates["auroc_score"])
    assert first["auroc_score"].ci_low != other["auroc_score"].ci_low
    assert first["auroc_score"].estimate == other["auroc_score"].estimate == auroc_score(y, p)


def test_interval_is_the_percentile_of_the_replicates_and_brackets_the_estimate() -> None:
    y, p = sample(300, 1)
    result = bootstrap(y, p, metric={"auc": auroc_score}, n_boot=100, ci_level=0.9)
    reps = result.replicates["auc"]
    low, high = np.percentile(reps, [5, 95])
    estimate = result["auc"]
    assert (estimate.ci_low, estimate.ci_high) == (pytest.approx(low), pytest.approx(high))
    assert estimate.ci_low < estimate.estimate < estimate.ci_high
    assert result.n_boot == 100
    assert result.ci_level == 0.9
    assert result.to_dict()["n_skipped"] == {"auc": 0}


@pytest.mark.parametrize(
    "metric",
    [
        auroc_score,
        average_precision_score,
        brier_score,
        scaled_brier_score,
        calibration_intercept,
        calibration_slope,
        oe_ratio,
    ],
)
def test_vectorised_metrics_equal_the_per_resample_loop(metric) -> None:
    y, p = sample(80, 2)
    y[:6] = 1  # a few more events so that resamples rarely lose a class
    fast = bootstrap(y, p, metric={"m": metric}, n_boot=25, random_state=3)
    slow = bootstrap(y, p, metric={"m": lambda a, b: metric(a, b)}, n_boot=25, random_state=3)
    np.testing.assert_allclose(fast.replicates["m"], slow.replicates["m"], atol=1e-8)
    assert fast.n_skipped == slow.n_skipped


def test_bootstrap_indices_match_the_resamples_used() -> None:
    y, p = sample(40, 4)
    result = bootstrap(
        y, p, metric={"m": lambda a, b: auroc_score(a, b)}, n_boot=5, random_state=11
    )
    for index, value in zip(
        bootstrap_indices(40, n_boot=5, random_state=11), result.replicates["m"], strict=True
    ):
        assert index.shape == (40,)
        assert value == pytest.approx(auroc_score(y[index], p[index]))


def test_cluster_bootstrap_draws_whole_patients() -> None:
    rng = np.random.default_rng(5)
    patients = np.repeat(np.arange(30), rng.integers(1, 5, size=30))
    rng.shuffle(patients)
    rows_of = {pid: set(np.flatnonzero(patients == pid)) for pid in range(30)}
    for index in bootstrap_indices(patients.shape[0], patient_ids=patients, n_boot=20):
        drawn = Counter(index.tolist())
        draws_per_patient = Counter()
        for pid, rows in rows_of.items():
            multiplicities = {drawn.get(row, 0) for row in rows}
            # every row of a patient appears equally often: the patient was drawn k times
            assert len(multiplicities) == 1
            draws_per_patient[pid] = multiplicities.pop()
        assert sum(draws_per_patient.values()) == 30  # as many draws as patients


def test_cluster_interval_is_wider_than_row_interval_on_duplicated_rows() -> None:
    y, p = sample(150, 6)
    patients = np.repeat(np.arange(150), 4)
    y4, p4 = np.repeat(y, 4), np.repeat(p, 4)
    rows = bootstrap(y4, p4, metric=auroc_score, n_boot=200, random_state=0)["auroc_score"]
    clustered = bootstrap(
        y4, p4, metric=auroc_score, patient_ids=patients, n_boot=200, random_state=0
    )["auroc_score"]
    original = bootstrap(y, p, metric=auroc_score, n_boot=200, random_state=0)["auroc_score"]
    width_rows = rows.ci_high - rows.ci_low
    width_clustered = clustered.ci_high - clustered.ci_low
    width_original = original.ci_high - original.ci_low
    assert width_clustered > 1.5 * width_rows  # about twice as wide (sqrt of 4)
    assert width_clustered == pytest.approx(width_original, rel=0.25)


def test_undefined_replicates_are_skipped_and_counted() -> None:
    y = np.array([0, 0, 0, 0, 0, 0, 0, 1])
    p = np.linspace(0.1, 0.8, 8)
    result = bootstrap(y, p, metric=auroc_score, n_boot=100, random_state=0)
    reps = result.replicates["auroc_score"]
    skipped = result.n_skipped["auroc_score"]
    assert skipped == int(np.isnan(reps).sum())
    assert 10 < skipped < 90  # about (7/8)^8 = 34% of resamples hold no event
    assert math.isfinite(result["auroc_score"].ci_low)


def test_custom_metric_raising_data_error_is_skipped() -> None:
    y, p = sample(30, 7)

    def picky(a: np.ndarray, b: np.ndarray) -> float:
        if a[:3].sum() == 0:
            raise DataError("undefined here")
        return float(b.mean())

    y[:3] = 1
    result = bootstrap(y, p, metric=picky, n_boot=30, random_state=1)
    assert result.n_skipped["picky"] == int(np.isnan(result.replicates["picky"]).sum())


def test_progress_is_reported() -> None:
    y, p = sample(50, 8)
    calls: list[tuple[int, int]] = []
    bootstrap(y, p, metric=auroc_score, n_boot=12, progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (0, 12)
    assert calls[-1] == (12, 12)
    calls.clear()
    bootstrap(
        y, p, metric={"m": lambda a, b: 0.5}, n_boot=4, progress=lambda d, t: calls.append((d, t))
    )
    assert calls == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]


def test_no_replicates_gives_no_interval() -> None:
    y, p = sample(50, 9)
    estimate = bootstrap(y, p, metric=auroc_score, n_boot=0)["auroc_score"]
    assert estimate.to_dict() == {"estimate": auroc_score(y, p), "ci_low": None, "ci_high": None}


def test_parameter_errors() -> None:
    y, p = sample(20, 10)
    with pytest.raises(DataError, match=re.escape(N_BOOT_MSG.format(value=-1))):
        bootstrap(y, p, metric=auroc_score, n_boot=-1)
    with pytest.raises(DataError, match=re.escape(CI_LEVEL_MSG.format(value=1.5))):
        bootstrap(y, p, metric=auroc_score, ci_level=1.5)
    with pytest.raises(DataError, match=re.escape(PATIENT_IDS_LENGTH_MSG.format(n_ids=3, n=20))):
        bootstrap(y, p, metric=auroc_score, patient_ids=[1, 2, 3])
    ids = np.arange(20).astype(object)
    ids[4] = None
    with pytest.raises(DataError, match=re.escape(PATIENT_IDS_MISSING_MSG.format(count=1))):
        bootstrap(y, p, metric=auroc_score, patient_ids=ids)
    with pytest.raises(DataError, match=re.escape(NOT_SCALAR_MSG.format(name="m", shape=(2,)))):
        bootstrap(y, p, metric={"m": lambda a, b: np.array([1.0, 2.0])})


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(40, 150),
    strength=st.floats(0.5, 3.0),
)
def test_interval_contains_the_estimate(seed: int, n: int, strength: float) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = rng.binomial(1, 1 / (1 + np.exp(-strength * x)))
    y[:3], y[3:6] = 0, 1
    p = 1 / (1 + np.exp(-x))
    result = bootstrap(y, p, metric=auroc_score, n_boot=200, random_state=seed)["auroc_score"]
    assert result.ci_low <= result.estimate <= result.ci_high
