"""Vitals as another monitoring system exports them (SYNTHETIC values, made up here).

Local times across the daylight-saving changes of Europe/Copenhagen (2026-03-29 and
2026-10-25), prediction times of every kind, stay ids typed differently in the two
tables, parameter names with unit signs; features checked against plain pandas.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clinai.data import clean_vitals, window_features
from clinai.data._vitals import OUT_OF_ORDER
from clinai.data._vitals_predictions import (
    MISSING_PREDICTION_STAY,
    PREDICTION_MIXED_ZONES,
    PREDICTION_TIME_NOT_A_TIME,
    STAY_TYPES_DIFFER,
)
from clinai.exceptions import DataError

ZONE = "Europe/Copenhagen"
SECRET_STAY = "PT-4711"  # a SYNTHETIC identifier that no message may show


def _reference(vitals: pd.DataFrame, preds: pd.DataFrame, windows: list[str]) -> pd.DataFrame:
    """The features computed the slow, obvious way (naive UTC prediction times)."""
    rows = []
    for stay, at in zip(preds["stay_id"], preds["t"], strict=True):
        before = vitals[(vitals["stay_id"] == stay) & (vitals["time"] < at)].sort_values("time")
        row = {"heart_rate_last": before["value"].iloc[-1] if len(before) else np.nan}
        for window in windows:
            part = before[before["time"] >= at - pd.Timedelta(window)]
            hours = (part["time"] - at) / pd.Timedelta("1h")
            row[f"heart_rate_{window}_count"] = len(part)
            row[f"heart_rate_{window}_mean"] = part["value"].mean()
            row[f"heart_rate_{window}_min"] = part["value"].min()
            row[f"heart_rate_{window}_max"] = part["value"].max()
            slope = np.polyfit(hours, part["value"], 1)[0] if hours.nunique() > 1 else np.nan
            row[f"heart_rate_{window}_slope"] = slope
        rows.append(row)
    return pd.DataFrame(rows)


def _assert_matches(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    for column in expected.columns:
        np.testing.assert_allclose(
            got[column].to_numpy(float), expected[column].to_numpy(float), rtol=1e-9, err_msg=column
        )


def _local_export() -> pd.DataFrame:
    # SYNTHETIC heart rates every 7 minutes through the night summer time ends, written
    # as local clock times with their offsets (the hour 02:00-03:00 happens twice)
    utc = pd.date_range("2026-10-24 20:00", "2026-10-25 06:00", freq="7min", tz="UTC")
    local = utc.tz_convert(ZONE)
    values = 80 + 10 * np.sin(np.arange(len(utc)) / 5)
    return pd.DataFrame(
        {
            "stay_id": 1,
            "time": [stamp.isoformat() for stamp in local],
            "parameter": "HR",
            "value": values.round(1),
            "unit": "bpm",
        }
    )


def test_features_across_the_end_of_summer_time_match_pandas() -> None:
    vitals, report = clean_vitals(_local_export())
    assert report.values_out == report.values_in and report.n_changed(rule="to_utc") > 0
    # prediction times as local text with summer and winter offsets: the second 02:30
    # (+01:00) is an hour after the first (+02:00)
    local = ["2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00", "2026-10-25T06:00:00+01:00"]
    preds = pd.DataFrame({"stay_id": 1, "prediction_time": local})
    at = pd.to_datetime(local, utc=True).tz_localize(None)
    expected = _reference(vitals, pd.DataFrame({"stay_id": 1, "t": at}), ["1h", "6h"])
    for engine in ("grid", "duckdb"):
        got = window_features(
            vitals, preds, windows=["1h", "6h"], parameters=["heart_rate"], engine=engine
        )
        _assert_matches(got, expected)
    # the two 02:30 are an hour apart: different readings, 9 in each hour (every 7 min)
    assert got["heart_rate_1h_count"].tolist() == [9, 9, 9]
    assert got.loc[0, "heart_rate_last"] != got.loc[1, "heart_rate_last"]


def test_features_across_the_start_of_summer_time_match_pandas(tmp_path: Path) -> None:
    # SYNTHETIC: 01:59+01:00 is followed by 03:00+02:00, one minute later
    local = ["2026-03-29T01:00:00+01:00", "2026-03-29T01:59:00+01:00", "2026-03-29T03:00:00+02:00"]
    export = pd.DataFrame(
        {"stay_id": 7, "time": local, "parameter": "Pulse", "value": [70, 80, 90]}
    )
    vitals, _ = clean_vitals(export)
    assert vitals["time"].diff().dt.total_seconds().tolist()[1:] == [3540, 60]
    path = tmp_path / "vitals.parquet"
    vitals.to_parquet(path)
    preds = pd.DataFrame({"stay_id": [7], "prediction_time": ["2026-03-29T03:30:00+02:00"]})
    got = window_features(path, preds, windows=["1h"], parameters=["heart_rate"]).iloc[0]
    assert got["heart_rate_1h_count"] == 2  # 01:59 (winter) and 03:00 (summer): 91 and 30 min
    assert got["heart_rate_1h_slope"] == pytest.approx(10 / (1 / 60))


def test_local_times_without_offset_say_why_they_go_backwards() -> None:
    # SYNTHETIC: the repeated hour written without offsets looks like times going back
    export = pd.DataFrame(
        {
            "stay_id": 1,
            "time": ["2026-10-25 02:30", "2026-10-25 02:45", "2026-10-25 02:15"],
            "parameter": "HR",
            "value": [80, 81, 82],
        }
    )
    message = OUT_OF_ORDER.format(source="<frame>", column="time", row=3)
    assert "summer time" in message
    with pytest.raises(DataError, match=re.escape(message)):
        clean_vitals(export)


@pytest.mark.parametrize("name", ["SpO2 %", "SpO2 (%)", "spo2 [%]", "O2 Sat", " SPO2 ", "SpO2-%"])
def test_parameter_names_with_unit_signs_are_recognised(name: str) -> None:
    export = pd.DataFrame(
        {"stay_id": [1], "time": ["2026-01-01T10:00"], "parameter": [name], "value": [0.97]}
    )
    frame, _ = clean_vitals(export, units={"spo2": "fraction"}, unit_column=None)
    assert frame["parameter"].tolist() == ["spo2"]
    assert frame["value"].tolist() == pytest.approx([97.0])


@pytest.fixture
def three_values() -> pd.DataFrame:
    # SYNTHETIC: 80, 90, 100/min at 00:30, 01:10, 01:50 UTC (slope 15/h)
    return pd.DataFrame(
        {
            "stay_id": [1, 1, 1],
            "time": pd.to_datetime(["2026-10-25 00:30", "2026-10-25 01:10", "2026-10-25 01:50"]),
            "parameter": "heart_rate",
            "value": [80.0, 90.0, 100.0],
        }
    )


def test_prediction_times_with_summer_and_winter_offsets(three_values) -> None:
    # was a pandas FutureWarning (an error under pandas 3) on mixed offsets
    preds = pd.DataFrame(
        {
            "stay_id": [1, 1],
            "prediction_time": ["2026-10-25T03:00:00+02:00", "2026-10-25T03:00+01:00"],
        }
    )
    got = window_features(three_values, preds, windows=["1h"], parameters=["heart_rate"])
    assert got["heart_rate_1h_count"].tolist() == [1, 2]  # 01:00 and 02:00 UTC


@pytest.mark.parametrize(
    ("times", "message"),
    [
        # was "1 row(s) have no valid time"
        (
            ["2026-10-25T02:00:00", "2026-10-25T03:00:00+01:00"],
            PREDICTION_MIXED_ZONES.format(
                column="prediction_time",
                examples=["2026-10-25T03:00:00+01:00", "2026-10-25T02:00:00"],
            ),
        ),
        # was guessed day- or month-first
        (
            ["2026-10-25T02:00:00", "05/10/2026 02:00"],
            PREDICTION_TIME_NOT_A_TIME.format(
                column="prediction_time", row=2, value="05/10/2026 02:00"
            ),
        ),
        # was read as nanoseconds since 1970, and then MemoryError
        (
            [1792893600, 1792897200],
            PREDICTION_TIME_NOT_A_TIME.format(column="prediction_time", row=1, value="1792893600"),
        ),
    ],
)
def test_prediction_times_that_are_not_instants_are_one_clear_line(
    three_values, times, message
) -> None:
    preds = pd.DataFrame({"stay_id": [1, 1], "prediction_time": times})
    with pytest.raises(DataError, match=re.escape(message)):
        window_features(three_values, preds, windows=["1h"], parameters=["heart_rate"])


def test_prediction_time_with_microseconds_is_computed_exactly(three_values) -> None:
    # was MemoryError (1.9 TiB for one-microsecond buckets), then an overflowed slope
    preds = pd.DataFrame(
        {"stay_id": [1], "prediction_time": [pd.Timestamp("2026-10-25 02:00:00.000001")]}
    )
    got = window_features(three_values, preds, windows=["24h"], parameters=["heart_rate"])
    assert got.loc[0, "heart_rate_24h_count"] == 3
    assert got.loc[0, "heart_rate_24h_slope"] == pytest.approx(15.0)


def test_a_prediction_without_stay_is_one_clear_line(three_values) -> None:
    # was IntCastingNaNError
    preds = pd.DataFrame({"stay_id": [np.nan, 1], "prediction_time": ["2026-10-25T02:00"] * 2})
    message = MISSING_PREDICTION_STAY.format(column="stay_id", count=1)
    with pytest.raises(DataError, match=re.escape(message)):
        window_features(three_values, preds, windows=["1h"], parameters=["heart_rate"])


@pytest.mark.parametrize("as_parquet", [False, True])
def test_text_stay_ids_match_integer_vitals(three_values, tmp_path, as_parquet) -> None:
    vitals: pd.DataFrame | Path = three_values
    if as_parquet:
        vitals = tmp_path / "vitals.parquet"
        three_values.to_parquet(vitals)
    preds = pd.DataFrame({"stay_id": ["1", "1.0"][:1], "prediction_time": ["2026-10-25T02:00"]})
    got = window_features(vitals, preds, windows=["1h"], parameters=["heart_rate"])
    assert got.loc[0, "heart_rate_1h_count"] == 2
    assert got.loc[0, "stay_id"] == "1"  # the prediction's own id is returned
    # an id that can be no integer could match nothing: was a DuckDB cast error quoting
    # the id (and, for a frame, the whole vitals table printed as the "file")
    preds = pd.DataFrame({"stay_id": [SECRET_STAY], "prediction_time": ["2026-10-25T02:00"]})
    message = STAY_TYPES_DIFFER.format(column="stay_id", count=1, kind="integer")
    with pytest.raises(DataError, match=re.escape(message)) as caught:
        window_features(vitals, preds, windows=["1h"], parameters=["heart_rate"])
    assert SECRET_STAY not in str(caught.value)


def test_integer_prediction_stays_match_text_vitals(three_values) -> None:
    # was a DuckDB cast error quoting the vitals' text id and printing the vitals table
    other = three_values.assign(stay_id=SECRET_STAY)
    vitals = pd.concat([three_values.assign(stay_id="1"), other], ignore_index=True)
    preds = pd.DataFrame({"stay_id": [1, 2], "prediction_time": ["2026-10-25T02:00"] * 2})
    got = window_features(vitals, preds, windows=["1h"], parameters=["heart_rate"])
    assert got["heart_rate_1h_count"].tolist() == [2, 0]


def test_an_unreadable_vitals_frame_shows_no_rows(three_values) -> None:
    vitals = three_values.assign(stay_id=SECRET_STAY, time=["x", "y", "z"])
    preds = pd.DataFrame({"stay_id": [SECRET_STAY], "prediction_time": ["2026-10-25T02:00"]})
    with pytest.raises(DataError, match="<vitals frame>") as caught:
        window_features(vitals, preds, windows=["1h"], parameters=["heart_rate"])
    assert SECRET_STAY not in str(caught.value)
    assert "heart_rate" not in str(caught.value)
