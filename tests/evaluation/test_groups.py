"""Subgroup tables keep the order of bands (issue 13, item 15c) and categorical directions (15e)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clinai.data import age_band
from clinai.evaluation import explain_global, fairness_metrics, subgroup_metrics
from clinai.evaluation._groups import group_order
from clinai.evaluation.explain._shap import DIRECTION_BY_CATEGORY
from tests._helpers import made_up_shap

CHILD_BANDS = ["<1", "1-4", "5-11", "12-17", ">=18"]


def _data(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    p = rng.beta(2, 3, size=n)
    y = rng.binomial(1, p)
    age = pd.Series(rng.integers(0, 95, size=n))
    frame = pd.DataFrame(
        {
            "age_band": age_band(age),
            "child_band": age_band(age, cuts=(1, 5, 12, 18)),
        }
    )
    return y, p, frame


def test_group_order_sorts_bands_by_lower_bound_and_keeps_text_last() -> None:
    assert group_order(["60-74", "<60", ">=75"]) == ["<60", "60-74", ">=75"]
    assert group_order(["1-4", "12-17", "5-11", "<1", ">=18"]) == CHILD_BANDS
    assert group_order(["male", "female", "missing"]) == ["female", "male", "missing"]
    assert group_order(["unknown", ">=75", "<60"]) == ["<60", ">=75", "unknown"]


def test_group_order_keeps_an_ordered_categorical() -> None:
    column = pd.Series(pd.Categorical(["low", "high", "mid"], ["low", "mid", "high"], ordered=True))
    assert group_order(["high", "low", "mid", "missing"], column) == [
        "low",
        "mid",
        "high",
        "missing",
    ]


def test_subgroup_tables_list_bands_in_their_order() -> None:
    y, p, frame = _data()
    results = subgroup_metrics(y, p, frame, threshold=0.4, min_cell=5)
    assert [row.group for row in results["age_band"].rows] == ["<60", "60-74", ">=75"]
    assert [row.group for row in results["child_band"].rows] == CHILD_BANDS
    tables = fairness_metrics(y, p, frame, threshold=0.4, min_cell=5)
    assert [g.group for g in tables.tables["child_band"].groups] == CHILD_BANDS


def test_subgroup_metrics_numbers_do_not_depend_on_the_display_order() -> None:
    y, p, frame = _data()
    ordered = subgroup_metrics(y, p, frame[["age_band"]], threshold=0.4, n_boot=20)
    by_group = {row.group: row.auroc.to_dict() for row in ordered["age_band"].rows}
    for group, auroc in by_group.items():
        mask = frame["age_band"].to_numpy() == group
        alone = subgroup_metrics(
            y[mask], p[mask], frame[["age_band"]][mask], threshold=0.4, n_boot=0
        )
        assert alone["age_band"].rows[0].auroc.estimate == auroc["estimate"]


def test_unordered_categorical_importance_has_no_direction() -> None:
    rng = np.random.default_rng(1)
    n = 80
    ward = rng.choice(["medical", "surgical", "icu"], size=n)
    age = rng.normal(60, 10, n)
    onehot = np.column_stack([ward == w for w in ("icu", "medical", "surgical")]).astype(float)
    values = np.column_stack([(age - 60) / 10, onehot * [0.5, -0.2, 0.1]])
    names = ("age", "ward_icu", "ward_medical", "ward_surgical")
    shap = made_up_shap(values, np.column_stack([age, onehot]), names)
    result = explain_global(
        shap,
        feature_to_variable={"age": "age", **{c: "ward" for c in names[1:]}},
        X=pd.DataFrame({"age": age, "ward": ward}),
        n_boot=10,
    )
    directions = {v.variable: v.direction for v in result.importance.variables}
    assert directions == {"age": "positive", "ward": DIRECTION_BY_CATEGORY}
