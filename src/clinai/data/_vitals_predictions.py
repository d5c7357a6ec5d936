"""Prediction times for window features: each a stay and an instant, checked in one line.

:func:`clinai.data.window_features` takes the prediction times as a frame of stay ids and
times. Their times follow the vitals' rules (ISO 8601 text, each row's own offset, zoned
and unzoned times not mixed), and their stay ids are given the type of the vitals'
``stay_id`` so that equal ids join whatever the file stored them as.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from clinai.data._vitals import TimesNotParsed, to_naive_utc
from clinai.data._vitals_arrow import vitals_paths
from clinai.exceptions import DataError

__all__ = [
    "BAD_PREDICTION_TIME",
    "MISSING_PREDICTION_COLUMN",
    "MISSING_PREDICTION_STAY",
    "PREDICTION_MIXED_ZONES",
    "PREDICTION_TIME_NOT_A_TIME",
    "STAY_TYPES_DIFFER",
    "align_stays",
    "prediction_frame",
    "vitals_stay_kind",
]

MISSING_PREDICTION_COLUMN = (
    "prediction times lack column '{column}': pass a frame with columns "
    "'{stay}' and '{time}' (or name them with stay_column= and time_column=)"
)
BAD_PREDICTION_TIME = (
    "prediction times, column '{column}': {count} row(s) have no valid time: "
    "drop them or give every prediction a time"
)
PREDICTION_TIME_NOT_A_TIME = (
    "prediction times, column '{column}': data row {row} has time {value!r}, which is not "
    "a date-time: use ISO 8601 such as 2024-01-31T14:05:00 (with an offset such as +01:00 "
    "for local times)"
)
PREDICTION_MIXED_ZONES = (
    "prediction times, column '{column}': times mix time zones ({examples}): give every "
    "time the same zone or offset, or none"
)
MISSING_PREDICTION_STAY = (
    "prediction times, column '{column}': {count} row(s) have no stay id: drop them or give "
    "every prediction its stay"
)
STAY_TYPES_DIFFER = (
    "prediction times, column '{column}': {count} stay id(s) are not {kind}s, but the vitals' "
    "stay_id column holds {kind}s, so they could match no vitals: give both tables the same "
    "kind of stay id (e.g. read the stay column of both as text)"
)


def prediction_frame(
    prediction_times: pd.DataFrame, stay_column: str, time_column: str
) -> pd.DataFrame:
    """Return ``pred_row``, ``stay_id`` and ``t_us`` (UTC microseconds) of the prediction times.

    Raises
    ------
    DataError
        One line naming the column: a column missing, a time that is not an instant or
        missing, zones mixed, or a stay id missing.
    """
    for column in (stay_column, time_column):
        if column not in prediction_times.columns:
            raise DataError(
                MISSING_PREDICTION_COLUMN.format(column=column, stay=stay_column, time=time_column)
            )
    try:
        # the vitals' rules: ISO 8601 text (no guessed day/month order, no numbers), each
        # row's own offset (summer and winter time), zoned and unzoned times not mixed
        times, _ = to_naive_utc(prediction_times[time_column].reset_index(drop=True))
    except TimesNotParsed as exc:
        if exc.kind == "mixed":
            raise DataError(
                PREDICTION_MIXED_ZONES.format(column=time_column, examples=exc.examples)
            ) from None
        raise DataError(
            PREDICTION_TIME_NOT_A_TIME.format(
                column=time_column, row=exc.row, value=exc.examples[0]
            )
        ) from None
    if times.isna().any():
        raise DataError(
            BAD_PREDICTION_TIME.format(column=time_column, count=int(times.isna().sum()))
        )
    stays = prediction_times[stay_column]
    if stays.isna().any():
        raise DataError(
            MISSING_PREDICTION_STAY.format(column=stay_column, count=int(stays.isna().sum()))
        )
    epoch_us = times.to_numpy().astype("datetime64[us]").astype(np.int64)
    return pd.DataFrame(
        {
            "pred_row": np.arange(len(prediction_times), dtype=np.int64),
            "stay_id": stays.to_numpy(),
            "t_us": epoch_us,
        }
    )


def vitals_stay_kind(vitals: str | Path | Sequence[str | Path] | pd.DataFrame) -> str | None:
    """``"integer"``, ``"float"`` or ``"text"``: the type of the vitals' stay_id (None: unknown)."""
    if isinstance(vitals, pd.DataFrame):
        if "stay_id" not in vitals.columns:
            return None
        dtype = vitals["stay_id"].dtype
        if pd.api.types.is_bool_dtype(dtype):
            return None
        if pd.api.types.is_integer_dtype(dtype):
            return "integer"
        if pd.api.types.is_float_dtype(dtype):
            return "float"
        present = vitals["stay_id"].dropna()
        if pd.api.types.is_string_dtype(dtype) and all(
            isinstance(value, str) for value in present.iloc[:100]
        ):
            return "text"
        return None
    import pyarrow as pa
    import pyarrow.parquet as pq

    paths = vitals_paths(vitals)
    if not paths:
        return None
    try:
        schema = pq.read_schema(paths[0])
    except (OSError, pa.ArrowException):
        return None  # read later, with a clear error
    if "stay_id" not in schema.names:
        return None
    stay = schema.field("stay_id").type
    if pa.types.is_dictionary(stay):
        stay = stay.value_type
    if pa.types.is_integer(stay):
        return "integer"
    if pa.types.is_floating(stay):
        return "float"
    if pa.types.is_string(stay) or pa.types.is_large_string(stay):
        return "text"
    return None


_INTEGER_TEXT = re.compile(r"^[+-]?\d+$")


def align_stays(stays: pd.Series, kind: str | None, column: str) -> pd.Series:
    """Give the prediction stay ids the type of the vitals' stay_id, so equal ids match.

    Against integer vitals, text ids that spell an integer match it ("1" and "01" match
    1); against text vitals, integers match their decimal text (1 matches "1", not
    "01"); integral floats count as integers. An id that cannot have the vitals' type
    (text "A7" against integer vitals) is refused: it could match nothing.
    """
    if kind is None or len(stays) == 0:
        return stays
    values = pd.Series(stays.to_numpy())
    numeric = pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
        values.dtype
    )
    if kind == "text":
        if pd.api.types.is_integer_dtype(values.dtype):
            return values.astype(str).astype(object)
        if pd.api.types.is_float_dtype(values.dtype) and bool((values % 1 == 0).all()):
            return values.astype(np.int64).astype(str).astype(object)
        return values
    if numeric:
        if kind == "integer" and pd.api.types.is_float_dtype(values.dtype):
            integral = values % 1 == 0
            if not integral.all():
                raise DataError(
                    STAY_TYPES_DIFFER.format(
                        column=column, count=int((~integral).sum()), kind="integer"
                    )
                )
            return values.astype(np.int64)
        return values
    text = values.astype(str).str.strip()
    if kind == "integer":
        fits = text.str.match(_INTEGER_TEXT)
        converted = pd.to_numeric(text.where(fits), errors="coerce")
    else:
        converted = pd.to_numeric(text, errors="coerce")
        fits = converted.notna()
    if not fits.all():
        word = "integer" if kind == "integer" else "number"
        raise DataError(
            STAY_TYPES_DIFFER.format(column=column, count=int((~fits).sum()), kind=word)
        )
    return converted.astype(np.int64 if kind == "integer" else float)
