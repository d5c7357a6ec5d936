"""Synthetic example profiles: never a row of the data; explained locally with a real model."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from clinai.evaluation import explain_profiles, synthetic_profiles
from clinai.evaluation.explain._profiles import PERCENTILE_MSG, Y_PROB_MSG
from clinai.exceptions import DataError
from clinai.models import explain_inputs, get_model
from tests._helpers import shap_of

NUMERIC = ["age", "lab_value", "sofa"]
CATEGORICAL = ["sex", "admission_type"]


def _data(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "age": rng.integers(18, 95, n),
            "lab_value": rng.normal(2, 1, n).round(1),
            "sofa": rng.integers(0, 12, n),
            "sex": rng.choice(["F", "M"], n),
            "admission_type": rng.choice(["elective", "urgent", "emergency"], n),
        }
    )
    logit = (
        0.04 * (X["age"] - 60) + 0.3 * X["sofa"] - 2 + 0.8 * (X["admission_type"] == "emergency")
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y.to_numpy()


def _rows_equal(X: pd.DataFrame, row: pd.Series) -> np.ndarray:
    return (X.astype(str) == row.astype(str)).all(axis=1).to_numpy() | (
        X.apply(lambda r: all(_same(r[c], row[c]) for c in X.columns), axis=1).to_numpy()
    )


def _same(a: object, b: object) -> bool:
    try:
        return bool(float(a) == float(b))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return a == b


@pytest.fixture(scope="module")
def fitted() -> tuple:
    X, y = _data(400, seed=0)
    X_test, _ = _data(200, seed=1)
    pipe = get_model("logistic", numeric=NUMERIC, categorical=CATEGORICAL).fit(X, y)
    return pipe, X, X_test


def test_profiles_sit_at_the_risk_percentiles_and_are_never_a_data_row(fitted) -> None:
    pipe, X_train, X_test = fitted
    risk = pipe.predict_proba(X_test)[:, 1]
    everyone = pd.concat([X_train, X_test], ignore_index=True)
    profiles = synthetic_profiles(X_test, risk, reference=everyone, min_cell=5)
    assert profiles.percentiles == (10.0, 50.0, 90.0)
    assert list(profiles.X.columns) == list(X_test.columns)
    assert profiles.target_risks == pytest.approx(tuple(np.percentile(risk, [10, 50, 90])))
    assert all(n >= 5 for n in profiles.n_rows)
    for i in range(len(profiles.X)):
        row = profiles.X.iloc[i]
        assert not _rows_equal(everyone, row).any(), row.to_dict()
    # the profile's predicted risk follows the percentile it was built at
    profile_risk = pipe.predict_proba(profiles.X)[:, 1]
    assert profile_risk[0] < profile_risk[1] < profile_risk[2]
    # a median over the band of rows around the 50th percentile
    low, high = np.percentile(risk, [45, 55])
    band = X_test[(risk >= low) & (risk <= high)]
    assert profiles.X.loc[1, "sex"] == band["sex"].mode().iloc[0]


def test_a_profile_equal_to_a_row_is_moved_off_the_data() -> None:
    # identical rows: the median profile equals them, so one numeric value moves
    X = pd.DataFrame({"age": [60, 60, 60, 60, 60, 70], "sex": ["F"] * 6})
    profiles = synthetic_profiles(X, np.linspace(0.1, 0.6, 6), percentiles=[10], min_cell=5)
    row = profiles.X.iloc[0]
    assert row["age"] == 65.0  # midpoint between 60 and the next observed value, 70
    assert not _rows_equal(X, row).any()


def test_all_categorical_profile_that_exists_is_dropped() -> None:
    X = pd.DataFrame({"sex": ["F", "F", "F", "M", "M", "M"], "ward": ["icu"] * 6})
    profiles = synthetic_profiles(X, np.linspace(0.1, 0.6, 6), percentiles=[10, 90], min_cell=3)
    assert len(profiles.X) == 0 and profiles.percentiles == ()


def test_profile_input_errors() -> None:
    X = pd.DataFrame({"age": [1.0, 2.0, 3.0]})
    with pytest.raises(DataError, match=re.escape(Y_PROB_MSG.format(n_prob=2, n_rows=3))):
        synthetic_profiles(X, [0.1, 0.2])
    with pytest.raises(DataError, match=re.escape(PERCENTILE_MSG.format(value=120))):
        synthetic_profiles(X, [0.1, 0.2, 0.3], percentiles=[120])


def test_local_explanations_of_the_profiles(fitted) -> None:
    pipe, X_train, X_test = fitted
    risk = pipe.predict_proba(X_test)[:, 1]
    profiles = synthetic_profiles(X_test, risk)
    predicted = pipe.predict_proba(profiles.X)[:, 1]
    inputs = explain_inputs(pipe, profiles.X, background=X_train, max_background=400)
    shap = shap_of(inputs, n_background=400, max_rows=10)
    local = explain_profiles(
        profiles,
        predicted_risk=predicted,
        shap=shap,
        feature_to_variable=inputs.feature_to_variable,
        top_k=3,
    )
    assert [item.percentile for item in local] == [10.0, 50.0, 90.0]
    coef = inputs.estimator.coef_[0]
    for i, item in enumerate(local):
        assert item.predicted_risk == pytest.approx(predicted[i])
        assert len(item.contributions) == 3
        sizes = [abs(c.contribution) for c in item.contributions]
        assert sizes == sorted(sizes, reverse=True)
        # closed form of the linear model, summed per clinical variable
        phi = coef * (inputs.X_transformed[i] - inputs.background.mean(axis=0))
        for contribution in item.contributions:
            columns = [
                j
                for j, name in enumerate(inputs.feature_names)
                if inputs.feature_to_variable[name] == contribution.variable
            ]
            assert contribution.contribution == pytest.approx(phi[columns].sum())
            assert contribution.direction == (
                "raises" if contribution.contribution > 0 else "lowers"
            )
            assert contribution.value == profiles.X.iloc[i][contribution.variable]
        # all contributions add up to the log-odds of the uncalibrated model
        logit = np.log(predicted[i] / (1 - predicted[i]))
        assert item.base_value + shap.values[i].sum() == pytest.approx(logit)
    out = local[2].to_dict()
    assert out["synthetic"] is True and set(out["profile"]) == set(X_test.columns)
    json.dumps([item.to_dict() for item in local], allow_nan=False)
    with pytest.raises(DataError, match="predicted_risk has 2 rows"):
        explain_profiles(
            profiles,
            predicted_risk=predicted[:2],
            shap=shap,
            feature_to_variable=inputs.feature_to_variable,
        )
