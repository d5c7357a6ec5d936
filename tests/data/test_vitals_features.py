"""Windowed vitals features: exact against a plain pandas implementation, and no look-ahead."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clinai.data._vitals_features import (
    BAD_ENGINE,
    BAD_WINDOW,
    ENGINES,
    GRID_NOT_APPLICABLE,
    window_feature_names,
    window_features,
    write_window_features,
)
from clinai.data._vitals_predictions import MISSING_PREDICTION_COLUMN
from clinai.exceptions import DataError

PARAMETERS = ["heart_rate", "spo2", "temperature"]
WINDOWS = ["1h", "6h", "24h"]


def reference_features(vitals: pd.DataFrame, preds: pd.DataFrame, parameters, windows):
    """The obvious implementation: filter rows per prediction and compute each statistic."""
    rows = []
    for stay, when in zip(preds["stay_id"], preds["prediction_time"], strict=True):
        row: dict[str, float] = {}
        stay_rows = vitals[(vitals.stay_id == stay) & (vitals.time < when)]
        for parameter in parameters:
            own = stay_rows[stay_rows.parameter == parameter].sort_values("time")
            row[f"{parameter}_last"] = own.value.iloc[-1] if len(own) else np.nan
            row[f"{parameter}_hours_since_last"] = (
                (when - own.time.iloc[-1]) / pd.Timedelta(hours=1) if len(own) else np.nan
            )
            for window in windows:
                inside = own[own.time >= when - pd.Timedelta(window)]
                hours = ((inside.time - when) / pd.Timedelta(hours=1)).to_numpy()
                values = inside.value.to_numpy()
                prefix = f"{parameter}_{window}_"
                row[prefix + "count"] = len(inside)
                row[prefix + "mean"] = values.mean() if len(values) else np.nan
                row[prefix + "min"] = values.min() if len(values) else np.nan
                row[prefix + "max"] = values.max() if len(values) else np.nan
                row[prefix + "slope"] = (
                    np.polyfit(hours, values, 1)[0] if len(np.unique(hours)) >= 2 else np.nan
                )
        rows.append(row)
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def vitals() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    parts = []
    start = pd.Timestamp("2024-03-01 06:00")
    for stay in range(1, 6):
        for parameter, every, mean in (
            ("heart_rate", 7, 80),
            ("spo2", 13, 96),
            ("temperature", 173, 37),
        ):
            n = int(36 * 60 / every)
            # irregular times with seconds, so buckets must be exact at any offset
            offsets = np.sort(rng.choice(36 * 3600, size=n, replace=False))
            parts.append(
                pd.DataFrame(
                    {
                        "stay_id": stay,
                        "time": start + pd.to_timedelta(offsets, unit="s"),
                        "parameter": parameter,
                        "value": mean + rng.normal(0, 3, n) + offsets / 3600 * 0.2 * stay,
                    }
                )
            )
    return pd.concat(parts, ignore_index=True).sort_values(["stay_id", "time"])


@pytest.fixture(scope="module")
def vitals_parquet(vitals: pd.DataFrame, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("vitals") / "vitals.parquet"
    vitals.to_parquet(path)
    return path


def _preds(times: list[str], stays: list[int] | None = None) -> pd.DataFrame:
    stamps = pd.to_datetime(times)
    return pd.DataFrame({"stay_id": stays or [1] * len(times), "prediction_time": stamps})


@pytest.mark.parametrize("engine", ["auto", "duckdb"])
@pytest.mark.parametrize(
    ("times", "auto_engine"),
    [
        # on the hour (bucket 1 h), at odd minutes (bucket narrows) and at odd seconds
        # (1 s buckets: the grid would be far larger than the data, so DuckDB computes)
        (["2024-03-01 08:00", "2024-03-01 12:00", "2024-03-02 06:00", "2024-03-03 00:00"], "grid"),
        (["2024-03-01 08:17", "2024-03-01 19:44", "2024-03-02 10:03"], "grid"),
        (["2024-03-01 09:00:07", "2024-03-02 11:31:59"], "duckdb"),
    ],
)
def test_matches_the_pandas_reference(vitals, vitals_parquet, times, auto_engine, engine) -> None:
    preds = pd.concat([_preds(times, [stay] * len(times)) for stay in (1, 3, 5)], ignore_index=True)
    got = window_features(
        vitals_parquet, preds, windows=WINDOWS, parameters=PARAMETERS, engine=engine
    )
    assert got.attrs["engine"] == (auto_engine if engine == "auto" else engine)
    expected = reference_features(vitals, preds, PARAMETERS, WINDOWS)
    names = window_feature_names(PARAMETERS, WINDOWS)
    assert list(got.columns) == ["stay_id", "prediction_time", "any_vitals_before", *names]
    pd.testing.assert_frame_equal(
        got[names], expected[names], check_dtype=False, rtol=1e-7, atol=1e-9
    )
    assert got["prediction_time"].tolist() == preds["prediction_time"].tolist()


def test_grid_engine_on_awkward_rows_matches_the_reference(vitals) -> None:
    """Rows the grid must ignore or order, in stay-contiguous input."""
    when = pd.Timestamp("2024-03-01 20:00")
    # (time, parameter, value) rows of stay 2, then one of stay 4 and one of stay 77
    rows = [
        (when, "heart_rate", 299.0),  # at the prediction time
        (when + pd.Timedelta(seconds=1), "spo2", 31.0),  # after it
        (when - pd.Timedelta(seconds=1), "heart_rate", 250.0),  # the latest before it ...
        (when - pd.Timedelta(minutes=20), "heart_rate", 240.0),  # ... but not last in file
        (when - pd.Timedelta(minutes=5), "sodium", 140.0),  # a parameter not asked for
        (when - pd.Timedelta(minutes=9), "spo2", np.nan),  # no value
        (pd.NaT, "spo2", 12.0),  # no time
        (when - pd.Timedelta(minutes=1), None, 55.0),  # no parameter (stay 4)
        (when - pd.Timedelta(minutes=1), "spo2", 80.0),  # a stay nobody predicts for
    ]
    extra = pd.DataFrame(rows, columns=["time", "parameter", "value"])
    extra.insert(0, "stay_id", [2] * 7 + [4, 77])
    awkward = pd.concat([vitals, extra], ignore_index=True).sort_values("stay_id", kind="stable")
    preds = _preds([str(when), str(when - pd.Timedelta(minutes=15))], [2, 4])
    got = window_features(awkward, preds, parameters=PARAMETERS, engine="grid")
    assert got.attrs["engine"] == "grid"
    clean = awkward.dropna(subset=["time", "value", "parameter"])
    expected = reference_features(clean, preds, PARAMETERS, WINDOWS)
    names = window_feature_names(PARAMETERS, WINDOWS)
    pd.testing.assert_frame_equal(
        got[names], expected[names], check_dtype=False, rtol=1e-7, atol=1e-9
    )
    assert got["heart_rate_last"].iloc[0] == 250.0  # the latest in time, not in file order
    duckdb = window_features(awkward, preds, parameters=PARAMETERS, engine="duckdb")
    pd.testing.assert_frame_equal(got[names], duckdb[names], rtol=1e-7, atol=1e-9)


def test_grid_engine_takes_rows_in_any_order_within_a_stay(vitals) -> None:
    """Shuffled rows inside each stay: every row starts a new bucket, the sums are the same."""
    rng = np.random.default_rng(11)
    shuffled = vitals.groupby("stay_id", group_keys=False).sample(frac=1.0, random_state=rng)
    shuffled = shuffled.reset_index(drop=True)
    preds = pd.concat(
        [_preds(["2024-03-01 09:45", "2024-03-02 13:00"], [s, s]) for s in (5, 1, 3)],
        ignore_index=True,
    )
    # a few hundred rows per unit: the grid's work arrays are reused at other sizes
    got = window_features(shuffled, preds, parameters=PARAMETERS, engine="grid", chunk_rows=300)
    assert got.attrs["engine"] == "grid"
    expected = reference_features(vitals, preds, PARAMETERS, WINDOWS)
    names = window_feature_names(PARAMETERS, WINDOWS)
    pd.testing.assert_frame_equal(
        got[names], expected[names], check_dtype=False, rtol=1e-7, atol=1e-9
    )


def test_a_stay_split_mid_stream_is_computed_again_by_duckdb(vitals, tmp_path) -> None:
    # stays 1..5 in order, then more rows of stay 1: found only at the end of the stream
    late = vitals[vitals.stay_id == 1].assign(time=lambda f: f.time + pd.Timedelta(days=3))
    split = pd.concat([vitals, late], ignore_index=True)
    path = tmp_path / "split.parquet"
    split.to_parquet(path, row_group_size=500)
    preds = pd.concat(
        [_preds(["2024-03-01 09:00", "2024-03-04 12:00"], [s, s]) for s in (1, 2, 3, 4, 5)],
        ignore_index=True,
    )
    out = tmp_path / "features.parquet"
    summary = write_window_features(path, preds, out, parameters=PARAMETERS, chunk_rows=300)
    assert summary.engine == "duckdb"
    written = pd.read_parquet(out)
    assert sorted(written["pred_row"]) == list(range(len(preds)))  # each row once
    expected = reference_features(split, preds, PARAMETERS, WINDOWS)
    names = list(summary.columns)
    pd.testing.assert_frame_equal(
        written.sort_values("pred_row").reset_index(drop=True)[names],
        expected[names],
        check_dtype=False,
        rtol=1e-7,
        atol=1e-9,
    )
    with pytest.raises(DataError, match=re.escape(GRID_NOT_APPLICABLE)):
        write_window_features(path, preds, tmp_path / "grid.parquet", engine="grid")
    assert not list(tmp_path.glob("grid.parquet*"))  # nothing half-written


def test_an_unknown_engine_is_one_clear_line(vitals) -> None:
    with pytest.raises(
        DataError, match=re.escape(BAD_ENGINE.format(value="spark", known=list(ENGINES)))
    ):
        window_features(vitals, _preds(["2024-03-01 12:00"]), engine="spark")


def test_dataframe_input_equals_parquet_input(vitals, vitals_parquet) -> None:
    preds = _preds(["2024-03-01 12:00", "2024-03-02 01:30"])
    a = window_features(vitals, preds, parameters=PARAMETERS)
    b = window_features(vitals_parquet, preds, parameters=PARAMETERS)
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize(
    "offset", [pd.Timedelta(seconds=1), pd.Timedelta(0), pd.Timedelta(hours=30)]
)
def test_a_value_at_or_after_the_prediction_time_changes_nothing(vitals, offset) -> None:
    when = pd.Timestamp("2024-03-01 20:00")
    preds = _preds([str(when)], [2])
    before = window_features(vitals, preds, parameters=PARAMETERS)
    spike = pd.DataFrame(
        {
            "stay_id": [2] * 3,
            "time": [when + offset] * 3,
            "parameter": PARAMETERS,
            "value": [299.0, 31.0, 44.0],
        }
    )
    poisoned = pd.concat([vitals, spike], ignore_index=True)
    after = window_features(poisoned, preds, parameters=PARAMETERS)
    pd.testing.assert_frame_equal(before, after)


def test_a_value_one_microsecond_before_enters(vitals) -> None:
    when = pd.Timestamp("2024-03-01 20:00")
    spike = pd.DataFrame(
        {
            "stay_id": [2],
            "time": [when - pd.Timedelta(microseconds=1)],
            "parameter": ["heart_rate"],
            "value": [299.0],
        }
    )
    got = window_features(
        pd.concat([vitals, spike]),
        _preds([str(when)], [2]),
        parameters=["heart_rate"],
        windows=["1h"],
    )
    assert got["heart_rate_last"].iloc[0] == 299.0
    assert got["heart_rate_1h_max"].iloc[0] == 299.0


def test_window_start_is_inclusive(vitals) -> None:
    when = pd.Timestamp("2024-03-05 12:00")
    edge = pd.DataFrame(
        {
            "stay_id": [9, 9],
            "parameter": "heart_rate",
            "value": [50.0, 60.0],
            "time": [when - pd.Timedelta(hours=1), when - pd.Timedelta(hours=1, microseconds=1)],
        }
    )
    got = window_features(edge, _preds([str(when)], [9]), parameters=["heart_rate"], windows=["1h"])
    assert got["heart_rate_1h_count"].iloc[0] == 1
    assert got["heart_rate_1h_mean"].iloc[0] == 50.0


def test_stay_without_vitals_is_kept_with_count_zero_and_reported(vitals, caplog) -> None:
    preds = pd.concat(
        [
            _preds(["2024-03-01 05:00"], [1]),  # before the first measurement
            _preds(["2024-03-01 12:00"], [99]),  # a stay with no vitals at all
            _preds(["2024-03-01 12:00"], [1]),
        ],
        ignore_index=True,
    )
    with caplog.at_level(logging.WARNING, logger="clinai.data._vitals_features"):
        got = window_features(vitals, preds, parameters=PARAMETERS)
    assert len(got) == 3
    assert got["any_vitals_before"].tolist() == [False, False, True]
    assert got.attrs["n_without_vitals"] == 2
    assert (got.loc[:1, [c for c in got if c.endswith("_count")]] == 0).all().all()
    assert got.loc[:1, "heart_rate_24h_mean"].isna().all()
    assert "2 of 3 prediction times have no vital signs before them" in caplog.text


def test_write_window_features_streams_to_parquet(vitals_parquet, tmp_path) -> None:
    preds = pd.concat(
        [_preds(["2024-03-01 04:00", "2024-03-02 00:00"], [s, s]) for s in (1, 2)],
        ignore_index=True,
    )
    out = tmp_path / "features.parquet"
    summary = write_window_features(vitals_parquet, preds, out, parameters=PARAMETERS)
    assert summary.n_prediction_times == 4
    assert summary.n_without_vitals == 2
    assert summary.bucket_seconds == 3600
    written = pd.read_parquet(out).sort_values("pred_row").reset_index(drop=True)
    direct = window_features(vitals_parquet, preds, parameters=PARAMETERS)
    pd.testing.assert_frame_equal(
        written[list(summary.columns)], direct[list(summary.columns)], check_dtype=False
    )
    assert summary.to_dict()["n_prediction_times"] == 4


def test_bad_input_is_one_clear_line(vitals) -> None:
    with pytest.raises(
        DataError,
        match=re.escape(
            MISSING_PREDICTION_COLUMN.format(
                column="prediction_time", stay="stay_id", time="prediction_time"
            )
        ),
    ):
        window_features(vitals, pd.DataFrame({"stay_id": [1]}))
    with pytest.raises(DataError, match=re.escape(BAD_WINDOW.format(value="soon"))):
        window_features(vitals, _preds(["2024-03-01"]), windows=["soon"])
    with pytest.raises(DataError, match=re.escape("vitals Parquet 'nowhere.parquet' not found")):
        window_features("nowhere.parquet", _preds(["2024-03-01"]))


def test_chunking_does_not_change_anything(vitals) -> None:
    preds = pd.concat(
        [_preds(["2024-03-01 09:00", "2024-03-02 13:00"], [s, s]) for s in (5, 1, 3, 2, 4)],
        ignore_index=True,
    )
    whole = window_features(vitals, preds, parameters=PARAMETERS)
    # a few hundred bucket rows per chunk: every stay boundary is a cut
    pieces = window_features(vitals, preds, parameters=PARAMETERS, chunk_rows=300)
    pd.testing.assert_frame_equal(whole, pieces)


def test_slopes_stay_exact_late_in_a_long_stay() -> None:
    rng = np.random.default_rng(3)
    minutes = np.arange(0, 30 * 24 * 60, 1)
    times = pd.Timestamp("2024-01-01") + pd.to_timedelta(minutes, unit="min")
    vitals = pd.DataFrame(
        {
            "stay_id": 1,
            "time": times,
            "parameter": "heart_rate",
            "value": 70 + minutes / 600 + rng.normal(0, 5, len(minutes)),
        }
    )
    preds = _preds(["2024-01-30 12:00", "2024-01-30 12:15"], [1, 1])
    got = window_features(vitals, preds, parameters=["heart_rate"], windows=["15min", "1h"])
    expected = reference_features(vitals, preds, ["heart_rate"], ["15min", "1h"])
    for name in ("heart_rate_15min_slope", "heart_rate_1h_slope"):
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-7)


def test_a_damaged_parquet_file_is_one_clear_line(vitals, tmp_path) -> None:
    path = tmp_path / "damaged.parquet"
    vitals.to_parquet(path, row_group_size=500)
    data = bytearray(path.read_bytes())
    data[2000:6000] = b"\x00" * 4000  # inside the first row groups' pages; the footer is intact
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match=re.escape(f"vitals Parquet '{path}' cannot be read")):
        window_features(path, _preds(["2024-03-01 12:00"]), parameters=PARAMETERS, engine="grid")
