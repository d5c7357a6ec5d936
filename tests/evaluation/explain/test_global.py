"""Rank intervals, subgroup importance and dependence data against hand-made references."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from clinai.evaluation import (
    bootstrap_indices,
    dependence_data,
    explain_global,
    importance_rank_intervals,
    subgroup_importance,
)
from clinai.evaluation._groups import group_order
from clinai.evaluation.explain._global import CONTRIBUTIONS_MSG, MISSING_LEVEL
from clinai.exceptions import DataError
from tests._helpers import made_up_shap

VARIABLES = ["age", "lactate", "sex"]


def test_rank_intervals_on_a_hand_made_example() -> None:
    # a dominates in every row, b and c alternate: every resample ranks a first,
    # while b and c swap places between resamples
    c = np.array(
        [
            [10.0, 1.0, 0.0],
            [10.0, 0.0, 1.0],
            [10.0, 1.0, 0.0],
            [10.0, 0.0, 1.0],
        ]
    )
    result = importance_rank_intervals(c, ["a", "b", "c"], n_boot=400, random_state=3)
    by = {v.variable: v for v in result.variables}
    assert [v.variable for v in result.variables] == ["a", "b", "c"]  # b, c tie: by name
    assert (by["a"].rank, by["a"].rank_low, by["a"].rank_high) == (1.0, 1.0, 1.0)
    assert by["b"].rank == by["c"].rank == 2.5  # tie on all rows: mean of ranks 2 and 3
    assert (by["b"].rank_low, by["b"].rank_high) == (2.0, 3.0)
    assert (by["c"].rank_low, by["c"].rank_high) == (2.0, 3.0)
    assert by["a"].mean_abs_shap == 10.0 and by["b"].mean_abs_shap == 0.5
    assert result.n_boot == 400 and result.n_rows == 4


def test_rank_intervals_equal_a_direct_loop_over_the_same_resamples() -> None:
    rng = np.random.default_rng(0)
    c = rng.normal(size=(80, 4)) * np.array([1.0, 0.9, 0.5, 0.1])
    names = ["w", "x", "y", "z"]
    calls: list[tuple[int, int]] = []
    result = importance_rank_intervals(
        c,
        names,
        n_boot=150,
        ci_level=0.9,
        random_state=11,
        progress=lambda done, total: calls.append((done, total)),
    )
    ranks = []
    for index in bootstrap_indices(80, n_boot=150, random_state=11):
        means = pd.Series(np.abs(c[index]).mean(axis=0), index=names)
        ranks.append(means.rank(ascending=False, method="average"))
    table = pd.DataFrame(ranks)
    by = {v.variable: v for v in result.variables}
    for name in names:
        assert by[name].rank_low == pytest.approx(np.percentile(table[name], 5))
        assert by[name].rank_high == pytest.approx(np.percentile(table[name], 95))
    assert calls[-1] == (150, 150) and len(calls) == 150
    again = importance_rank_intervals(c, names, n_boot=150, ci_level=0.9, random_state=11)
    assert again == result


def test_rank_intervals_refuse_bad_input() -> None:
    message = CONTRIBUTIONS_MSG.format(n_variables=2, shape=(3, 3))
    with pytest.raises(DataError, match=re.escape(message)):
        importance_rank_intervals(np.ones((3, 3)), ["a", "b"])
    with pytest.raises(DataError, match="n_boot must be an integer >= 1"):
        importance_rank_intervals(np.ones((3, 2)), ["a", "b"], n_boot=0)
    with pytest.raises(DataError, match=re.escape("ci_level must be in (0, 1); got 1.5")):
        importance_rank_intervals(np.ones((3, 2)), ["a", "b"], ci_level=1.5)


@pytest.fixture
def contributions() -> tuple[np.ndarray, pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(5)
    n = 60
    c = rng.normal(size=(n, 3))
    sensitive = pd.DataFrame(
        {
            "sex": rng.choice(["F", "M"], n),
            "age_band": np.where(np.arange(n) < 3, "<18", rng.choice(["18-64", "65+"], n)),
        }
    )
    sensitive.loc[5, "sex"] = None
    y = np.tile([0, 1], n // 2)
    return c, sensitive, y


def test_subgroup_importance_equals_a_pandas_groupby(contributions) -> None:
    c, sensitive, _ = contributions
    result = subgroup_importance(c, VARIABLES, sensitive, min_cell=5)
    frame = pd.DataFrame(np.abs(c), columns=VARIABLES)
    for item in result:
        labels = sensitive[item.attribute].fillna(MISSING_LEVEL)
        expected = frame.groupby(labels.to_numpy()).mean()
        counts = labels.value_counts()
        # bands in their order (issue 13, item 15c), other labels in text order
        assert [cell.group for cell in item.groups] == group_order(counts.index)
        for cell in item.groups:
            if counts[cell.group] < 5:
                assert cell.suppressed and cell.importance == () and cell.n is None
                continue
            assert dict(cell.importance) == pytest.approx(expected.loc[cell.group].to_dict())
    sex = next(item for item in result if item.attribute == "sex")
    assert [cell.group for cell in sex.groups] == ["F", "M", "missing"]
    assert sex.groups[2].suppressed  # one row with a missing sex
    # a suppressed group hides every count of its attribute (no subtraction)
    assert all(cell.n is None for cell in sex.groups)
    band = next(item for item in result if item.attribute == "age_band")
    assert [g.group for g in band.groups] == ["<18", "18-64", "65+"]
    assert band.groups[0].suppressed and all(g.n is None for g in band.groups)
    as_dict = band.to_dict()
    assert as_dict["groups"][0] == {
        "group": "<18",
        "n": None,
        "suppressed": True,
        "importance": {},
    }
    json.dumps([r.to_dict() for r in result], allow_nan=False)


def test_subgroup_importance_suppresses_groups_with_few_events(contributions) -> None:
    c, sensitive, y = contributions
    y = y.copy()
    males = (sensitive["sex"] == "M").to_numpy()
    y[males] = 0
    y[np.flatnonzero(males)[:3]] = 1  # three events among the men
    result = subgroup_importance(c, VARIABLES, sensitive[["sex"]].fillna("F"), y_true=y, min_cell=5)
    cells = {cell.group: cell for cell in result[0].groups}
    assert cells["M"].suppressed and not cells["F"].suppressed
    with pytest.raises(DataError, match="sensitive_features has 59 rows"):
        subgroup_importance(c, VARIABLES, sensitive.iloc[1:])


def test_dependence_of_numeric_and_categorical_variables() -> None:
    rng = np.random.default_rng(2)
    n = 300
    age = rng.uniform(20, 90, n)
    age[:7] = np.nan
    ward = rng.choice(["icu", "medical", "surgical"], n, p=[0.3, 0.68, 0.02])
    c_age = 0.03 * (np.nan_to_num(age, nan=55.0) - 55)
    c_ward = np.select([ward == "icu", ward == "medical"], [0.8, -0.2], -0.5) + rng.normal(
        0, 0.05, n
    )
    c = np.column_stack([c_age, c_ward, rng.normal(0, 0.01, n)])
    X = pd.DataFrame({"age": age, "ward": ward, "noise": rng.normal(size=n)})
    result = dependence_data(
        c, ["age", "ward", "noise"], X, top=["age", "ward"], max_points=150, trim=0.01, min_cell=10
    )
    age_dep, ward_dep = result
    assert (age_dep.kind, age_dep.rank, age_dep.direction) == ("numeric", 1, "positive")
    assert age_dep.n_missing == 7 and len(age_dep.x) == len(age_dep.shap) == 150
    assert list(age_dep.x) == sorted(age_dep.x)  # sorted by value
    finite = age[np.isfinite(age)]
    low, high = np.quantile(finite, [0.01, 0.99])
    assert min(age_dep.x) >= low and max(age_dep.x) <= high  # tails trimmed
    for x, s in zip(age_dep.x, age_dep.shap, strict=True):
        assert s == pytest.approx(0.03 * (x - 55))  # each point keeps its own pair
    assert ward_dep.kind == "categorical" and ward_dep.direction == "levels"
    levels = {level.level: level for level in ward_dep.levels}
    counts = pd.Series(ward).value_counts()
    assert counts["surgical"] < 10 and levels["surgical"].suppressed
    assert levels["surgical"].mean_shap is None
    for name in ("icu", "medical"):
        values = c_ward[ward == name]
        assert levels[name].mean_shap == pytest.approx(values.mean())
        assert levels[name].median == pytest.approx(np.median(values))
        assert levels[name].q1 == pytest.approx(np.percentile(values, 25))
        assert levels[name].n is None  # complementary suppression
    assert (ward_dep.highest_level, ward_dep.lowest_level) == ("icu", "medical")
    as_dict = ward_dep.to_dict()
    assert as_dict["levels"][-1]["mean_shap"] is None
    assert age_dep.to_dict()["points"][0] == [age_dep.x[0], age_dep.shap[0]]
    with pytest.raises(DataError, match="X lacks the variable 'sofa'"):
        dependence_data(c, ["age", "ward", "noise"], X, top=["sofa"])


def test_explain_global_puts_the_pieces_together(contributions) -> None:
    c, sensitive, y = contributions
    # two encoded columns of "sex" are summed back to one variable
    values = np.column_stack([c[:, 0], c[:, 1], c[:, 2] / 2, c[:, 2] / 2])
    names = ("age", "lactate", "sex_F", "sex_M")
    mapping = {"age": "age", "lactate": "lactate", "sex_F": "sex", "sex_M": "sex"}
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "age": rng.normal(60, 10, 60),
            "lactate": rng.normal(2, 1, 60),
            "sex": sensitive["sex"].fillna("F"),
        }
    )
    shap = made_up_shap(values, values, names)
    result = explain_global(
        shap,
        feature_to_variable=mapping,
        X=X,
        sensitive_features=sensitive,
        y_true=y,
        n_boot=50,
        top_k=2,
        min_cell=5,
    )
    order = [v.variable for v in result.importance.variables]
    assert [d.variable for d in result.dependence] == order[:2]
    assert {v.variable for v in result.rank_intervals.variables} == {"age", "lactate", "sex"}
    assert [s.attribute for s in result.subgroups] == ["sex", "age_band"]
    out = result.to_dict()
    assert set(out) == {
        "method",
        "n_rows",
        "variables",
        "scale",
        "rank_intervals",
        "subgroup_importance",
        "dependence",
        "profiles",
    }
    assert out["profiles"] == [] and out["scale"] == "log-odds"
    json.dumps(out, allow_nan=False)
