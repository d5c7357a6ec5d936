"""Out-of-fold risks for the mitigation: a calibrated model's copies refit on each fold."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clinai import models
from clinai.runs._fairness import _out_of_fold


def _data(n: int = 240) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"age": rng.normal(60, 10, n), "lactate": rng.gamma(2.0, 1.0, n)})
    risk = 1 / (1 + np.exp(-(0.05 * (X["age"] - 60) + 0.4 * (X["lactate"] - 2))))
    y = (rng.uniform(size=n) < risk).astype(int)
    patients = np.repeat(np.arange(n // 2), 2)  # two rows per patient
    return X, y, patients


def test_a_model_calibrated_on_grouped_folds_gets_out_of_fold_risks() -> None:
    X, y, patients = _data()
    estimator = models.get_model("logistic", numeric=["age", "lactate"], categorical=[])
    # calibration folds as index pairs of the whole training split (what a run fits)
    model = models.calibrate_model(
        estimator, X, y, method="sigmoid", cv=3, random_state=0, groups=patients
    )
    risks = _out_of_fold(model, X, y, patients=patients, cv=3, seed=0)
    assert risks.shape == (len(y),)
    assert np.all((risks > 0) & (risks < 1))
    # each risk comes from a copy that never saw that patient's rows: refitting fold by fold
    # with the same folds gives the same risks
    again = _out_of_fold(model, X, y, patients=patients, cv=3, seed=0)
    np.testing.assert_array_equal(risks, again)


def test_folds_keep_each_patients_rows_together() -> None:
    _, y, patients = _data()
    for train, test in models.cv_splits(y, 3, random_state=0, groups=patients):
        assert not set(patients[train]) & set(patients[test])
