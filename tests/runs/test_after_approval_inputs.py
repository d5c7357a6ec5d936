"""Hand-typed scoring and outcomes files after approval: each mistake stops in one line.

Found by scoring and monitoring an approved binary model on GBSG2 (scikit-survival) with
integer patient ids in a CSV. Before: an ``inf`` in a feature ended in 'internal error'
(exit 1); an empty patient id was pseudonymised as the text ``nan`` (all such rows one
patient); a decimal id column (Parquet) gave pseudonyms no outcome could match; a
day/month/year date was guessed (day and month may swap) or, in an outcomes file, a
text that is no time ended in 'internal error'; outcome times with summer and winter
offsets ended in 'internal error: AttributeError'; a row without a prediction time was
scored and filed under the scoring month; an extract holding a row twice was scored
twice; a categorical feature empty on every row was called 'numeric'.
"""

from __future__ import annotations

import re
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clinai.data import pseudonymise
from clinai.exceptions import DataError
from clinai.runs._monitor_inputs import read_stream
from clinai.runs._monitor_outcomes import attach_outcomes
from clinai.runs._score import BAD_TIMES, MISSING_TIMES, _prediction_times
from clinai.runs._score_table import (
    BAD_TIME_FORMAT,
    DUPLICATE_ROWS,
    FEATURE_NOT_FINITE,
    ID_DECIMAL,
    ID_MISSING,
    check_identifiers,
    check_model_inputs,
    iso_times,
    select_rows,
)

KEY = b"after-approval-test-key"
SCHEMA = [{"name": "age", "type": "double"}, {"name": "tgrade", "type": "string"}]
IDS = [100578, 100591, 100127, 100002]
TIMES = ["2025-01-03 08:00:00", "2025-01-17 09:30:00", "2025-02-02 10:00:00", "2025-02-20 23:00:00"]


def _timed_pipeline() -> types.ModuleType:
    pipeline = types.ModuleType("timed")
    pipeline.PREDICTION_TIME = "admitted"  # type: ignore[attr-defined]
    return pipeline


def test_an_infinite_feature_is_refused_naming_the_column() -> None:
    X = pd.DataFrame({"age": [50.0, np.inf, 61.0], "tgrade": ["I", "II", "III"]})
    message = FEATURE_NOT_FINITE.format(column="age", count=1, version="1", name="m")
    with pytest.raises(DataError, match=re.escape(message)):
        check_model_inputs(X, SCHEMA, name="m", version="1")


def test_a_text_feature_empty_on_every_row_is_fed_as_text() -> None:
    X = pd.DataFrame({"age": [50.0, 61.0], "tgrade": [np.nan, np.nan]})
    fed = check_model_inputs(X, SCHEMA, name="m", version="1")
    assert fed["tgrade"].dtype == object and fed["tgrade"].isna().all()


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        (
            pd.Series(["101", None, "103"]),
            ID_MISSING.format(column="pid", where="w", count=1, row=2),
        ),
        (
            pd.Series(["101", " ", "103"]),
            ID_MISSING.format(column="pid", where="w", count=1, row=2),
        ),
        (pd.Series([101.0, 102.0]), ID_DECIMAL.format(column="pid", where="w")),
    ],
)
def test_identifiers_that_cannot_be_pseudonymised_as_at_training(
    ids: pd.Series, message: str
) -> None:
    with pytest.raises(DataError, match=re.escape(message)) as caught:
        check_identifiers(ids, column="pid", where="w")
    assert "101" not in str(caught.value)
    check_identifiers(pd.Series(IDS), column="pid", where="w")  # whole numbers are fine


def test_prediction_times_are_iso_8601_and_present() -> None:
    pipeline = _timed_pipeline()
    iso = pd.DataFrame({"admitted": ["2025-01-03T08:00", "2025-01-04", "2025-01-05 10:00:00"]})
    times = _prediction_times(pipeline, iso, name="timed")
    assert times is not None and list(times.dt.day) == [3, 4, 5]
    day_first = pd.DataFrame({"admitted": ["13/01/2025 08:00", "02/01/2025 09:00"]})
    with pytest.raises(
        DataError, match=re.escape(BAD_TIMES.format(column="admitted", pipeline="timed"))
    ):
        _prediction_times(pipeline, day_first, name="timed")
    missing = pd.DataFrame({"admitted": ["2025-01-03T08:00", None, None]})
    expected = MISSING_TIMES.format(column="admitted", pipeline="timed", count=2, row=2)
    with pytest.raises(DataError, match=re.escape(expected)):
        _prediction_times(pipeline, missing, name="timed")


def test_a_row_given_twice_is_refused_before_scoring(tmp_path: Path) -> None:
    cohort = pd.DataFrame({"pid": ["a", "b", "a"]})
    times = pd.Series(pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-01"]))
    with pytest.raises(DataError, match=re.escape(DUPLICATE_ROWS.format(count=1, row=3))):
        select_rows(
            cohort,
            times,
            patient_column="pid",
            pipeline="p",
            existing=None,
            since=None,
            out=tmp_path / "o.parquet",
        )


def _scored(tmp_path: Path) -> Path:
    """A predictions file as ``clinai score`` writes it for four patients."""
    path = tmp_path / "scored.parquet"
    pd.DataFrame(
        {
            "patient_id": pseudonymise(pd.Series([str(i) for i in IDS]), key=KEY),
            "prediction_time": pd.to_datetime(TIMES).astype("datetime64[us]"),
            "risk": [0.1, 0.3, 0.2, 0.6],
            "model_name": "m",
            "model_version": "1",
            "scored_at": pd.Timestamp("2025-03-01").as_unit("us"),
        }
    ).to_parquet(path, index=False)
    return path


def _outcomes(tmp_path: Path, times: list[str | None], ids: object = IDS) -> Path:
    path = tmp_path / "outcomes.csv"
    frame = pd.DataFrame({"pid": ids, "prediction_time": times, "outcome": [0, 1, 0, 1]})
    frame.to_csv(path, index=False)
    return path


def test_outcome_times_that_are_no_times_stop_in_one_line(tmp_path: Path) -> None:
    stream = read_stream([_scored(tmp_path)], period="month", subgroups=[])
    path = _outcomes(tmp_path, [TIMES[0], "garbage", TIMES[2], TIMES[3]])
    message = BAD_TIME_FORMAT.format(
        column="prediction_time", where=f"outcomes file {path}", count=1, row=2
    )
    with pytest.raises(DataError, match=re.escape(message)):
        attach_outcomes(stream, path, patient_column="pid", key=KEY)


def test_outcome_times_with_summer_and_winter_offsets_are_matched_in_utc(
    tmp_path: Path,
) -> None:
    scored = _scored(tmp_path)
    stream = read_stream([scored], period="month", subgroups=[])
    # the scored times are UTC; the outcomes system writes Copenhagen time with its offset
    local = pd.to_datetime(TIMES).tz_localize("UTC").tz_convert("Europe/Copenhagen")
    attach_outcomes(
        stream, _outcomes(tmp_path, [str(t) for t in local]), patient_column="pid", key=KEY
    )
    np.testing.assert_array_equal(stream.outcome, [0.0, 1.0, 0.0, 1.0])


def test_decimal_ids_in_an_outcomes_parquet_are_named_not_called_unscored(
    tmp_path: Path,
) -> None:
    stream = read_stream([_scored(tmp_path)], period="month", subgroups=[])
    path = tmp_path / "outcomes.parquet"
    pd.DataFrame(
        {"pid": [float(i) for i in IDS], "prediction_time": TIMES, "outcome": [0, 1, 0, 1]}
    ).to_parquet(path)
    message = ID_DECIMAL.format(column="pid", where=f"outcomes file {path}")
    with pytest.raises(DataError, match=re.escape(message)):
        attach_outcomes(stream, path, patient_column="pid", key=KEY)


def test_iso_times_keeps_a_date_without_a_zone_naive() -> None:
    # a date's own '-02' is no UTC offset
    parsed = iso_times(pd.Series(["2025-01-02", "2025-01-02T03:00"]), column="t", where="w")
    assert parsed.dt.tz is None and list(parsed.dt.hour) == [0, 3]
