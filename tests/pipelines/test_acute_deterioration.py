"""The acute_deterioration use case (SYNTHETIC stays): rows, outcome, features, NEWS2, sequences."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clinai import data

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pipeline():
    name = "clinai_test_pipeline_acute_deterioration"
    spec = importlib.util.spec_from_file_location(
        name, ROOT / "pipelines" / "acute_deterioration.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def raw(pipeline) -> pd.DataFrame:
    return pipeline.load(n_stays=30, seed=5, sequence_hours=3)


def test_one_row_per_hour_labelled_synthetic(raw: pd.DataFrame) -> None:
    assert raw["synthetic"].all()
    assert (raw["prediction_time"] == raw["prediction_time"].dt.floor("h")).all()
    assert (raw["prediction_time"] < raw["end_time"]).all()
    first = raw.groupby("stay_id")["prediction_time"].min()
    admitted = raw.groupby("stay_id")["admission_time"].first()
    assert (first == admitted.dt.ceil("h") + pd.Timedelta(hours=1)).all()
    assert not raw.duplicated(["stay_id", "prediction_time"]).any()


def test_outcome_is_an_event_within_24_hours(pipeline, raw: pd.DataFrame) -> None:
    y = pipeline.outcome(raw)
    ahead = (raw["event_time"] - raw["prediction_time"]).dt.total_seconds() / 3600
    expected = ((ahead > 0) & (ahead <= 24)).fillna(False).astype(int)
    np.testing.assert_array_equal(y.to_numpy(), expected.to_numpy())
    assert 0 < y.mean() < 0.5


def test_features_hold_no_identifier_time_or_outcome(pipeline, raw: pd.DataFrame) -> None:
    X = pipeline.features(raw)
    forbidden = {
        "stay_id",
        "patient_id",
        "prediction_time",
        "admission_time",
        "end_time",
        "event",
        "event_time",
        "event_within_24h",
        "news2",
        "synthetic",
        "sex",
    }
    assert not forbidden & set(X.columns)
    assert not any(pd.api.types.is_datetime64_any_dtype(X[c]) for c in X.columns)
    assert {"heart_rate_last", "spo2_24h_min", "resp_rate_6h_slope", "age", "ward"} <= set(X)


def test_baseline_is_news2_of_the_last_observations(pipeline, raw: pd.DataFrame) -> None:
    last = raw[[c for c in raw.columns if c.endswith("_last")]]
    observations = last.rename(columns=lambda c: c.removesuffix("_last"))
    observations["spo2_scale"] = np.where(raw["hypercapnic"], 2, 1)
    direct = data.news2(observations, spo2_scale="column")
    expected = direct["news2"].fillna(direct["news2_partial"])
    np.testing.assert_array_equal(pipeline.baseline(raw).to_numpy(), expected.to_numpy())
    assert pipeline.METADATA["baseline"] == {"name": "NEWS2", "thresholds": [5, 7]}


def test_hourly_sequences_match_pandas(pipeline, tmp_path: Path) -> None:
    generated = data.generate_ward_stays(
        30, seed=5, out_dir=tmp_path, minutes_per_row=5, event_rate=0.3
    )
    vitals = pd.read_parquet(generated.vitals_path)
    raw = pipeline.load(n_stays=30, seed=5, sequence_hours=3)
    rows = raw.sample(40, random_state=0)
    for row in rows.itertuples():
        for k in range(3):
            end = row.prediction_time - pd.Timedelta(hours=k)
            window = vitals[
                (vitals["stay_id"] == row.stay_id)
                & (vitals["parameter"] == "heart_rate")
                & (vitals["time"] >= end - pd.Timedelta(hours=1))
                & (vitals["time"] < end)
            ]
            got = getattr(row, f"heart_rate__h{k}")
            if window.empty:
                assert np.isnan(got)
            else:
                assert got == pytest.approx(window["value"].mean())
