"""SHAP importance by clinical variable with real small models."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from clinai.evaluation import shap_importance
from clinai.evaluation.explain._shap import BACKGROUND_MSG, FEATURE_NAMES_MSG, KIND_MSG, shap_values
from clinai.exceptions import DataError

NAMES = ["age", "lactate", "sex_F", "sex_M", "noise"]
MAPPING = {"age": "age", "lactate": "lactate", "sex_F": "sex", "sex_M": "sex", "noise": "noise"}
COEF = np.array([1.5, -0.8, 0.6, -0.6, 0.05])


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    n = 400
    numeric = rng.normal(size=(n, 2))
    female = rng.binomial(1, 0.5, size=n)
    noise = rng.normal(size=n)
    X = np.column_stack([numeric, female, 1 - female, noise]).astype(float)
    y = rng.binomial(1, 1 / (1 + np.exp(-(X @ COEF))))
    return X, y


@pytest.fixture(scope="module")
def logistic(data) -> LogisticRegression:
    X, y = data
    return LogisticRegression(C=100.0).fit(X, y)


@pytest.fixture(scope="module")
def lightgbm_model(data):
    lightgbm = pytest.importorskip("lightgbm")
    X, y = data
    frame = pd.DataFrame(X, columns=NAMES)
    return lightgbm.LGBMClassifier(n_estimators=20, n_jobs=1, verbose=-1).fit(frame, y)


def test_linear_importance_equals_analytic_shap_with_one_hot_summed(data, logistic) -> None:
    X, _ = data
    n = X.shape[0]
    result = shap_importance(
        logistic,
        X,
        feature_names=NAMES,
        feature_to_variable=MAPPING,
        kind="linear",
        n_background=n,
        max_rows=n,
    )
    # interventional linear SHAP: phi_j(x) = coef_j * (x_j - mean_j) on the log-odds scale
    phi = logistic.coef_[0] * (X - X.mean(axis=0))
    expected = {
        "age": np.mean(np.abs(phi[:, 0])),
        "lactate": np.mean(np.abs(phi[:, 1])),
        "sex": np.mean(np.abs(phi[:, 2] + phi[:, 3])),
        "noise": np.mean(np.abs(phi[:, 4])),
    }
    got = {v.variable: v.mean_abs_shap for v in result.variables}
    assert got == pytest.approx(expected, rel=1e-6)
    assert len(result.variables) == 4  # sex_F and sex_M reported together as sex
    assert result.n_rows == n
    assert "LinearExplainer" in result.method


def test_background_rows_can_come_from_elsewhere(data, logistic) -> None:
    X, _ = data
    train, test = X[:300], X[300:]
    result = shap_importance(
        logistic,
        test,
        feature_names=NAMES,
        feature_to_variable=MAPPING,
        kind="linear",
        background=train,
        n_background=300,
        max_rows=100,
    )
    phi = logistic.coef_[0] * (test - train.mean(axis=0))
    got = {v.variable: v.mean_abs_shap for v in result.variables}
    assert got["age"] == pytest.approx(np.mean(np.abs(phi[:, 0])), rel=1e-6)
    assert got["sex"] == pytest.approx(np.mean(np.abs(phi[:, 2] + phi[:, 3])), rel=1e-6)
    message = BACKGROUND_MSG.format(shape=(300, 2), n_columns=5)
    with pytest.raises(DataError, match=re.escape(message)):
        shap_importance(
            logistic,
            test,
            feature_names=NAMES,
            feature_to_variable=MAPPING,
            kind="linear",
            background=train[:, :2],
        )


def test_linear_ranking_follows_coefficients_on_standardized_independent_data() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(600, 4))
    coef = np.array([0.3, -2.0, 1.0, 0.05])
    y = rng.binomial(1, 1 / (1 + np.exp(-(X @ coef))))
    model = LogisticRegression(C=100.0).fit(X, y)
    names = ["a", "b", "c", "d"]
    result = shap_importance(
        model, X, feature_names=names, feature_to_variable={}, kind="linear", max_rows=300
    )
    by_coef = [names[j] for j in np.argsort(-np.abs(model.coef_[0]))]
    assert [v.variable for v in result.variables] == by_coef == ["b", "c", "a", "d"]
    directions = {v.variable: v.direction for v in result.variables}
    assert directions["b"] == "negative"
    assert directions["c"] == "positive"


def test_tree_importance_sums_column_contributions(data, lightgbm_model) -> None:
    X, _ = data
    frame = pd.DataFrame(X, columns=NAMES)
    result = shap_values(
        lightgbm_model,
        frame,
        feature_names=NAMES,
        kind="tree",
        n_background=50,
        max_rows=120,
        random_state=0,
        kernel_nsamples=None,
    )
    values, rows, method = result.values, result.X_rows, result.method
    assert values.shape == (120, 5)
    assert "TreeSHAP" in method  # LightGBM's own pred_contrib
    # local accuracy: SHAP values add up to the raw (log-odds) prediction
    import shap

    explainer = shap.TreeExplainer(lightgbm_model)
    raw = lightgbm_model.predict(pd.DataFrame(rows, columns=NAMES), raw_score=True)
    base = np.ravel(explainer.expected_value)[-1]
    np.testing.assert_allclose(values.sum(axis=1) + base, raw, atol=1e-6)

    result = shap_importance(
        lightgbm_model,
        frame,
        feature_names=NAMES,
        feature_to_variable=MAPPING,
        kind="tree",
        max_rows=120,
    )
    got = {v.variable: v.mean_abs_shap for v in result.variables}
    assert got["sex"] == pytest.approx(np.mean(np.abs(values[:, 2] + values[:, 3])))
    assert got["age"] == pytest.approx(np.mean(np.abs(values[:, 0])))
    assert [v.mean_abs_shap for v in result.variables] == sorted(got.values(), reverse=True)
    assert result.variables[0].variable == "age"
    assert result.to_dict()["n_rows"] == 120


def test_tree_explainer_handles_list_and_3d_outputs() -> None:
    from clinai.evaluation.explain._shap import _positive_class

    negative, positive = np.zeros((3, 2)), np.ones((3, 2))
    np.testing.assert_array_equal(_positive_class([negative, positive]), positive)
    np.testing.assert_array_equal(
        _positive_class(np.stack([negative, positive], axis=-1)), positive
    )
    np.testing.assert_array_equal(_positive_class(positive), positive)


def test_kernel_explainer_is_additive_and_reproducible(data, logistic) -> None:
    X, _ = data
    X3 = X[:, :3]
    model = LogisticRegression().fit(X3, data[1])
    names = ["age", "lactate", "sex_F"]
    kwargs = dict(feature_names=names, kind="kernel", n_background=20, max_rows=15, random_state=4)
    result = shap_values(model, X3, kernel_nsamples=None, **kwargs)
    values, rows, method = result.values, result.X_rows, result.method
    assert "KernelExplainer" in method
    # with 3 features every coalition is evaluated: values add up to f(x) - E f(background)
    rng = np.random.default_rng(4)
    rng.choice(X3.shape[0], size=15, replace=False)
    background = X3[np.sort(rng.choice(X3.shape[0], size=20, replace=False))]
    expected_value = model.predict_proba(background)[:, 1].mean()
    np.testing.assert_allclose(
        values.sum(axis=1) + expected_value, model.predict_proba(rows)[:, 1], atol=1e-6
    )
    first = shap_importance(model, X3, feature_to_variable={}, **kwargs)
    again = shap_importance(model, X3, feature_to_variable={}, **kwargs)
    assert first == again
    state = np.random.get_state()[1].copy()
    shap_importance(model, X3, feature_to_variable={}, **kwargs)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # global RNG restored


def test_sparse_input_and_json(data, logistic) -> None:
    X, _ = data
    dense = shap_importance(
        logistic, X, feature_names=NAMES, feature_to_variable=MAPPING, kind="linear", max_rows=50
    )
    sparse = shap_importance(
        logistic,
        sp.csr_matrix(X),
        feature_names=NAMES,
        feature_to_variable=MAPPING,
        kind="linear",
        max_rows=50,
    )
    assert dense == sparse
    as_dict = dense.to_dict()
    assert set(as_dict) == {"method", "n_rows", "variables"}
    assert set(as_dict["variables"][0]) == {"variable", "mean_abs_shap", "direction"}
    assert {v["direction"] for v in as_dict["variables"]} <= {"positive", "negative", "mixed"}


def test_input_errors(data, logistic) -> None:
    X, _ = data
    with pytest.raises(DataError, match=re.escape(KIND_MSG.format(value="deep"))):
        shap_importance(logistic, X, feature_names=NAMES, feature_to_variable={}, kind="deep")
    message = FEATURE_NAMES_MSG.format(n_names=2, n_columns=5)
    with pytest.raises(DataError, match=re.escape(message)):
        shap_importance(logistic, X, feature_names=NAMES[:2], feature_to_variable={}, kind="linear")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DataError, match="SHAP failed for kind='tree'"):
            shap_importance(logistic, X, feature_names=NAMES, feature_to_variable={}, kind="tree")


def test_mean_shap_values_explain_the_mean_log_odds_of_the_members(data) -> None:
    from clinai.evaluation import mean_shap_values

    X, y = data
    members = [LogisticRegression(C=c).fit(X[i::3], y[i::3]) for i, c in enumerate((0.1, 1, 10))]
    per_member = [
        shap_values(m, X, feature_names=NAMES, kind="linear", max_rows=50, random_state=1)
        for m in members
    ]
    mean = mean_shap_values(per_member)
    rows = mean.rows
    mean_log_odds = np.mean([m.decision_function(X[rows]) for m in members], axis=0)
    np.testing.assert_allclose(mean.base_value + mean.values.sum(axis=1), mean_log_odds, atol=1e-9)
    assert mean.method.startswith("mean of 3 calibrated fold models")
    other_rows = shap_values(
        members[0], X, feature_names=NAMES, kind="linear", max_rows=50, random_state=2
    )
    with pytest.raises(ValueError, match="different rows or columns"):
        mean_shap_values([per_member[0], other_rows])
