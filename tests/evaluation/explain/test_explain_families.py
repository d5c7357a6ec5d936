"""SHAP for every model family of clinai, each checked against a reference.

- LightGBM: the booster's own TreeSHAP (pred_contrib) against shap.TreeExplainer;
- logistic regression: LinearExplainer against the closed form coef * (x - mean)
  on the model's input space (after the pipeline's preprocessing);
- PyTorch MLP: the model-agnostic kernel explainer adds up to the prediction;
- a calibrated model: the explanation is of its first pipeline (see explain_inputs).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from clinai.evaluation import shap_values
from clinai.evaluation.explain._shap import TREE_METHOD_MSG
from clinai.exceptions import DataError
from clinai.models import calibrate_model, explain_inputs, get_model
from tests._helpers import shap_of
from tests.models.conftest import CATEGORICAL, NUMERIC, make_data


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    # every admission type present (the data these checks were written with)
    X, y = make_data(300, seed=0, missing_admission=False)
    X_test, _ = make_data(120, seed=1, missing_admission=False)
    return X, y, X_test


def _assert_adds_up(result, probability: np.ndarray) -> None:
    """Local accuracy of a kernel explanation: base value + contributions = the probability."""
    np.testing.assert_allclose(
        result.base_value + result.values.sum(axis=1), probability, atol=1e-6
    )


def _fit(name: str, data, **params):
    X, y, _ = data
    return get_model(name, numeric=NUMERIC, categorical=CATEGORICAL, **params).fit(X, y)


def test_lightgbm_native_contributions_equal_tree_explainer(data) -> None:
    pytest.importorskip("lightgbm")
    pipe = _fit("lightgbm", data, n_estimators=40)
    inputs = explain_inputs(pipe, data[2])
    kwargs = dict(feature_names=inputs.feature_names, kind="tree", max_rows=1000)
    native = shap_values(inputs.estimator, inputs.X_transformed, tree_method="native", **kwargs)
    reference = shap_values(inputs.estimator, inputs.X_transformed, tree_method="shap", **kwargs)
    auto = shap_values(inputs.estimator, inputs.X_transformed, **kwargs)
    tables = shap_values(inputs.estimator, inputs.X_transformed, tree_method="tables", **kwargs)
    assert "pred_contrib" in native.method and "TreeExplainer" in reference.method
    assert auto.method == tables.method  # "auto" takes the leaf tables for LightGBM
    assert "leaf tables" in tables.method
    np.testing.assert_allclose(native.values, reference.values, atol=1e-6, rtol=0)
    np.testing.assert_allclose(tables.values, native.values, atol=1e-12, rtol=0)
    assert tables.base_value == pytest.approx(native.base_value, abs=1e-12)
    assert native.base_value == pytest.approx(reference.base_value, abs=1e-6)
    # local accuracy: base value + contributions = the booster's raw score (log-odds)
    raw = inputs.estimator.predict(
        pd.DataFrame(native.X_rows, columns=inputs.feature_names), raw_score=True
    )
    np.testing.assert_allclose(native.base_value + native.values.sum(axis=1), raw, atol=1e-6)
    assert native.scale == "log-odds"
    assert native.values.shape == (120, len(inputs.feature_names))


@pytest.mark.parametrize(("kind", "tree_method"), [("tree", "native"), ("linear", "fast")])
def test_native_tree_method_needs_lightgbm(data, kind: str, tree_method: str) -> None:
    pipe = _fit("logistic", data)
    inputs = explain_inputs(pipe, data[2])
    message = TREE_METHOD_MSG.format(value=tree_method, estimator="LogisticRegression")
    with pytest.raises(DataError, match=re.escape(message)):
        shap_values(
            inputs.estimator,
            inputs.X_transformed,
            feature_names=inputs.feature_names,
            kind=kind,  # type: ignore[arg-type]
            tree_method=tree_method,  # type: ignore[arg-type]
        )


def test_logistic_linear_explainer_equals_closed_form_on_model_inputs(data) -> None:
    pipe = _fit("logistic", data)
    X_train = data[0]
    inputs = explain_inputs(pipe, data[2], background=X_train, max_background=300)
    assert inputs.kind == "linear" and inputs.background is not None
    result = shap_of(inputs, kind="linear", n_background=300, max_rows=1000)
    # closed form, interventional: phi_j(x) = coef_j * (x_j - mean_j) on the scaled,
    # one-hot encoded inputs; the mean is over the background rows
    coef = inputs.estimator.coef_[0]
    expected = coef * (inputs.X_transformed - inputs.background.mean(axis=0))
    np.testing.assert_allclose(result.values, expected, atol=1e-10)
    logit = inputs.estimator.decision_function(inputs.X_transformed)
    np.testing.assert_allclose(result.base_value + result.values.sum(axis=1), logit, atol=1e-8)


def test_mlp_kernel_explainer_adds_up_to_the_probability(data) -> None:
    pytest.importorskip("torch")
    pipe = _fit("mlp", data, max_epochs=5)
    inputs = explain_inputs(pipe, data[2].iloc[:6], background=data[0], max_background=20)
    assert inputs.kind == "kernel"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        result = shap_of(  # 4096 > 2**m coalitions: exact
            inputs, kind="kernel", n_background=20, max_rows=6, kernel_nsamples=4096
        )
    _assert_adds_up(result, inputs.estimator.predict_proba(inputs.X_transformed)[:, 1])
    assert result.scale == "probability" and "KernelExplainer" in result.method


def test_calibrated_model_is_explained_through_its_first_pipeline(data) -> None:
    X, y, X_test = data
    calibrated = calibrate_model(
        get_model("logistic", numeric=NUMERIC, categorical=CATEGORICAL),
        X,
        y,
        method="sigmoid",
        cv=3,
    )
    inputs = explain_inputs(calibrated, X_test, background=X)
    result = shap_of(inputs, max_rows=1000, n_background=200)
    # sigmoid calibration is monotone in the pipeline's log-odds: the explained score
    # orders patients as the calibrated probabilities do
    score = result.base_value + result.values.sum(axis=1)
    calibrated_prob = calibrated.predict_proba(X_test)[:, 1]
    assert np.all(np.diff(calibrated_prob[np.argsort(score)]) >= -1e-12)


def test_any_other_classifier_gets_the_model_agnostic_explainer(data) -> None:
    # e.g. a PyTorch sequence model added to the registry later: kernel SHAP needs only
    # predict_proba on the preprocessed inputs
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline

    pipe = _fit("logistic", data)
    other = Pipeline(
        [
            ("preprocess", pipe.named_steps["preprocess"]),
            ("model", RandomForestClassifier(n_estimators=5, random_state=0)),
        ]
    )
    other.named_steps["model"].fit(pipe.named_steps["preprocess"].transform(data[0]), data[1])
    inputs = explain_inputs(other, data[2].iloc[:4], background=data[0], max_background=10)
    assert inputs.kind == "kernel"
    result = shap_of(inputs, kind="kernel", n_background=10, max_rows=4, kernel_nsamples=600)
    _assert_adds_up(result, inputs.estimator.predict_proba(inputs.X_transformed)[:, 1])


def test_gru_sequence_model_kernel_explainer_adds_up(data) -> None:
    pytest.importorskip("torch")
    from clinai.models import get_model_names

    if "gru" not in get_model_names():
        pytest.skip("no gru model in the registry")
    rng = np.random.default_rng(3)
    X, y, _ = data
    # two hours of one vital sign (sequence columns <parameter>__h<k>) and a static age
    frame = pd.DataFrame(
        {
            "hr__h0": rng.normal(90, 15, len(X)),
            "hr__h1": rng.normal(88, 15, len(X)),
            "age": X["age"],
        }
    )
    pipe = get_model("gru", numeric=["hr__h0", "hr__h1", "age"], categorical=[], max_epochs=3).fit(
        frame, y
    )
    inputs = explain_inputs(pipe, frame.iloc[:5], background=frame, max_background=15)
    assert inputs.kind == "kernel"
    result = shap_of(inputs, kind="kernel", n_background=15, max_rows=5, kernel_nsamples=2048)
    rows = pd.DataFrame(inputs.X_transformed, columns=inputs.feature_names)
    _assert_adds_up(result, inputs.estimator.predict_proba(rows)[:, 1])
