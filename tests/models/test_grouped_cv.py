"""Patient-grouped folds for tuning and calibration (several rows per patient)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clinai.exceptions import ModelError
from clinai.models import calibrate_model, get_model, tune_model
from clinai.models._tuning import cv_splits


@pytest.fixture(scope="module")
def hourly():
    """SYNTHETIC: 60 patients with 8 rows each; the outcome is per patient."""
    rng = np.random.default_rng(0)
    patients = np.repeat(np.arange(60), 8)
    risk = rng.normal(size=60)
    y = (rng.random(60) < 1 / (1 + np.exp(-2 * risk))).astype(int)[patients]
    X = pd.DataFrame(
        {
            "x": risk[patients] + rng.normal(0, 0.5, patients.size),
            "noise": rng.normal(size=patients.size),
        }
    )
    return X, y, patients


def test_every_patient_is_in_one_test_fold(hourly) -> None:
    _, y, patients = hourly
    folds = cv_splits(y, 5, random_state=1, groups=patients)
    assert len(folds) == 5
    seen = np.concatenate([test for _, test in folds])
    assert np.array_equal(np.sort(seen), np.arange(y.size))
    for train, test in folds:
        assert not set(patients[train]) & set(patients[test])
        assert 0 < y[test].mean() < 1


def test_without_groups_the_folds_are_stratified_k_fold(hourly) -> None:
    from sklearn.model_selection import StratifiedKFold

    _, y, _ = hourly
    ours = cv_splits(y, 5, random_state=3)
    theirs = StratifiedKFold(5, shuffle=True, random_state=3).split(np.zeros(y.size), y)
    for (a_train, a_test), (b_train, b_test) in zip(ours, theirs, strict=True):
        assert np.array_equal(a_train, b_train) and np.array_equal(a_test, b_test)


def test_too_few_patients_or_wrong_length(hourly) -> None:
    _, y, patients = hourly
    with pytest.raises(ModelError, match="at least 5 patients"):
        cv_splits(y[:16], 5, random_state=0, groups=patients[:16])
    with pytest.raises(ModelError, match="one patient per row"):
        cv_splits(y, 5, random_state=0, groups=patients[:-1])


def test_tuning_and_calibration_accept_groups(hourly) -> None:
    X, y, patients = hourly
    result = tune_model(
        "logistic",
        X,
        y,
        numeric=["x", "noise"],
        categorical=[],
        n_trials=3,
        timeout_s=60,
        cv_folds=4,
        storage=None,
        study_name="grouped",
        groups=patients,
    )
    assert result.n_trials == 3
    model = calibrate_model(
        get_model("logistic", numeric=["x", "noise"], categorical=[]), X, y, cv=4, groups=patients
    )
    p = model.predict_proba(X)[:, 1]
    assert p.shape == (y.size,) and 0 < p.min() < p.max() < 1


def test_folds_do_not_depend_on_the_identifiers_values(hourly) -> None:
    """Pseudonyms change with the key: the same patients must give the same folds."""
    _, y, patients = hourly
    renamed = np.array([f"pseudonym-{(p * 7919) % 1000:04d}" for p in patients])
    a = cv_splits(y, 5, random_state=2, groups=patients)
    b = cv_splits(y, 5, random_state=2, groups=renamed)
    for (a_train, a_test), (b_train, b_test) in zip(a, b, strict=True):
        assert np.array_equal(a_test, b_test) and np.array_equal(a_train, b_train)
