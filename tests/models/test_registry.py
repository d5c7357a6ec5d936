"""The registry and the contract every registered model family must meet."""

from __future__ import annotations

import pickle
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline

from clinai.exceptions import ModelError
from clinai.models import (
    UNKNOWN_MODEL_MSG,
    get_model,
    get_model_names,
    get_search_space,
    tune_model,
)
from clinai.models._preprocess import COLUMNS_EMPTY_MSG, COLUMNS_OVERLAP_MSG, COLUMNS_TYPE_MSG

from .conftest import CATEGORICAL, NUMERIC

MODEL_NAMES = get_model_names()


def test_model_names() -> None:
    assert get_model_names() == ["gru", "lightgbm", "logistic", "mlp"]


def test_unknown_model_message_is_exact() -> None:
    msg = (
        "unknown model 'xgb': choose one of gru, lightgbm, logistic, mlp "
        "(see clinai.models.get_model_names())"
    )
    assert UNKNOWN_MODEL_MSG.format(name="xgb", names="gru, lightgbm, logistic, mlp") == msg
    with pytest.raises(ModelError, match=re.escape(msg)):
        get_model("xgb", numeric=NUMERIC, categorical=CATEGORICAL)
    with pytest.raises(ModelError, match=re.escape(msg)):
        get_search_space("xgb")


def test_unknown_parameter_is_a_model_error() -> None:
    with pytest.raises(ModelError, match=re.escape("invalid parameters for model 'logistic'")):
        get_model("logistic", numeric=NUMERIC, categorical=CATEGORICAL, not_a_param=1)


def test_column_lists_are_checked() -> None:
    with pytest.raises(
        ModelError, match=re.escape(COLUMNS_TYPE_MSG.format(which="numeric", value="age"))
    ):
        get_model("logistic", numeric="age", categorical=[])
    with pytest.raises(ModelError, match=re.escape(COLUMNS_OVERLAP_MSG.format(columns="age"))):
        get_model("logistic", numeric=["age"], categorical=["age", "sex"])


def test_empty_columns_build_but_do_not_tune(train_data) -> None:
    # building with no columns is allowed (a cheap way to check a name); tuning is not
    for name in MODEL_NAMES:
        assert isinstance(get_model(name, numeric=[], categorical=[]), Pipeline)
    X, y = train_data
    with pytest.raises(ModelError, match=re.escape(COLUMNS_EMPTY_MSG)):
        tune_model(
            "logistic",
            X,
            y,
            numeric=[],
            categorical=[],
            n_trials=1,
            timeout_s=10,
            storage=None,
            study_name="empty",
        )


def test_import_is_cheap() -> None:
    heavy = "('torch', 'lightgbm', 'optuna', 'mlflow', 'shap')"
    code = f"import sys, clinai.models; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- the contract suite: every registered model --------------------------------------------


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_pipeline_structure(name: str) -> None:
    pipe = get_model(name, numeric=NUMERIC, categorical=CATEGORICAL, random_state=3, n_jobs=1)
    assert isinstance(pipe, Pipeline)
    assert [step for step, _ in pipe.steps] == ["preprocess", "model"]
    assert isinstance(pipe.named_steps["preprocess"], ColumnTransformer)
    assert pipe.named_steps["model"].get_params()["random_state"] == 3


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_probabilities_are_valid(name, fitted_models, test_data) -> None:
    X, _ = test_data
    proba = fitted_models[name].predict_proba(X)
    assert proba.shape == (len(X), 2)
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(fitted_models[name].classes_, [0, 1])
    assert set(np.unique(fitted_models[name].predict(X))) <= {0, 1}


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_better_than_chance_on_held_out_data(name, fitted_models, test_data) -> None:
    X, y = test_data
    assert roc_auc_score(y, fitted_models[name].predict_proba(X)[:, 1]) > 0.7


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_same_random_state_same_probabilities(name, fitted_models, train_data, test_data) -> None:
    X, y = train_data
    again = get_model(name, numeric=NUMERIC, categorical=CATEGORICAL, random_state=0).fit(X, y)
    np.testing.assert_array_equal(
        again.predict_proba(test_data[0]), fitted_models[name].predict_proba(test_data[0])
    )


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_clone(name, fitted_models, train_data, test_data) -> None:
    fitted = fitted_models[name]
    copy = clone(fitted)
    assert copy.get_params()["model"].get_params() == fitted.get_params()["model"].get_params()
    assert not hasattr(copy.named_steps["model"], "classes_")
    X, y = train_data
    np.testing.assert_array_equal(
        copy.fit(X, y).predict_proba(test_data[0]), fitted.predict_proba(test_data[0])
    )


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_pickle_round_trip(name, fitted_models, test_data) -> None:
    X, _ = test_data
    fitted = fitted_models[name]
    loaded = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
    cloudpickle = pytest.importorskip("cloudpickle")
    loaded = cloudpickle.loads(cloudpickle.dumps(fitted))
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_unseen_categories_and_missing_values(name, fitted_models) -> None:
    X = pd.DataFrame(
        {
            "age": [np.nan, 70.0],
            "lab_value": [np.nan, 0.5],
            "sex": [None, "unknown"],
            "admission_type": ["transfer", None],
        }
    )
    proba = fitted_models[name].predict_proba(X)
    assert proba.shape == (2, 2)
    assert np.all(np.isfinite(proba))


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_feature_names_out(name, fitted_models, test_data) -> None:
    preprocess = fitted_models[name].named_steps["preprocess"]
    names = list(preprocess.get_feature_names_out())
    X_t = preprocess.transform(test_data[0])
    if name == "gru":  # the GRU finds its <parameter>__h<k> sequences by column name
        assert list(X_t.columns) == names
        X_t = X_t.to_numpy()
    assert isinstance(X_t, np.ndarray)
    assert X_t.dtype == np.float64
    assert X_t.shape[1] == len(names)
    assert "missingindicator_lab_value" in names
    assert "admission_type_emergency" in names
    # the training data had no missing age, so no indicator for it
    assert "missingindicator_age" not in names


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_search_space_gives_valid_parameters(name) -> None:
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    space = get_search_space(name)
    for _ in range(3):
        params = space(study.ask())
        pipe = get_model(name, numeric=NUMERIC, categorical=CATEGORICAL, **params)
        assert set(params) <= set(pipe.named_steps["model"].get_params())
