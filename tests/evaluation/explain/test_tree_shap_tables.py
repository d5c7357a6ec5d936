"""Exact TreeSHAP from leaf tables against LightGBM's own pred_contrib and shap.TreeExplainer."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from clinai.evaluation import shap_values
from clinai.evaluation.explain._shap import TABLES_NOT_APPLICABLE_MSG
from clinai.evaluation.explain._tree_shap_tables import (
    _leaf_table,
    tree_shap_from_tables,
    tree_tables,
)
from clinai.exceptions import DataError

lgb = pytest.importorskip("lightgbm")


def _data(n: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, m))
    logit = X[:, 0] - 0.8 * X[:, 1] + 0.6 * X[:, 2] * X[:, 3] + 0.4 * X[:, 4] ** 2
    return X, rng.binomial(1, 1 / (1 + np.exp(-logit)))


def _reference(booster, X: np.ndarray) -> tuple[np.ndarray, float]:
    contributions = booster.predict(X, pred_contrib=True)
    return contributions[:, :-1], float(contributions[0, -1])


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"zero_as_missing": True},
        {"use_missing": False},
        {"max_depth": 3, "num_leaves": 8},
        {"num_leaves": 63, "min_child_samples": 5},
    ],
)
def test_tables_equal_pred_contrib_with_missing_values_and_zeros(params) -> None:
    X, y = _data(3000, 8, 0)
    X[::7, 2] = np.nan  # missing values, routed the default way
    X[::5, 3] = 0.0  # zeros (missing under zero_as_missing)
    model = lgb.LGBMClassifier(n_estimators=25, verbose=-1, n_jobs=1, **params).fit(X, y)
    X_new, _ = _data(500, 8, 1)
    X_new[::3, 2] = np.nan
    X_new[::4, 3] = 0.0
    X_new[::11, 0] = np.nan  # a column without missing values in training
    tables = tree_tables(model.booster_)
    assert tables is not None
    values = tree_shap_from_tables(tables, X_new, n_threads=2)
    reference, base = _reference(model.booster_, X_new)
    np.testing.assert_allclose(values, reference, atol=1e-12, rtol=0)
    assert tables.base_value == pytest.approx(base, abs=1e-12)
    # local accuracy: base + contributions = the raw score
    raw = model.predict(X_new, raw_score=True)
    np.testing.assert_allclose(tables.base_value + values.sum(axis=1), raw, atol=1e-10)


def test_threads_do_not_change_the_values() -> None:
    X, y = _data(2000, 6, 2)
    model = lgb.LGBMClassifier(n_estimators=15, verbose=-1, n_jobs=1).fit(X, y)
    tables = tree_tables(model.booster_)
    one = tree_shap_from_tables(tables, X, n_threads=1)
    three = tree_shap_from_tables(tables, X, n_threads=3)
    np.testing.assert_allclose(one, three, atol=1e-13, rtol=0)


def test_leaf_table_equals_the_shapley_sum_over_coalitions() -> None:
    # brute force: phi_i = sum_S w(|S|) [f(S + i) - f(S)], f(S) = v prod_{S} o_j prod_{not S} z_j
    value, z = 0.7, np.array([0.3, 0.55, 0.0, 0.9])
    d = z.shape[0]
    table = _leaf_table(value, z)
    for met in range(1 << d):
        o = np.array([(met >> j) & 1 for j in range(d)], dtype=float)

        def f(S: tuple[int, ...], o=o) -> float:
            return value * math.prod(o[j] if j in S else z[j] for j in range(d))

        for i in range(d):
            others = [j for j in range(d) if j != i]
            phi = sum(
                math.factorial(k)
                * math.factorial(d - k - 1)
                / math.factorial(d)
                * (f((*S, i)) - f(S))
                for k in range(d)
                for S in combinations(others, k)
            )
            assert table[i, met] == pytest.approx(phi, abs=1e-15)


def test_categorical_splits_fall_back_to_pred_contrib() -> None:
    X, y = _data(1500, 5, 3)
    frame = pd.DataFrame(X, columns=list("abcde"))
    frame["ward"] = pd.Categorical(np.random.default_rng(3).choice(list("xyz"), 1500))
    y = np.where(frame["ward"] == "x", 1, y)
    model = lgb.LGBMClassifier(n_estimators=10, verbose=-1, n_jobs=1).fit(frame, y)
    assert tree_tables(model.booster_) is None
    names = list(frame.columns)
    codes = frame.assign(ward=frame["ward"].cat.codes).to_numpy(dtype="float64")
    auto = shap_values(model, codes, feature_names=names, kind="tree", max_rows=50)
    assert "pred_contrib" in auto.method
    with pytest.raises(DataError, match="tree_method='tables' does not handle"):
        shap_values(model, codes, feature_names=names, kind="tree", tree_method="tables")
    assert "use tree_method='native'" in TABLES_NOT_APPLICABLE_MSG


def test_paths_with_too_many_features_fall_back(monkeypatch) -> None:
    import clinai.evaluation.explain._tree_shap_tables as module

    X, y = _data(1500, 6, 4)
    model = lgb.LGBMClassifier(n_estimators=5, verbose=-1, n_jobs=1).fit(X, y)
    assert tree_tables(model.booster_) is not None
    monkeypatch.setattr(module, "MAX_PATH_FEATURES", 1)  # any path with two features is too deep
    assert tree_tables(model.booster_) is None
