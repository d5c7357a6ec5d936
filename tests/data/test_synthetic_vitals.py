"""The synthetic ward-stay generator: seeded, labelled synthetic, physiologically plausible."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from clinai.data._synthetic_vitals import (
    BAD_COUNT,
    BAD_STEP,
    SYNTHETIC_PARAMETERS,
    generate_ward_stays,
)
from clinai.data._vitals import PLAUSIBLE_RANGES, clean_vitals
from clinai.exceptions import DataError


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic")
    result = generate_ward_stays(40, seed=11, out_dir=out, minutes_per_row=2, chunk_rows=50_000)
    return result, pd.read_parquet(result.vitals_path), pd.read_parquet(result.stays_path)


def test_every_output_is_labelled_synthetic(generated) -> None:
    result, vitals, stays = generated
    for path in (result.vitals_path, result.stays_path):
        assert path.name.startswith("synthetic_")
        assert pq.read_schema(path).metadata[b"synthetic"] == b"true"
    assert vitals["synthetic"].all()
    assert stays["synthetic"].all()
    assert result.to_dict()["synthetic"] is True
    assert "SYNTHETIC" in generate_ward_stays.__doc__


def test_same_seed_same_data_for_any_chunk_size(generated, tmp_path: Path) -> None:
    result, vitals, stays = generated
    again = generate_ward_stays(
        40, seed=11, out_dir=tmp_path, minutes_per_row=2, chunk_rows=10_000_000
    )
    pd.testing.assert_frame_equal(pd.read_parquet(again.vitals_path), vitals)
    pd.testing.assert_frame_equal(pd.read_parquet(again.stays_path), stays)
    # small chunks give several row groups (memory bounded by the chunk)
    assert pq.ParquetFile(result.vitals_path).num_row_groups > 1
    other = generate_ward_stays(3, seed=12, out_dir=tmp_path / "b", minutes_per_row=2)
    assert not pd.read_parquet(other.stays_path)["age"].equals(stays["age"].head(3))


def test_schema_and_stays_table(generated) -> None:
    result, vitals, stays = generated
    assert list(vitals.columns) == ["stay_id", "time", "parameter", "value", "synthetic"]
    assert set(vitals["parameter"].astype(str)) == set(SYNTHETIC_PARAMETERS)
    assert result.n_rows == len(vitals)
    assert result.n_stays == len(stays) == 40
    assert sum(result.events.values()) == 40
    assert list(stays.columns) == [
        "stay_id",
        "patient_id",
        "admission_time",
        "end_time",
        "age",
        "sex",
        "ward",
        "hypercapnic",
        "event",
        "event_time",
        "synthetic",
    ]
    events = stays.dropna(subset=["event"])
    assert (events["event_time"] == events["end_time"]).all()
    assert stays.loc[stays["event"].isna(), "event_time"].isna().all()
    # sorted by stay and time, and inside each stay's admission
    assert vitals["stay_id"].is_monotonic_increasing
    assert (vitals.groupby("stay_id")["time"].diff().dropna() >= pd.Timedelta(0)).all()
    bounds = vitals.merge(stays, on="stay_id")
    assert (bounds["time"] >= bounds["admission_time"]).all()
    assert (bounds["time"] <= bounds["end_time"]).all()


def test_vitals_deteriorate_before_events(tmp_path: Path) -> None:
    result = generate_ward_stays(60, seed=5, out_dir=tmp_path, minutes_per_row=5, event_rate=0.5)
    vitals = pd.read_parquet(result.vitals_path)
    stays = pd.read_parquet(result.stays_path).dropna(subset=["event"])
    merged = vitals.merge(stays[["stay_id", "end_time"]], on="stay_id")
    hours_before = (merged["end_time"] - merged["time"]) / pd.Timedelta(hours=1)
    late = merged[hours_before <= 1].groupby("parameter", observed=True)["value"].median()
    early = merged[hours_before >= 30].groupby("parameter", observed=True)["value"].median()
    assert late["heart_rate"] > early["heart_rate"] + 15
    assert late["resp_rate"] > early["resp_rate"] + 4
    assert late["spo2"] < early["spo2"] - 3
    assert late["sbp"] < early["sbp"] - 15


def test_artefacts_are_present_and_counted_by_cleaning(generated) -> None:
    _, vitals, _ = generated
    frame = vitals.drop(columns="synthetic").assign(parameter=lambda f: f.parameter.astype(str))
    cleaned, report = clean_vitals(frame, unit_column=None)
    assert report.n_dropped("spo2", "spo2_artefact") > 0
    assert report.n_dropped("sbp", "sbp_not_above_dbp") > 0
    assert report.values_in - report.values_out == report.n_dropped()
    for parameter, (low, high) in PLAUSIBLE_RANGES.items():
        values = cleaned.loc[cleaned.parameter == parameter, "value"]
        assert values.between(low, high).all()


def test_bad_arguments() -> None:
    with pytest.raises(DataError, match=re.escape(BAD_COUNT.format(value=0))):
        generate_ward_stays(0, seed=1, out_dir="unused")
    with pytest.raises(DataError, match=re.escape(BAD_STEP.format(value=0))):
        generate_ward_stays(2, seed=1, out_dir="unused", minutes_per_row=0)
