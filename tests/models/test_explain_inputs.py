"""explain_inputs and synthetic_input_example."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from clinai.exceptions import DataError, ModelError
from clinai.models import (
    ExplainInputs,
    calibrate_model,
    explain_inputs,
    get_model,
    get_model_names,
    synthetic_input_example,
)

from .conftest import CATEGORICAL, NUMERIC

KINDS = {"gru": "kernel", "lightgbm": "tree", "logistic": "linear", "mlp": "kernel"}


@pytest.mark.parametrize("name", get_model_names())
def test_explain_inputs_of_every_model(name, fitted_models, train_data, test_data) -> None:
    X, _ = test_data
    fitted = fitted_models[name]
    inputs = explain_inputs(fitted, X, background=train_data[0], max_background=50)
    assert isinstance(inputs, ExplainInputs)
    assert inputs.kind == KINDS[name]
    assert inputs.link == "logit"
    assert inputs.estimator is fitted.named_steps["model"]
    assert inputs.X_transformed.dtype == np.float64
    assert inputs.X_transformed.shape == (len(X), len(inputs.feature_names))
    assert inputs.background is not None
    assert inputs.background.shape == (50, len(inputs.feature_names))
    # the final estimator on X_transformed reproduces the pipeline
    np.testing.assert_allclose(
        inputs.estimator.predict_proba(inputs.X_transformed), fitted.predict_proba(X)
    )


def test_one_hot_and_indicator_columns_map_back(fitted_models, test_data) -> None:
    inputs = explain_inputs(fitted_models["logistic"], test_data[0])
    assert inputs.background is None
    assert list(inputs.feature_to_variable) == inputs.feature_names
    mapping = inputs.feature_to_variable
    assert mapping["age"] == "age"
    assert mapping["missingindicator_lab_value"] == "lab_value"
    assert mapping["sex_F"] == mapping["sex_M"] == "sex"
    assert {k for k, v in mapping.items() if v == "admission_type"} == {
        "admission_type_elective",
        "admission_type_emergency",
        "admission_type_urgent",
    }
    assert set(mapping.values()) == set(NUMERIC) | set(CATEGORICAL)


def test_mapping_does_not_parse_names() -> None:
    # a category whose name looks like another variable must still map to its own column
    X = pd.DataFrame(
        {
            "blood": [1.0, 2.0, np.nan, 4.0, 5.0, 6.0],
            "blood_type": ["a_b", "type_x", "a_b", "o", "o", "a_b"],
            "type": ["x", "y", "x", "y", "x", "y"],
        }
    )
    y = np.array([0, 1, 0, 1, 0, 1])
    pipe = get_model("logistic", numeric=["blood"], categorical=["blood_type", "type"]).fit(X, y)
    mapping = explain_inputs(pipe, X).feature_to_variable
    assert mapping["blood_type_a_b"] == "blood_type"
    assert mapping["blood_type_type_x"] == "blood_type"
    assert mapping["type_x"] == "type"
    assert mapping["missingindicator_blood"] == "blood"


def test_calibrated_model_explains_its_first_pipeline(train_data, test_data) -> None:
    X, y = train_data
    pipe = get_model("logistic", numeric=NUMERIC, categorical=CATEGORICAL)
    calibrated = calibrate_model(pipe, X, y, method="sigmoid", cv=3)
    inputs = explain_inputs(calibrated, test_data[0])
    first = calibrated.calibrated_classifiers_[0].estimator
    assert inputs.estimator is first.named_steps["model"]
    assert inputs.kind == "linear"


def test_calibrated_ensemble_explains_every_fold_model(train_data, test_data) -> None:
    X, y = train_data
    pipe = get_model("logistic", numeric=NUMERIC, categorical=CATEGORICAL)
    ensemble = calibrate_model(pipe, X, y, method="sigmoid", cv=3, ensemble=True)
    inputs = explain_inputs(ensemble, test_data[0], background=X)
    fold_models = [m.estimator.named_steps["model"] for m in ensemble.calibrated_classifiers_]
    assert [member.estimator for member in inputs.members] == fold_models
    assert inputs.estimator is fold_models[0]
    assert all(not member.members for member in inputs.members)
    single = calibrate_model(pipe, X, y, method="sigmoid", cv=3)
    assert explain_inputs(single, test_data[0]).members == ()


def test_not_a_pipeline_is_refused(test_data) -> None:
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(ModelError, match=re.escape("got LogisticRegression")):
        explain_inputs(LogisticRegression(), test_data[0])


def test_synthetic_input_example() -> None:
    X = pd.DataFrame(
        {
            "age": pd.Series([40, 51, 70, 80], dtype="int64"),
            "lab": [0.5, np.nan, 1.5, 2.0],
            "sex": ["F", "M", "M", None],
            "ward": pd.Categorical(["icu", "icu", "med", "surg"]),
            "smoker": [True, False, False, False],
        }
    )
    row = synthetic_input_example(X)
    assert row.shape == (1, 5)
    assert list(row.columns) == list(X.columns)
    assert (row.dtypes == X.dtypes).all()
    assert row.loc[0, "age"] == 60  # median 60.5, rounded for an integer column
    assert row.loc[0, "lab"] == pytest.approx(1.5)
    assert row.loc[0, "sex"] == "M"
    assert row.loc[0, "ward"] == "icu"
    assert not row.loc[0, "smoker"]
    # it is not a copy of any patient row
    assert not (X.astype(str) == row.astype(str).iloc[0]).all(axis=1).any()


def test_synthetic_input_example_needs_rows() -> None:
    with pytest.raises(DataError, match=re.escape("X has no rows")):
        synthetic_input_example(pd.DataFrame({"age": pd.Series([], dtype=float)}))
