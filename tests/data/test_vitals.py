"""Vitals ingest: aliases, units, plausibility, artefacts, counted drops and clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clinai.data._vitals import (
    MIXED_ZONES,
    NO_COLUMN,
    OUT_OF_ORDER,
    PLAUSIBLE_RANGES,
    UNKNOWN_PARAMETER,
    UNKNOWN_UNIT,
    clean_vitals,
    read_vitals,
)
from clinai.exceptions import DataError


def _long(rows: list[tuple], *, unit: bool = True) -> pd.DataFrame:
    columns = ["stay_id", "time", "parameter", "value", "unit"]
    frame = pd.DataFrame(rows, columns=columns[: len(rows[0])])
    return frame if unit else frame.drop(columns="unit", errors="ignore")


def test_long_csv_units_aliases_and_counts(tmp_path: Path) -> None:
    path = tmp_path / "vitals.csv"
    _long(
        [
            (1, "2024-01-01T10:00:00", "HR", 80, "bpm"),
            (1, "2024-01-01T10:00:00", "Temp", 98.6, "degF"),
            (1, "2024-01-01T10:00:00", "systolic", 16, "kPa"),
            (1, "2024-01-01T10:00:00", "Diastolic", 60, "mmHg"),
            (1, "2024-01-01T10:01:00", "SpO2", 0.95, "fraction"),
            (1, "2024-01-01T10:02:00", "AVPU", "Confused", ""),
            (1, "2024-01-01T10:02:00", "o2 flow", 2, "L/min"),
            (2, "2024-01-01T11:00:00", "resp rate", 18, "/min"),
            (2, "2024-01-01T11:00:00", "8867-4", None, "/min"),
        ]
    ).to_csv(path, index=False)
    frame, report = read_vitals(path, aliases={"resp rate": "resp_rate"})
    got = {(r.stay_id, r.parameter): round(r.value, 3) for r in frame.itertuples()}
    assert got == {
        (1, "heart_rate"): 80.0,
        (1, "temperature"): 37.0,
        (1, "sbp"): round(16 * 7.500617, 3),
        (1, "dbp"): 60.0,
        (1, "spo2"): 95.0,
        (1, "consciousness"): 1.0,
        (1, "supplemental_oxygen"): 1.0,
        (2, "resp_rate"): 18.0,
    }
    assert report.values_in == 9
    assert report.values_out == 8
    assert report.n_dropped("heart_rate", "missing_value") == 1
    assert report.to_dict()["changed"] == {
        "consciousness": {"text_to_code": 1},
        "sbp": {"kpa_to_mmhg": 1},
        "spo2": {"fraction_to_percent": 1},
        "supplemental_oxygen": {"flow_to_flag": 1},
        "temperature": {"degf_to_degc": 1},
    }
    assert report.stays == 2
    assert list(frame.columns) == ["stay_id", "time", "parameter", "value"]


def test_wide_parquet_with_units_mapping(tmp_path: Path) -> None:
    path = tmp_path / "wide.parquet"
    pd.DataFrame(
        {
            "stay_id": ["a", "a", "b"],
            "time": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:01", "2024-01-01 09:00"]),
            "Pulse": [72.0, np.nan, 500.0],
            "SpO2": [0.98, 0.5, np.nan],
            "temp": [100.4, np.nan, 37.0],
        }
    ).to_parquet(path)
    frame, report = read_vitals(path, units={"spo2": "fraction", "temp": "degF"})
    assert report.format == "wide"
    assert report.values_in == 6  # non-empty cells
    assert report.n_dropped("heart_rate", "implausible") == 1  # 500/min
    # 0.5 -> 50 %, inside the range, no heart rate at 10:01 so no artefact rule
    assert sorted(frame.loc[frame.parameter == "spo2", "value"].round(1)) == [50.0, 98.0]
    # 37.0 labelled degF converts to 2.8 degC: implausible, dropped and counted
    assert report.n_dropped("temperature", "implausible") == 1
    assert report.values_in - report.values_out == report.n_dropped()


def test_every_plausibility_bound_is_inclusive() -> None:
    rows = []
    for i, (parameter, (low, high)) in enumerate(PLAUSIBLE_RANGES.items()):
        if parameter == "gcs":
            low, high = 3, 15
        for j, value in enumerate((low, high, low - 1, high + 1)):
            rows.append((i, pd.Timestamp("2024-01-01") + pd.Timedelta(minutes=j), parameter, value))
    frame, report = clean_vitals(_long(rows, unit=False), unit_column=None)
    for parameter in PLAUSIBLE_RANGES:
        assert report.n_dropped(parameter, "implausible") == 2, parameter
        assert (frame.parameter == parameter).sum() == 2


def test_artefact_rules() -> None:
    t0, t1 = "2024-01-01T10:00:00", "2024-01-01T10:01:00"
    frame, report = clean_vitals(
        _long(
            [
                (1, t0, "spo2", 40.0),
                (1, t0, "heart_rate", 80.0),  # probe off: dropped
                (1, t1, "spo2", 40.0),
                (1, t1, "heart_rate", 35.0),  # bradycardic: real, kept
                (2, t0, "sbp", 80.0),
                (2, t0, "dbp", 80.0),  # sbp <= dbp: both dropped
                (2, t1, "sbp", 81.0),
                (2, t1, "dbp", 80.0),
                (2, t1, "sbp", 90.0),  # duplicate of the same minute: the first is kept
            ],
            unit=False,
        ),
        unit_column=None,
    )
    assert report.n_dropped("spo2", "spo2_artefact") == 1
    assert report.n_dropped("sbp", "sbp_not_above_dbp") == 1
    assert report.n_dropped("dbp", "sbp_not_above_dbp") == 1
    assert report.n_dropped("sbp", "duplicate") == 1
    kept = frame.loc[(frame.stay_id == 2) & (frame.parameter == "sbp"), "value"].tolist()
    assert kept == [81.0]
    assert report.values_out == 5


def test_time_zones_converted_to_utc_and_counted() -> None:
    frame, report = clean_vitals(
        _long(
            [
                (1, "2024-03-31T01:00:00+01:00", "heart_rate", 70.0),
                (1, "2024-03-31T03:30:00+02:00", "heart_rate", 71.0),
            ],
            unit=False,
        ),
        unit_column=None,
    )
    assert frame.time.tolist() == [
        pd.Timestamp("2024-03-31 00:00"),
        pd.Timestamp("2024-03-31 01:30"),
    ]
    assert report.n_changed(rule="to_utc") == 2


def test_unknown_parameters_can_be_dropped_and_are_counted() -> None:
    frame, report = clean_vitals(
        _long(
            [(1, "2024-01-01T10:00", "heart_rate", 70.0), (1, "2024-01-01T10:00", "etco2", 5)],
            unit=False,
        ),
        unknown_parameters="drop",
    )
    assert len(frame) == 1
    assert report.to_dict()["dropped"] == {"etco2": {"unknown_parameter": 1}}


def test_report_is_frozen_and_holds_no_identifiers() -> None:
    _, report = clean_vitals(_long([("patient-XYZ", "2024-01-01T10:00", "hr", 70.0)], unit=False))
    with pytest.raises(AttributeError):
        report.values_out = 3  # type: ignore[misc]
    assert "patient-XYZ" not in repr(report.to_dict())


def test_no_time_column_names_file_and_column(tmp_path: Path) -> None:
    path = tmp_path / "v.csv"
    pd.DataFrame({"stay_id": [1], "parameter": ["hr"], "value": [70]}).to_csv(path, index=False)
    message = NO_COLUMN.format(
        source="v.csv",
        what="time",
        column="time",
        option="time_column",
        found=["stay_id", "parameter", "value"],
    )
    with pytest.raises(DataError, match=re.escape(message)):
        read_vitals(path)


def test_out_of_order_times_stop_unless_sorted(tmp_path: Path) -> None:
    path = tmp_path / "v.csv"
    _long(
        [
            (1, "2024-01-01T10:05", "hr", 70),
            (2, "2024-01-01T09:00", "hr", 70),
            (1, "2024-01-01T10:00", "hr", 72),
        ],
        unit=False,
    ).to_csv(path, index=False)
    with pytest.raises(
        DataError, match=re.escape(OUT_OF_ORDER.format(source="v.csv", column="time", row=3))
    ):
        read_vitals(path)
    frame, _ = read_vitals(path, sort=True)
    assert frame.loc[frame.stay_id == 1, "value"].tolist() == [72.0, 70.0]


def test_mixed_zones_stop(tmp_path: Path) -> None:
    path = tmp_path / "v.csv"
    _long(
        [(1, "2024-01-01T10:00:00Z", "hr", 70), (1, "2024-01-01T10:05:00", "hr", 70)], unit=False
    ).to_csv(path, index=False)
    message = MIXED_ZONES.format(
        source="v.csv", column="time", examples=["2024-01-01T10:00:00Z", "2024-01-01T10:05:00"]
    )
    with pytest.raises(DataError, match=re.escape(message)):
        read_vitals(path)


def test_unknown_unit_and_parameter_stop(tmp_path: Path) -> None:
    path = tmp_path / "v.csv"
    _long([(1, "2024-01-01T10:00", "temperature", 310, "K")]).to_csv(path, index=False)
    with pytest.raises(
        DataError, match=re.escape("column 'unit': unknown unit 'K' for temperature")
    ):
        read_vitals(path)
    assert UNKNOWN_UNIT.startswith("vitals file '{source}'")
    _long([(1, "2024-01-01T10:00", "lactate", 2.0, "mmol/L")]).to_csv(path, index=False)
    with pytest.raises(
        DataError, match=re.escape("column 'parameter': unknown parameter 'lactate'")
    ):
        read_vitals(path)
    assert UNKNOWN_PARAMETER.startswith("vitals file '{source}', column '{column}'")
