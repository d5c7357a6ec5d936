"""Drift against development bins: PSI by hand, KS and Wasserstein-1 against scipy, edge cases."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from clinai.evaluation.monitoring import (
    OTHER_LEVEL,
    PSI_FLOOR,
    RISK_KEY,
    DriftReference,
    count_bins,
    drift_reference,
    feature_drift,
    feature_drift_frame,
)
from clinai.evaluation.monitoring._drift import FEATURES_MISSING_MSG
from clinai.evaluation.monitoring._drift_reference import (
    N_BINS_MSG,
    NOT_NUMERIC_MSG,
    UNKNOWN_FEATURE_MSG,
    _bin_index,
)
from clinai.exceptions import DataError


def normal_frame(n: int, seed: int, *, shift: float = 0.0, scale: float = 1.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(shift, scale, size=n)})


def test_psi_by_hand_over_deciles() -> None:
    # 0..999: deciles at 99.9, 199.8, ...; current data: twice as many in the lowest decile.
    reference = drift_reference(pd.DataFrame({"x": np.arange(1000.0)}))
    ref = reference.get("x")
    assert ref.decile_edges.shape == (9,)
    assert set(ref.decile_edges) <= set(ref.edges)
    current = np.concatenate([np.arange(100.0), np.arange(1000.0)])
    drift = feature_drift_frame(reference, pd.DataFrame({"x": current})).features[0]
    c = np.array([200 / 1100] + [100 / 1100] * 9)
    r = np.full(10, 0.1)
    assert drift.psi == pytest.approx(float(np.sum((c - r) * np.log(c / r))), rel=1e-12)


def test_psi_empty_decile_uses_the_floor() -> None:
    reference = drift_reference(pd.DataFrame({"x": np.arange(1000.0)}))
    current = np.arange(100.0, 1000.0)  # the lowest decile is empty
    drift = feature_drift_frame(reference, pd.DataFrame({"x": current})).features[0]
    c = np.array([PSI_FLOOR] + [1 / 9] * 9)
    r = np.full(10, 0.1)
    assert drift.psi == pytest.approx(float(np.sum((c - r) * np.log(c / r))), rel=1e-9)


@pytest.mark.parametrize(
    ("shift", "scale", "skewed"),
    [(0.0, 1.0, False), (0.3, 1.0, False), (0.0, 1.4, False), (-0.5, 0.8, False), (0.5, 1.5, True)],
)
def test_ks_and_wasserstein_against_scipy(shift: float, scale: float, skewed: bool) -> None:
    dev = normal_frame(200_000, 1)
    cur = normal_frame(200_000, 2, shift=shift, scale=scale)
    if skewed:  # log-normal: long right tail, edges crowded at the left
        dev, cur = np.exp(dev), np.exp(cur)
    drift = feature_drift_frame(drift_reference(dev), cur).features[0]
    exact_ks = stats.ks_2samp(dev["x"], cur["x"]).statistic
    exact_w = stats.wasserstein_distance(dev["x"], cur["x"])
    # KS at the edges never exceeds the exact statistic and misses at most a bin's worth.
    assert drift.ks <= exact_ks + 1e-12
    assert drift.ks == pytest.approx(exact_ks, abs=0.01)
    # Binned Wasserstein-1 with exact tails: within 1% + 0.005 reference sd of the exact value.
    assert abs(drift.wasserstein - exact_w) <= 0.01 * exact_w + 0.005 * dev["x"].std()


def test_no_drift_is_small_and_means_are_reported() -> None:
    reference = drift_reference(normal_frame(50_000, 3), risk=np.full(50_000, 0.1))
    drift = feature_drift_frame(reference, normal_frame(50_000, 4), risk=np.full(10, 0.1))
    x = drift.features[0]
    assert x.psi < 0.01 and x.ks < 0.02 and x.wasserstein < 0.03
    assert x.mean_current == pytest.approx(x.mean_reference, abs=0.03)
    assert drift.risk is not None and drift.risk.psi == pytest.approx(0.0)
    assert drift.to_dict()["risk"] == {
        "psi": 0.0,
        "ks": 0.0,
        "wasserstein": pytest.approx(0.0, abs=1e-12),
        "mean_reference": pytest.approx(0.1),
        "mean_current": pytest.approx(0.1),
    }


def test_counts_in_chunks_sum_to_the_whole() -> None:
    frame = pd.DataFrame(
        {"x": normal_frame(3000, 5)["x"], "sex": np.random.default_rng(6).choice(["F", "M"], 3000)}
    )
    frame.loc[::7, "x"] = np.nan
    reference = drift_reference(frame.iloc[:2000])
    whole = feature_drift_frame(reference, frame.iloc[2000:])
    chunks = [frame.iloc[2000:2400], frame.iloc[2400:]]
    counts = {
        name: sum(count_bins(reference, name, chunk[name]) for chunk in chunks)
        for name in reference.names
    }
    summed = feature_drift(reference, counts).to_dict()["features"]
    for chunked, direct in zip(summed, whole.to_dict()["features"], strict=True):
        numbers = {k: v for k, v in direct.items() if isinstance(v, float)}
        assert {k: chunked[k] for k in numbers} == pytest.approx(numbers, rel=1e-12)
        assert {k: v for k, v in chunked.items() if k not in numbers} == {
            k: v for k, v in direct.items() if k not in numbers
        }


def test_missingness_and_its_change() -> None:
    dev = pd.DataFrame({"x": [1.0, 2.0, np.nan, 4.0] * 250})
    cur = pd.DataFrame({"x": [1.0, np.nan, np.nan, 4.0] * 100})
    drift = feature_drift_frame(drift_reference(dev), cur).features[0]
    assert (drift.missing_reference, drift.missing_current) == (0.25, 0.5)
    assert drift.missing_change == pytest.approx(0.25)


def test_all_missing_feature_in_reference_and_current() -> None:
    dev = pd.DataFrame({"x": [np.nan] * 100, "y": np.arange(100.0)})
    reference = drift_reference(dev)
    assert reference.get("x").missing_share == 1.0
    cur = pd.DataFrame({"x": np.arange(10.0), "y": [np.nan] * 10})
    x, y = feature_drift_frame(reference, cur).features
    assert math.isnan(x.psi) and x.missing_change == -1.0
    assert math.isnan(y.psi) and math.isnan(y.ks) and y.missing_current == 1.0
    assert x.to_dict()["psi"] is None


def test_constant_feature() -> None:
    reference = drift_reference(pd.DataFrame({"x": np.full(500, 3.0)}))
    ref = reference.get("x")
    assert list(ref.edges) == [3.0] and list(ref.shares) == [0.0, 1.0]
    same = feature_drift_frame(reference, pd.DataFrame({"x": np.full(50, 3.0)})).features[0]
    assert (same.psi, same.ks, same.wasserstein) == (0.0, 0.0, 0.0)
    moved = feature_drift_frame(reference, pd.DataFrame({"x": np.full(50, 2.0)})).features[0]
    assert moved.ks == 1.0 and moved.psi > 5


def test_empty_period() -> None:
    frame = pd.DataFrame({"x": np.arange(100.0), "c": ["a"] * 100})
    reference = drift_reference(frame)
    drift = feature_drift_frame(reference, frame.iloc[:0])
    for item in drift.features:
        assert item.n == 0 and math.isnan(item.psi) and math.isnan(item.missing_current)
    json.dumps(drift.to_dict(), allow_nan=False)


def test_categorical_levels_rare_merged_and_unseen_counted_as_other() -> None:
    dev = pd.DataFrame({"ward": ["A"] * 60 + ["B"] * 37 + ["C"] * 3})
    reference = drift_reference(dev, min_cell=5)
    ref = reference.get("ward")
    assert ref.levels == ("A", "B", OTHER_LEVEL)
    assert list(ref.shares) == [0.6, 0.37, 0.03]
    cur = pd.Series(["A"] * 50 + ["Z"] * 40 + [None] * 10)
    counts = count_bins(reference, "ward", cur)
    assert list(counts) == [50.0, 0.0, 40.0, 10.0]
    drift = feature_drift(reference, {"ward": counts}).features[0]
    c = np.array([50 / 90, PSI_FLOOR, 40 / 90])
    r = np.array([0.6, 0.37, 0.03])
    assert drift.psi == pytest.approx(float(np.sum((c - r) * np.log(c / r))))
    assert drift.kind == "categorical" and math.isnan(drift.ks) and drift.missing_current == 0.1


def test_categorical_one_level_and_numeric_codes() -> None:
    reference = drift_reference(
        pd.DataFrame({"one": ["x"] * 20, "code": [1, 2] * 10}), categorical=["code"]
    )
    assert reference.get("one").levels == ("x", OTHER_LEVEL)
    drift = feature_drift_frame(reference, pd.DataFrame({"one": ["x"] * 5, "code": [1] * 5}))
    assert drift.features[0].psi == 0.0
    assert drift.features[1].psi > 0.5


def test_to_dict_round_trip_through_json() -> None:
    frame = pd.DataFrame({"x": np.arange(300.0), "s": ["F", "M", "M"] * 100})
    frame.loc[::10, "x"] = np.nan
    reference = drift_reference(frame, risk=np.linspace(0, 1, 300))
    loaded = DriftReference.from_dict(json.loads(json.dumps(reference.to_dict(), allow_nan=False)))
    assert loaded.to_dict() == reference.to_dict()
    assert feature_drift_frame(loaded, frame) == feature_drift_frame(reference, frame)


def test_reference_holds_no_row() -> None:
    # One patient per age, 100 rows, min_cell 5: 20 bins of 5 rows each instead of 100
    # bins of one row; the tail means are means of 5 patients (20-24 and 115-119), so
    # neither the youngest (20) nor the oldest (119) patient's age is stored.
    reference = drift_reference(pd.DataFrame({"age": np.arange(20.0, 120.0)}))
    text = json.dumps(reference.to_dict())
    assert "20.0," not in text and "119.0" not in text
    age = reference.get("age")
    assert age.edges.shape == (19,) and np.all(age.shares * age.n >= 5 - 1e-9)
    assert age.tail_means == (22.0, 117.0)
    # 40 rows, min_cell 50: still 10 bins, but a tail of 4 rows keeps no mean.
    assert drift_reference(pd.DataFrame({"age": np.arange(20.0, 60.0)}), min_cell=50).get(
        "age"
    ).to_dict()["tail_means"] == [None, None]
    # Ten patients per age: the tail means are aggregates of ten rows and are kept.
    tens = drift_reference(pd.DataFrame({"age": np.repeat(np.arange(20.0, 120.0), 10)}))
    assert tens.get("age").tail_means == (20.0, 119.0)


def test_measurements_for_the_plan() -> None:
    dev = normal_frame(5000, 7).assign(y=0.0)
    cur = normal_frame(5000, 8, shift=1.0).assign(y=np.nan)
    measured = feature_drift_frame(drift_reference(dev), cur).measurements()
    assert measured["psi"] == measured["psi.x"] > 0.5
    assert measured["missing_change"] == 1.0 and measured["risk_psi"] is None


def test_bad_input_names_the_argument() -> None:
    frame = pd.DataFrame({"x": np.arange(100.0)})
    reference = drift_reference(frame)
    with pytest.raises(DataError, match="n_bins"):
        drift_reference(frame, n_bins=5)
    assert N_BINS_MSG.startswith("n_bins")
    with pytest.raises(DataError) as missing:
        feature_drift_frame(reference, pd.DataFrame({"z": [1.0]}))
    assert str(missing.value) == FEATURES_MISSING_MSG.format(count=1, names="x")
    with pytest.raises(DataError) as unknown:
        count_bins(reference, "z", [1.0])
    assert str(unknown.value) == UNKNOWN_FEATURE_MSG.format(feature="z", known="x")
    with pytest.raises(DataError) as text:
        count_bins(reference, "x", ["high"])
    assert str(text.value) == NOT_NUMERIC_MSG.format(feature="x", values="'high'")
    with pytest.raises(DataError, match="entries but the reference needs"):
        feature_drift(reference, {"x": np.zeros(3)})
    with pytest.raises(DataError, match=r"DriftReference\.to_dict"):
        DriftReference.from_dict({"version": 99})
    risk_counts = count_bins(drift_reference(frame, risk=np.zeros(100)), RISK_KEY, [0.5])
    assert list(risk_counts) == [0.0, 1.0, 0.0, 0.5, 0.0, 0.5]


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(8).normal(size=20_000),
        np.random.default_rng(9).lognormal(0.0, 3.0, size=20_000),  # crowded edges
        np.random.default_rng(10).integers(60, 140, size=20_000).astype(float),
        1e9 + np.random.default_rng(11).uniform(size=20_000),  # large offset, small range
    ],
)
def test_bin_index_equals_searchsorted(values: np.ndarray) -> None:
    edges = drift_reference(pd.DataFrame({"x": values})).get("x").edges
    probes = np.concatenate(
        [
            values,
            edges,
            np.nextafter(edges, -np.inf),
            np.nextafter(edges, np.inf),
            [-1e300, 1e300, edges[0] - 1, edges[-1] + 1],
        ]
    )
    expected = np.searchsorted(edges, probes, side="right")
    assert np.array_equal(_bin_index(edges, probes), expected)
