"""``clinai monitor``'s outcomes file: raw ids pseudonymised, matched to the scored predictions.

The outcomes arrive later than the predictions, keyed by the raw patient identifier
(``data.patient_id``) and, where the predictions have one, the prediction time. The
identifiers are pseudonymised with the keyed HMAC the scoring used
(``CLINAI_PSEUDONYM_KEY``) and matched through the predictions' pseudonym
dictionary; an outcome that matches no scored prediction stops the pass.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from clinai.data import read_table
from clinai.exceptions import DataError
from clinai.runs._monitor_inputs import NAT, Stream, file_sha256
from clinai.runs._score_table import check_identifiers, iso_times

__all__ = ["attach_outcomes"]

OUTCOMES_MISSING = "outcomes file {path} does not exist: pass a CSV or Parquet file"
OUTCOMES_FORMAT = "outcomes file {path} must be .csv or .parquet; got {suffix!r}"
OUTCOMES_COLUMNS = (
    "outcomes file {path} lacks column(s) {columns}: it needs the patient identifier "
    "(data.patient_id), {time}and 'outcome' (0 or 1)"
)
OUTCOMES_VALUES = (
    "column 'outcome' of outcomes file {path} has {count} value(s) other than 0 and 1: "
    "give 0 (no event) or 1 (event) on every row"
)
OUTCOMES_NEED_IDS = (
    "the config has no data.patient_id, so outcomes cannot be matched to predictions: "
    "leave out --outcomes or score with data.patient_id set"
)
OUTCOMES_NEED_KEY = (
    "CLINAI_PSEUDONYM_KEY is not set: outcomes are matched to predictions by the keyed "
    "pseudonym the scoring used; export the same key"
)
OUTCOMES_UNSCORED = (
    "{count} outcome row(s) name patients or prediction times that were never scored "
    "(e.g. row {row} of {path}): pass the outcomes of the scored predictions only, or "
    "score those patients first"
)
OUTCOMES_DUPLICATED = (
    "{count} outcome row(s) of {path} repeat a patient and prediction time: give one "
    "outcome per prediction"
)
OUTCOMES_NO_EVENT = (
    "outcomes file {path} has no event (no outcome 1) at all: check the outcome coding "
    "(1 = event); without outcomes leave out --outcomes (performance is then estimated)"
)


def _read_outcomes(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(OUTCOMES_MISSING.format(path=path))
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise DataError(OUTCOMES_FORMAT.format(path=path, suffix=suffix))
    return read_table(path, text=True)  # ids as written: pseudonymised from their text


def attach_outcomes(
    stream: Stream, path: str | Path, *, patient_column: str | None, key: bytes | None
) -> None:
    """Replace the stream's outcomes by those of an outcomes file (raw ids pseudonymised).

    Raises
    ------
    DataError
        A missing or unreadable file or column, values other than 0/1, no patient
        column in the config or no pseudonymisation key, an empty or decimal patient
        identifier, a prediction time not in ISO 8601, outcome rows for patients or
        prediction times never scored, repeated rows, or no event at all.
    """
    from clinai.data import pseudonymise

    path = Path(path)
    if patient_column is None:
        raise DataError(OUTCOMES_NEED_IDS)
    frame = _read_outcomes(path)
    timed = stream.has_prediction_time
    needed = [patient_column, *(["prediction_time"] if timed else []), "outcome"]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        time = "'prediction_time' " if timed else ""
        raise DataError(OUTCOMES_COLUMNS.format(path=path, columns=", ".join(missing), time=time))
    y = pd.to_numeric(frame["outcome"], errors="coerce")
    bad = int((~y.isin([0, 1])).sum())
    if bad:
        raise DataError(OUTCOMES_VALUES.format(path=path, count=bad))
    if key is None:
        raise DataError(OUTCOMES_NEED_KEY)
    where = f"outcomes file {path}"
    check_identifiers(frame[patient_column], column=patient_column, where=where)
    times = _outcome_times(frame, timed, where=where)
    pseudonyms = pseudonymise(frame[patient_column].astype(str), key=key)
    scored = pd.Index(stream.dictionary.to_pylist() if stream.dictionary is not None else [])
    codes = scored.get_indexer(pseudonyms)
    keys = pd.DataFrame({"p": codes, "t": times, "y": y.to_numpy()})
    rows = pd.DataFrame(
        {
            "p": stream.patient,
            "t": _prediction_times(stream, timed),
            "row": np.arange(len(stream.keep)),
        }
    )[stream.keep]
    matched = keys.merge(rows, on=["p", "t"], how="left")
    unmatched = np.flatnonzero(matched["row"].isna().to_numpy() | (keys["p"] < 0).to_numpy())
    if unmatched.size:
        raise DataError(
            OUTCOMES_UNSCORED.format(count=unmatched.size, row=int(unmatched[0]) + 2, path=path)
        )
    repeated = int(keys.duplicated(subset=["p", "t"]).sum())
    if repeated:
        raise DataError(OUTCOMES_DUPLICATED.format(path=path, count=repeated))
    if not (keys["y"] == 1).any():
        raise DataError(OUTCOMES_NO_EVENT.format(path=path))
    outcome = np.full(len(stream.keep), np.nan)
    outcome[matched["row"].to_numpy(dtype=np.int64)] = matched["y"].to_numpy(dtype=np.float64)
    stream.outcome = outcome
    stream.outcomes = {"file_name": path.name, "sha256": file_sha256(path), "rows": len(frame)}


def _outcome_times(frame: pd.DataFrame, timed: bool, *, where: str) -> np.ndarray:
    """Return each outcome row's prediction time (ISO 8601; UTC where a zone is given)."""
    if not timed:
        return np.full(len(frame), NAT, dtype=np.int64)
    stamps = iso_times(frame["prediction_time"], column="prediction_time", where=where)
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return stamps.to_numpy(dtype="datetime64[us]").astype(np.int64)


def _prediction_times(stream: Stream, timed: bool) -> np.ndarray:
    """Return the prediction time of each row (the key of outcomes), or NaT for every row."""
    if not timed:
        return np.full(len(stream.keep), NAT, dtype=np.int64)
    return stream.time
