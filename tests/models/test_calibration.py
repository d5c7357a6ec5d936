"""calibrate_model: calibration helps an over-confident model; options and errors."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.metrics import brier_score_loss
from sklearn.pipeline import Pipeline

from clinai.exceptions import ModelError
from clinai.models import calibrate_model, get_model
from clinai.models._calibration import METHOD_MSG

from .conftest import CATEGORICAL, NUMERIC, make_data

#: Deliberately over-fitted boosting: deep trees, tiny leaves, no penalty, fast learning.
OVERFIT = {
    "num_leaves": 64,
    "min_child_samples": 3,
    "n_estimators": 200,
    "learning_rate": 0.3,
    "subsample": 1.0,
    "colsample_bytree": 1.0,
    "reg_lambda": 0.0,
}


@pytest.fixture(scope="module")
def data():
    return make_data(400, seed=3), make_data(1000, seed=4)


@pytest.fixture(scope="module")
def overfit_pipeline() -> Pipeline:
    return get_model("lightgbm", numeric=NUMERIC, categorical=CATEGORICAL, **OVERFIT)


@pytest.fixture(scope="module")
def uncalibrated(overfit_pipeline, data) -> Pipeline:
    (X, y), _ = data
    return calibrate_model(overfit_pipeline, X, y, method="none")


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibration_improves_brier_on_held_out_data(
    method, overfit_pipeline, uncalibrated, data
) -> None:
    (X, y), (X_test, y_test) = data
    calibrated = calibrate_model(overfit_pipeline, X, y, method=method, cv=3, random_state=0)
    assert isinstance(calibrated, CalibratedClassifierCV)
    # One map learnt on out-of-fold predictions, applied to the pipeline refitted on all rows.
    assert len(calibrated.calibrated_classifiers_) == 1
    brier_raw = brier_score_loss(y_test, uncalibrated.predict_proba(X_test)[:, 1])
    brier_cal = brier_score_loss(y_test, calibrated.predict_proba(X_test)[:, 1])
    assert brier_cal < brier_raw - 0.05


def test_none_fits_the_pipeline_and_leaves_the_input_unfitted(
    overfit_pipeline, uncalibrated
) -> None:
    assert isinstance(uncalibrated, Pipeline)
    assert uncalibrated is not overfit_pipeline
    assert hasattr(uncalibrated.named_steps["model"], "classes_")
    assert not hasattr(overfit_pipeline.named_steps["model"], "classes_")


def test_calibration_is_deterministic(data) -> None:
    (X, y), (X_test, _) = data
    pipe = get_model("logistic", numeric=NUMERIC, categorical=CATEGORICAL)
    a = calibrate_model(pipe, X, y, method="sigmoid", cv=3, random_state=7).predict_proba(X_test)
    b = calibrate_model(pipe, X, y, method="sigmoid", cv=3, random_state=7).predict_proba(X_test)
    np.testing.assert_array_equal(a, b)


def test_invalid_method(overfit_pipeline, data) -> None:
    (X, y), _ = data
    msg = METHOD_MSG.format(choices="isotonic, sigmoid, none", value="beta")
    with pytest.raises(ModelError, match=re.escape(msg)):
        calibrate_model(overfit_pipeline, X, y, method="beta")  # type: ignore[arg-type]


def test_invalid_cv_and_too_few_events(overfit_pipeline, data) -> None:
    (X, y), _ = data
    with pytest.raises(
        ModelError, match=re.escape("calibration.cv must be an integer >= 2; got 1")
    ):
        calibrate_model(overfit_pipeline, X, y, cv=1)
    y_few = np.zeros(len(X), dtype=int)
    y_few[:2] = 1
    with pytest.raises(ModelError, match=re.escape("at least calibration.cv=5 rows each")):
        calibrate_model(overfit_pipeline, X, y_few, method="sigmoid", cv=5)


def test_calibration_keeps_the_full_data_models_ranking(overfit_pipeline, data) -> None:
    from sklearn.base import clone
    from sklearn.metrics import roc_auc_score

    (X, y), (X_test, y_test) = data
    calibrated = calibrate_model(overfit_pipeline, X, y, method="sigmoid", cv=3, random_state=0)
    full = clone(overfit_pipeline).fit(X, y)
    assert roc_auc_score(y_test, calibrated.predict_proba(X_test)[:, 1]) == pytest.approx(
        roc_auc_score(y_test, full.predict_proba(X_test)[:, 1])
    )


def test_ensemble_averages_the_fold_models_each_with_its_own_map(data) -> None:
    (X, y), (X_test, _) = data
    pipe = get_model("logistic", numeric=NUMERIC, categorical=CATEGORICAL)
    ensemble = calibrate_model(pipe, X, y, method="sigmoid", cv=4, ensemble=True)
    assert isinstance(ensemble, CalibratedClassifierCV)
    assert len(ensemble.calibrated_classifiers_) == 4  # one per fold, not one refit
    members = [m.predict_proba(X_test)[:, 1] for m in ensemble.calibrated_classifiers_]
    np.testing.assert_allclose(ensemble.predict_proba(X_test)[:, 1], np.mean(members, axis=0))
    # each fold model is fitted on its training folds only, so the members differ
    first, second = (
        m.estimator.named_steps["model"].coef_ for m in ensemble.calibrated_classifiers_[:2]
    )
    assert not np.allclose(first, second)
    single = calibrate_model(pipe, X, y, method="sigmoid", cv=4)
    assert len(single.calibrated_classifiers_) == 1
