from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from clinai.data import _splits, split_train_test
from clinai.exceptions import DataError


@pytest.fixture
def y() -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.random(1000) < 0.2).astype(int)


def test_stratified_keeps_prevalence(y: np.ndarray) -> None:
    train, test = split_train_test(y, test_size=0.3, random_state=1)
    assert len(test) == 300 and len(train) == 700
    assert abs(y[train].mean() - y.mean()) < 0.005
    assert abs(y[test].mean() - y.mean()) < 0.005


def test_indices_are_a_sorted_partition(y: np.ndarray) -> None:
    train, test = split_train_test(pd.Series(y, index=np.arange(1000) + 500))
    assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(1000))
    assert train.dtype.kind == "i"


def test_same_seed_same_split_different_seed_different_split(y: np.ndarray) -> None:
    a = split_train_test(y, random_state=7)
    b = split_train_test(y, random_state=7)
    c = split_train_test(y, random_state=8)
    assert np.array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def _patients(n_patients: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    rows = rng.integers(1, 6, size=n_patients)  # 1 to 5 rows per patient
    groups = np.repeat([f"p{i:04d}" for i in range(n_patients)], rows)
    risk = np.repeat(rng.random(n_patients) < 0.25, rows)
    y = (risk & (rng.random(len(groups)) < 0.7)).astype(int)
    return y, groups


def test_grouped_keeps_each_patient_on_one_side() -> None:
    y, groups = _patients()
    train, test = split_train_test(y, groups=groups, method="grouped", test_size=0.3)
    assert not set(groups[train]) & set(groups[test])
    assert len(train) + len(test) == len(y)
    n_test_patients = len(set(groups[test]))
    assert n_test_patients == 90  # 30% of 300 patients


def test_grouped_stratifies_on_patients_with_an_event() -> None:
    y, groups = _patients()
    frame = pd.DataFrame({"y": y, "g": groups})
    has_event = frame.groupby("g")["y"].max()
    _, test = split_train_test(y, groups=pd.Series(groups), method="grouped")
    test_patients = has_event.loc[sorted(set(groups[test]))]
    assert abs(test_patients.mean() - has_event.mean()) < 0.02


def test_grouped_is_deterministic() -> None:
    y, groups = _patients()
    a = split_train_test(y, groups=groups, method="grouped", random_state=3)
    b = split_train_test(y, groups=groups, method="grouped", random_state=3)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_grouped_without_groups_names_patient_id(y: np.ndarray) -> None:
    with pytest.raises(DataError, match=f"^{re.escape(_splits.GROUPS_REQUIRED)}$"):
        split_train_test(y, method="grouped")
    assert "data.patient_id" in _splits.GROUPS_REQUIRED


def test_grouped_with_missing_patient_ids() -> None:
    message = _splits.GROUPS_MISSING.format(count=1)
    with pytest.raises(DataError, match=re.escape(message)):
        split_train_test([0, 1, 0, 1], groups=["a", None, "b", "c"], method="grouped")


def test_grouped_length_mismatch() -> None:
    message = _splits.GROUPS_LENGTH.format(got=2, expected=4)
    with pytest.raises(DataError, match=re.escape(message)):
        split_train_test([0, 1, 0, 1], groups=["a", "b"], method="grouped")


def test_unknown_method_and_bad_test_size(y: np.ndarray) -> None:
    with pytest.raises(DataError, match=re.escape(_splits.UNKNOWN_METHOD.format(method="time"))):
        split_train_test(y, method="time")  # type: ignore[arg-type]
    with pytest.raises(DataError, match=re.escape(_splits.BAD_TEST_SIZE.format(value=1.5))):
        split_train_test(y, test_size=1.5)


def test_too_few_events_to_stratify() -> None:
    message = "cannot draw a stratified row split with test_size=0.3"
    with pytest.raises(DataError, match=re.escape(message)):
        split_train_test([0] * 20 + [1])


def test_missing_outcome() -> None:
    with pytest.raises(DataError, match=re.escape(_splits.OUTCOME_MISSING.format(count=1))):
        split_train_test([0, 1, np.nan, 1, 0])
