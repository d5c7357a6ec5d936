"""Fairness metrics per attribute and intersection, checked against direct computations."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from fairlearn.metrics import MetricFrame
from sklearn.metrics import confusion_matrix, roc_auc_score

from clinai.evaluation import bootstrap_indices, fairness_metrics, intersection_name
from clinai.evaluation.fairness._fairness_metrics import (
    FAIRNESS_METRICS,
    INTERSECTION_MSG,
    RATIO_METRICS,
)
from clinai.exceptions import DataError

T = 0.25


def cohort(seed: int = 0, n: int = 900) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male"], size=n)
    age = rng.choice(["<50", "50-69", "70+"], size=n, p=[0.3, 0.4, 0.3]).astype(object)
    logit = -1.2 + 0.5 * (age == "70+") - 0.3 * (sex == "female") + rng.normal(0, 1.1, n)
    p = 1 / (1 + np.exp(-logit))
    y = rng.binomial(1, np.clip(p * np.where(sex == "male", 1.15, 0.9), 0, 1))
    return y, p, pd.DataFrame({"sex": sex, "age_band": age})


# --- slow, obviously correct references -------------------------------------------------


def ref_auroc(y: np.ndarray, p: np.ndarray) -> float:
    return float(roc_auc_score(y, p))


def ref_citl(y: np.ndarray, p: np.ndarray) -> float:
    """Intercept of a logistic GLM of y on a constant with offset logit(p) (statsmodels)."""
    offset = np.log(p / (1 - p))
    fit = sm.GLM(y, np.ones((len(y), 1)), family=sm.families.Binomial(), offset=offset).fit()
    return float(fit.params[0])


def _counts(y: np.ndarray, p: np.ndarray) -> tuple[int, int, int, int]:
    tn, fp, fn, tp = confusion_matrix(y, (p >= T).astype(int), labels=[0, 1]).ravel()
    return int(tn), int(fp), int(fn), int(tp)


def ref_sensitivity(y: np.ndarray, p: np.ndarray) -> float:
    _tn, _fp, fn, tp = _counts(y, p)
    return tp / (tp + fn)


def ref_specificity(y: np.ndarray, p: np.ndarray) -> float:
    tn, fp, _fn, _tp = _counts(y, p)
    return tn / (tn + fp)


def ref_net_benefit(y: np.ndarray, p: np.ndarray) -> float:
    """Vickers & Elkin: TP/n - FP/n * t / (1 - t)."""
    _tn, fp, _fn, tp = _counts(y, p)
    n = len(y)
    return tp / n - fp / n * T / (1 - T)


REFERENCES = {
    "auroc": ref_auroc,
    "calibration_in_the_large": ref_citl,
    "sensitivity": ref_sensitivity,
    "specificity": ref_specificity,
    "net_benefit": ref_net_benefit,
}


def by_label(table: dict) -> dict:
    return {row["group"]: row for row in table["groups"]}


# --- tests --------------------------------------------------------------------------------


def test_each_group_metric_equals_a_direct_computation_on_the_subset() -> None:
    y, p, features = cohort()
    result = fairness_metrics(
        y, p, features, threshold=T, intersections=[("sex", "age_band")]
    ).to_dict()
    assert list(result) == ["sex", "age_band", "sex_x_age_band"]
    cross = features["sex"] + " & " + features["age_band"]
    for name, labels in (
        ("sex", features["sex"]),
        ("age_band", features["age_band"]),
        ("sex_x_age_band", cross),
    ):
        groups = by_label(result[name])
        assert sorted(groups) == sorted(labels.unique())
        for label, row in groups.items():
            mask = (labels == label).to_numpy()
            assert row["n"] == mask.sum() and row["events"] == y[mask].sum()
            for metric, reference in REFERENCES.items():
                assert row[metric]["estimate"] == pytest.approx(
                    reference(y[mask], p[mask]), abs=1e-7
                ), (name, label, metric)
    assert result["sex_x_age_band"]["intersection"] is True
    assert result["sex_x_age_band"]["attributes"] == ["sex", "age_band"]
    assert by_label(result["sex_x_age_band"])["female & 70+"]["levels"] == {
        "sex": "female",
        "age_band": "70+",
    }


def test_differences_and_ratios_equal_fairlearn_metricframe() -> None:
    y, p, features = cohort(1)
    result = fairness_metrics(y, p, features, threshold=T, intersections=[("sex", "age_band")])
    tables = result.to_dict()
    frames = {
        "sex": features["sex"],
        "age_band": features["age_band"],
        "sex_x_age_band": features[["sex", "age_band"]],
    }
    for name, sensitive in frames.items():
        frame = MetricFrame(
            metrics={k: f for k, f in REFERENCES.items()},
            y_true=y,
            y_pred=p,
            sensitive_features=sensitive,
        )
        difference = frame.difference()
        ratio = frame.ratio()
        for metric in FAIRNESS_METRICS:
            block = tables[name][metric]
            assert block["difference"]["estimate"] == pytest.approx(difference[metric], abs=1e-7)
            if metric in RATIO_METRICS:
                assert block["ratio"]["estimate"] == pytest.approx(ratio[metric], abs=1e-7)
            else:
                assert "ratio" not in block  # a ratio of a signed metric has no meaning
            assert block["n_groups"] == frame.by_group.shape[0]


def test_bootstrap_intervals_equal_the_percentiles_of_direct_resample_computations() -> None:
    y, p, features = cohort(2, n=500)
    n_boot = 60
    result = fairness_metrics(
        y, p, features[["sex"]], threshold=T, n_boot=n_boot, random_state=7
    ).to_dict()["sex"]
    # the same resamples, rebuilt row by row, each scored with fairlearn and the references
    differences, ratios, female_auroc = [], [], []
    for index in bootstrap_indices(len(y), n_boot=n_boot, random_state=7):
        frame = MetricFrame(
            metrics={"auroc": ref_auroc, "net_benefit": ref_net_benefit},
            y_true=y[index],
            y_pred=p[index],
            sensitive_features=features["sex"].to_numpy()[index],
        )
        differences.append(frame.difference()["net_benefit"])
        ratios.append(frame.ratio()["auroc"])
        female_auroc.append(frame.by_group.loc["female", "auroc"])
    for block, draws in (
        (result["net_benefit"]["difference"], differences),
        (result["auroc"]["ratio"], ratios),
        (by_label(result)["female"]["auroc"], female_auroc),
    ):
        low, high = np.percentile(draws, [2.5, 97.5])
        assert block["ci_low"] == pytest.approx(low, abs=1e-9)
        assert block["ci_high"] == pytest.approx(high, abs=1e-9)
        assert block["ci_low"] <= block["estimate"] <= block["ci_high"] or math.isclose(
            block["ci_low"], block["estimate"]
        )


def test_patients_are_resampled_not_rows() -> None:
    y, p, features = cohort(3, n=300)
    once = fairness_metrics(y, p, features, threshold=T, n_boot=40, random_state=1)
    # every patient twice: resampling patients gives each copy the patient's count, so every
    # metric (all scale-invariant in the weights) and every interval is unchanged
    twice = fairness_metrics(
        np.tile(y, 2),
        np.tile(p, 2),
        pd.concat([features, features], ignore_index=True),
        threshold=T,
        patient_ids=np.tile(np.arange(len(y)), 2),
        n_boot=40,
        random_state=1,
    )
    for name in ("sex", "age_band"):
        a, b = once.to_dict()[name], twice.to_dict()[name]
        for metric in FAIRNESS_METRICS:
            for part in ("estimate", "ci_low", "ci_high"):
                assert b[metric]["difference"][part] == pytest.approx(
                    a[metric]["difference"][part], abs=1e-9
                )
        assert [g["n"] for g in b["groups"]] == [2 * g["n"] for g in a["groups"]]


def test_same_seed_same_numbers_and_json() -> None:
    y, p, features = cohort(4, n=300)
    first = fairness_metrics(y, p, features, threshold=T, n_boot=30, random_state=3).to_dict()
    second = fairness_metrics(y, p, features, threshold=T, n_boot=30, random_state=3).to_dict()
    assert first == second
    json.dumps(first, allow_nan=False)


def test_tiny_cells_are_suppressed_and_never_reported() -> None:
    y, p, features = cohort(5)
    features = features.copy()
    features.loc[:2, "age_band"] = "100+"  # a planted tiny group (3 patients)
    result = fairness_metrics(
        y, p, features, threshold=T, min_cell=5, intersections=[("sex", "age_band")], n_boot=20
    ).to_dict()
    tiny = by_label(result["age_band"])["100+"]
    assert tiny["suppressed"] is True
    assert tiny["n"] is None and tiny["events"] is None
    assert all(tiny[m] is None for m in FAIRNESS_METRICS)
    # complementary suppression: one more group's counts are hidden, its metrics stay
    hidden = [g for g in result["age_band"]["groups"] if not g["suppressed"] and g["n"] is None]
    assert len(hidden) == 1 and hidden[0]["auroc"]["estimate"] is not None
    # the suppressed group takes no part in the differences
    reported = [g for g in result["age_band"]["groups"] if not g["suppressed"]]
    values = [g["auroc"]["estimate"] for g in reported]
    assert result["age_band"]["auroc"]["difference"]["estimate"] == pytest.approx(
        max(values) - min(values)
    )
    assert result["age_band"]["auroc"]["n_groups"] == 3
    # intersection: the tiny cells are suppressed and no cell shows counts (margins are public)
    cross = result["sex_x_age_band"]["groups"]
    assert {g["group"] for g in cross if g["suppressed"]} == {
        label
        for label in (f"{s} & 100+" for s in ("female", "male"))
        if label in by_label(result["sex_x_age_band"])
    }
    assert all(g["n"] is None and g["events"] is None for g in cross)


def test_cells_with_few_events_are_suppressed() -> None:
    y, p, features = cohort(6, n=400)
    features = features.copy()
    rare = np.flatnonzero(y == 0)[:30]
    features["unit"] = "ward"
    features.loc[rare, "unit"] = "icu"  # 30 patients, no event
    result = fairness_metrics(y, p, features[["unit"]], threshold=T).to_dict()["unit"]
    assert by_label(result)["icu"]["suppressed"] is True
    assert result["auroc"]["n_groups"] == 1
    assert result["auroc"]["difference"]["estimate"] is None  # fewer than two groups


def test_intersection_names_and_errors() -> None:
    assert intersection_name(("sex", "age_band")) == "sex_x_age_band"
    y, p, features = cohort(7, n=200)
    for bad in (("sex", "ward"), ("sex", "sex"), ("sex",)):
        with pytest.raises(DataError, match=re.escape("intersections[0] must name two")):
            fairness_metrics(y, p, features, threshold=T, intersections=[bad])
    assert INTERSECTION_MSG.startswith("intersections[{index}]")
    with pytest.raises(DataError, match="threshold"):
        fairness_metrics(y, p, features, threshold=1.0)
