"""TorchGRUClassifier and the gru pipeline: determinism, temporal learning, API, persistence."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from clinai.exceptions import ModelError
from clinai.models import TorchGRUClassifier, calibrate_model, get_model, get_search_space
from clinai.models._sequence import (
    GRU_NOT_FRAME_MSG,
    GRU_PARAM_MSG,
    SequenceImputer,
    parse_sequence_columns,
)

HOURS = 6
FAST = {"max_epochs": 25, "hidden_size": 8, "lr": 1e-2}


def temporal_data(n: int, *, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Heart rate that rises over the last hours before an event, same level at h0.

    The outcome lives only in the trend: the value at the prediction time (h0) and the
    static features have the same distribution in both classes.
    """
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(int)
    level = rng.normal(90, 8, n)
    slope = np.where(y == 1, 4.0, -1.0) + rng.normal(0, 1.5, n)
    frame = {}
    for k in range(HOURS):
        frame[f"heart_rate__h{k}"] = level - slope * k + rng.normal(0, 2, n)
        frame[f"resp_rate__h{k}"] = rng.normal(18, 3, n)
    X = pd.DataFrame(frame)
    X.loc[rng.random(n) < 0.15, "heart_rate__h3"] = np.nan
    X.loc[rng.random(n) < 0.5, "resp_rate__h1"] = np.nan
    X["age"] = rng.normal(70, 10, n)
    X["ward"] = rng.choice(["medical", "surgical"], n)
    return X, y


@pytest.fixture(scope="module")
def train() -> tuple[pd.DataFrame, np.ndarray]:
    return temporal_data(300, seed=0)


@pytest.fixture(scope="module")
def test() -> tuple[pd.DataFrame, np.ndarray]:
    return temporal_data(300, seed=1)


def _pipe(X: pd.DataFrame, **params: object):
    numeric = [c for c in X.columns if c != "ward"]
    return get_model("gru", numeric=numeric, categorical=["ward"], random_state=3, **params)


@pytest.fixture(scope="module")
def fitted(train):
    X, y = train
    return _pipe(X, **FAST).fit(X, y)


def test_parse_sequence_columns() -> None:
    columns = ["a__h1", "age", "a__h0", "b__h4", "missingindicator_a__h1", "missingindicator_age"]
    assert parse_sequence_columns(columns) == (["a", "b"], 5, ["age", "missingindicator_age"])


def test_sequence_imputer_forward_fills_older_hours_then_medians() -> None:
    X = pd.DataFrame(
        {
            "hr__h0": [np.nan, 70.0, np.nan],
            "hr__h1": [80.0, np.nan, np.nan],
            "hr__h2": [np.nan, 60.0, np.nan],
            "age": [50.0, np.nan, 70.0],
        }
    )
    imputer = SequenceImputer().fit(X)
    # median over every observed heart rate: 60, 70, 80 -> 70; age: 60
    out = pd.DataFrame(imputer.transform(X), columns=imputer.get_feature_names_out())
    assert out["hr__h0"].tolist() == [80.0, 70.0, 70.0]  # h1 carried forward to h0
    assert out["hr__h1"].tolist() == [80.0, 60.0, 70.0]  # h2 carried forward to h1
    assert out["hr__h2"].tolist() == [70.0, 60.0, 70.0]  # nothing older: median
    assert out["age"].tolist() == [50.0, 60.0, 70.0]
    assert out["missingindicator_hr__h0"].tolist() == [1.0, 0.0, 1.0]
    assert out["missingindicator_age"].tolist() == [0.0, 1.0, 0.0]
    assert list(out.columns[-4:]) == [
        "missingindicator_hr__h0",
        "missingindicator_hr__h1",
        "missingindicator_hr__h2",
        "missingindicator_age",
    ]


def test_same_seed_same_probabilities_other_seed_differs(train) -> None:
    X, y = train
    a = TorchGRUClassifier(random_state=1, **FAST).fit(X, y).predict_proba(X)
    b = TorchGRUClassifier(random_state=1, **FAST).fit(X, y).predict_proba(X)
    c = TorchGRUClassifier(random_state=2, **FAST).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_learns_the_trend_a_static_model_cannot_see(fitted, train, test) -> None:
    X_test, y_test = test
    auroc = roc_auc_score(y_test, fitted.predict_proba(X_test)[:, 1])
    static = ["age", "heart_rate__h0", "resp_rate__h0"]  # features as of the prediction time
    baseline = LogisticRegression().fit(train[0][static], train[1])
    auroc_static = roc_auc_score(y_test, baseline.predict_proba(X_test[static])[:, 1])
    assert auroc_static < 0.62
    assert auroc > 0.85
    assert auroc > auroc_static + 0.2


def test_numpy_recurrence_matches_torch(fitted, test) -> None:
    import torch

    model = fitted.named_steps["model"]
    X_t = fitted.named_steps["preprocess"].transform(test[0])
    sequences = model._sequences(X_t)
    w = model.gru_weights_
    gru = torch.nn.GRU(sequences.shape[2], w["weight_hh"].shape[1], batch_first=True)
    with torch.no_grad():
        for name, value in w.items():
            getattr(gru, f"{name}_l0").copy_(torch.from_numpy(value))
        _, h = gru(torch.from_numpy(sequences.astype(np.float32)))
    np.testing.assert_allclose(model._final_hidden(sequences), h[0].numpy(), atol=1e-5)


def test_fitted_attributes(fitted, train) -> None:
    model = fitted.named_steps["model"]
    assert model.parameters_ == ["heart_rate", "resp_rate"]
    assert model.n_steps_ == HOURS
    assert model.gru_weights_["weight_ih"].shape == (3 * 8, 4)  # 2 values + 2 masks
    assert 1 <= model.best_epoch_ <= model.n_iter_ <= 25
    assert len(model.loss_curve_) == model.n_iter_


def test_clone_get_params_set_params() -> None:
    model = TorchGRUClassifier(hidden_size=16, dropout=0.2)
    params = model.get_params()
    assert params["hidden_size"] == 16 and params["dropout"] == 0.2
    copy = clone(model)
    assert copy is not model and copy.get_params() == params
    copy.set_params(hidden_size=4)
    assert copy.hidden_size == 4 and model.hidden_size == 16
    pipe = get_model("gru", numeric=["a__h0"], categorical=[], hidden_size=5)
    assert clone(pipe).get_params()["model__hidden_size"] == 5


def test_search_space_builds_valid_models() -> None:
    import optuna

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    params = get_search_space("gru")(study.ask())
    assert set(params) == {"hidden_size", "dropout", "lr", "weight_decay", "max_epochs"}
    get_model("gru", numeric=["a__h0"], categorical=[], **params)


def test_calibration_wraps_the_pipeline(train, test) -> None:
    X, y = train
    calibrated = calibrate_model(_pipe(X, **FAST), X, y, method="sigmoid", cv=2)
    proba = calibrated.predict_proba(test[0])
    assert proba.shape == (len(test[0]), 2)
    assert roc_auc_score(test[1], proba[:, 1]) > 0.8


def test_pickle_and_mlflow_round_trip(fitted, test, tmp_path) -> None:
    from clinai.models import synthetic_input_example
    from clinai.tracking._model_io import load_model_dir, pip_requirements_for, save_model_dir

    X = test[0]
    expected = fitted.predict_proba(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(fitted)).predict_proba(X), expected)
    assert any(r.startswith("torch==") for r in pip_requirements_for(fitted))
    path = save_model_dir(fitted, tmp_path / "model", input_example=synthetic_input_example(X))
    np.testing.assert_array_equal(load_model_dir(path).predict_proba(X), expected)


def test_static_features_only_still_fit() -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"age": rng.normal(size=80)})
    y = (X["age"] > 0).astype(int)
    proba = TorchGRUClassifier(max_epochs=20, lr=3e-2).fit(X, y).predict_proba(X)
    assert roc_auc_score(y, proba[:, 1]) > 0.9


def test_errors() -> None:
    X = np.zeros((4, 2))
    with pytest.raises(ModelError, match=re.escape(GRU_NOT_FRAME_MSG.format(kind="ndarray"))):
        TorchGRUClassifier().fit(X, [0, 1, 0, 1])
    msg = GRU_PARAM_MSG.format(name="hidden_size", rule="an integer >= 1", value=0)
    with pytest.raises(ModelError, match=re.escape(msg)):
        TorchGRUClassifier(hidden_size=0).fit(pd.DataFrame({"a__h0": [1.0, 2.0]}), [0, 1])
    with pytest.raises(ModelError, match="one class only"):
        TorchGRUClassifier().fit(pd.DataFrame({"a__h0": [1.0, 2.0]}), [1, 1])
