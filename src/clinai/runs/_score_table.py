"""The predictions table of ``clinai score``: schema check, row keys, columns and dtypes.

The table's columns are the predictions-file contract of issue 15 (read by ``clinai
monitor`` and ``clinai update``): ``patient_id`` (pseudonym), ``prediction_time``,
``risk``, ``model_name``, ``model_version``, ``config_sha256``, ``data_sha256``,
``scored_at`` (UTC), ``clinai_version``, ``outcome`` (Int8, where it could be derived),
``group:<attribute>``, ``feature:<name>`` (the model's inputs as fed) and ``baseline``.

A survival model's table (``outcome.type: survival``) says so in its columns, so that no
later step can take its risk for a binary one: ``outcome_type`` (``"survival"``; the
column is absent from a binary model's table), ``horizon`` (the first horizon, the one
``risk`` speaks of: the horizon of the card, the acceptance plan and the validation),
``risk_<horizon>`` (the absolute risk of the event by each configured horizon, e.g.
``risk_365``; ``risk`` equals the first), and, where the data carry follow-up, the
outcome as binary scoring keeps it: ``outcome_time`` (float, in the data's time unit) and
``outcome_event`` (Int8: 1 the event, 0 censored, 2 a competing event where the config
names competing codes) in place of ``outcome``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clinai.exceptions import DataError
from clinai.runs._survival_outcome import OUTCOME_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "EVENT_COLUMN",
    "FEATURE_PREFIX",
    "FIXED_COLUMNS",
    "GROUP_PREFIX",
    "HORIZON_COLUMN",
    "KEY_COLUMNS",
    "OUTCOME_TYPE_COLUMN",
    "RISK_PREFIX",
    "SURVIVAL",
    "TIME_COLUMN",
    "as_follow_up",
    "as_outcome",
    "check_identifiers",
    "check_model_inputs",
    "concat_predictions",
    "existing_predictions",
    "first_data_row",
    "iso_times",
    "predictions_table",
    "risk_column",
    "row_keys",
    "select_rows",
    "survival_horizons_of_file",
    "typed_table",
]

FEATURE_PREFIX = "feature:"
GROUP_PREFIX = "group:"
KEY_COLUMNS = ("patient_id", "prediction_time")
FIXED_COLUMNS = (
    "patient_id",
    "prediction_time",
    "risk",
    "model_name",
    "model_version",
    "config_sha256",
    "data_sha256",
    "scored_at",
    "clinai_version",
)
#: Columns of a survival model's table (see the module docstring).
SURVIVAL = "survival"
OUTCOME_TYPE_COLUMN = "outcome_type"
HORIZON_COLUMN = "horizon"
RISK_PREFIX = "risk_"
TIME_COLUMN = "outcome_time"
EVENT_COLUMN = "outcome_event"

FEATURE_MISSING = (
    "column {column!r}, an input of version {version} of model {name!r}, is missing from the "
    "scored data: give data with the columns of the training source, or score with a version "
    "trained on these features (--version N)"
)
FEATURE_TYPE = (
    "column {column!r} holds {got} values, but version {version} of model {name!r} takes "
    "{expected} values: fix the column's type in the data (as in the training source)"
)
FEATURE_NOT_FINITE = (
    "column {column!r} holds {count} infinite value(s) (inf or -inf), which version {version} "
    "of model {name!r} cannot score: leave the value empty where it is unknown, or fix it"
)
BAD_TIME_FORMAT = (
    "column {column!r} of {where} has {count} value(s) that are not ISO 8601 times (first at "
    "data row {row}): write them as 2025-03-01T08:00 or 2025-03-01 (a day/month/year date is "
    "not read, so that no day is taken for a month)"
)
MISSING_TIMES = (
    "column {column!r} of {where} is empty in {count} row(s) (first at data row {row}): give "
    "every row its prediction time"
)
ID_MISSING = (
    "column {column!r} (data.patient_id) of {where} is empty in {count} row(s) (first at data "
    "row {row}): give every row its patient identifier (rows without one would share one "
    "pseudonym)"
)
ID_DECIMAL = (
    "column {column!r} (data.patient_id) of {where} holds decimal numbers (e.g. 1234.0, as a "
    "Parquet file stores whole numbers next to an empty cell), whose pseudonyms match no "
    "identifier written as text: store the identifiers as text or whole numbers"
)
DUPLICATE_ROWS = (
    "{count} row(s) of the scored data repeat a patient and prediction time (first at data row "
    "{row}): give each prediction once (an extract exported twice?)"
)
SINCE_WITHOUT_TIMES = (
    "--since needs prediction times, but pipeline {pipeline!r} has none (no PREDICTION_TIME "
    "column): leave out --since"
)
NO_ROW_KEYS = (
    "{path} exists, but its rows cannot be told apart (no data.patient_id and no prediction "
    "time): write to a new file"
)
OTHER_VERSION = (
    "{path} holds predictions of {found}, not of {name} v{version}: write predictions of "
    "another model or version to a new file"
)
NOT_PREDICTIONS = (
    "{path} is not a predictions file of clinai score (it has no {column} column): score to a "
    "new file"
)
UNREADABLE = "{path} cannot be read as Parquet ({error}): score to a new file"
BAD_OUTCOME = (
    "the outcome of pipeline {pipeline!r} in the scored data has values other than 0, 1 and "
    "missing: fix the outcome columns of the data, or leave them out to score without outcomes"
)

BAD_FOLLOW_UP = (
    "the follow-up of pipeline {pipeline!r} in the scored data has {count} row(s) with a "
    "negative or non-numeric 'time' or an 'event' not in outcome.event_codes (censored "
    "{censored}, event {event}{competing}): fix the outcome columns of the data, or leave them "
    "out to score without follow-up"
)

#: MLflow's column types, by the kind of values they take.
_NUMERIC = {"double", "float", "long", "integer"}
_TEXT = {"string"}
_BOOLEAN = {"boolean"}


#: The end of an ISO 8601 time with a zone: a clock time, then Z or an offset (+01:00,
#: -0500, +02); a date's own ``-02`` is no zone.
_ZONE = r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"


def first_data_row(mask: Any, rows: Any = None) -> int:
    """Return the data row (1 = the first after the header) of the first True of ``mask``."""
    import numpy as np

    first = int(np.flatnonzero(np.asarray(mask))[0])
    return (int(rows[first]) if rows is not None else first) + 1


def check_identifiers(values: pd.Series, *, column: str, where: str) -> None:
    """Refuse patient identifiers that cannot be pseudonymised as at training.

    An empty identifier would be pseudonymised as the text ``nan`` (every such row one
    patient), and a decimal number (``1234.0``) as a text no identifier written as text
    or as a whole number has. The message counts rows; it never shows an identifier.

    Raises
    ------
    DataError
        If a value is missing or blank, or the column holds decimal numbers.
    """
    import pandas as pd

    if pd.api.types.is_float_dtype(values.dtype):
        raise DataError(ID_DECIMAL.format(column=column, where=where))
    missing = values.isna().to_numpy()
    if pd.api.types.is_object_dtype(values.dtype) or pd.api.types.is_string_dtype(values.dtype):
        missing |= (values.astype("string").str.strip() == "").fillna(True).to_numpy(bool)
    if missing.any():
        raise DataError(
            ID_MISSING.format(
                column=column, where=where, count=int(missing.sum()), row=first_data_row(missing)
            )
        )


def iso_times(values: pd.Series, *, column: str, where: str, rows: Any = None) -> pd.Series:
    """Parse a column of times written in ISO 8601 (or already times); refuse anything else.

    ``2025-03-01T08:00``, ``2025-03-01 08:00:00`` and ``2025-03-01`` are read; a
    day/month/year date (``01/03/2025``) is refused rather than guessed, since pandas would
    read the first format it meets and may swap day and month. When any value gives a
    time zone, every value is returned in UTC (zone-aware). ``rows`` gives each value's
    row in the file (for the message; default: its position). A missing value stays NaT.

    Raises
    ------
    DataError
        If a value that is there is not an ISO 8601 time (the message counts them and
        names the first data row, never a value).
    """
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values
    text = values.astype("string").str.strip()
    text = text.where(text != "")
    # a time zone on any value (e.g. +01:00 in winter, +02:00 in summer): all read as UTC
    zoned = bool(text.str.contains(_ZONE, regex=True).fillna(False).any())
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=zoned)
    bad = (text.notna() & parsed.isna()).to_numpy(bool)
    if bad.any():
        raise DataError(
            BAD_TIME_FORMAT.format(
                column=column, where=where, count=int(bad.sum()), row=first_data_row(bad, rows)
            )
        )
    return parsed


def _kind(series: pd.Series) -> str:
    """Return the kind of values a column holds: ``boolean``, ``numeric``, ``text`` or its dtype."""
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        return "text"
    if isinstance(dtype, pd.CategoricalDtype):
        return "text"
    return str(dtype)


def check_model_inputs(
    X: pd.DataFrame, schema: Sequence[Mapping[str, str]], *, name: str, version: str
) -> pd.DataFrame:
    """Check the features against the model's input schema; return them as the model takes them.

    Parameters
    ----------
    X : pandas.DataFrame
        The pipeline's features of the new data.
    schema : sequence of mapping
        The registered version's signature inputs, ``{"name", "type"}`` each (MLflow
        type names). Empty: the model has no signature, and ``X`` is fed as it is.
    name, version : str
        The registered model and version (for the messages).

    Returns
    -------
    pandas.DataFrame
        The schema's columns in the schema's order; numeric columns as float64
        (integer columns may be missing at scoring time, as at registration).

    Raises
    ------
    DataError
        If a column is missing, holds values of another kind than the schema's
        (text where numbers are taken, numbers where text is taken, ...), or an
        infinite number. A column empty on every row has no kind to check: it is fed
        as the schema's kind, and the model imputes it as it imputes any missing value.
    """
    import numpy as np

    if not schema:
        return X
    names, casts = [], {}
    for spec in schema:
        column, expected = spec["name"], spec["type"]
        if column not in X.columns:
            raise DataError(FEATURE_MISSING.format(column=column, version=version, name=name))
        got = _kind(X[column])
        empty = bool(X[column].isna().all())  # nothing to tell its kind by: the model imputes
        wanted = (
            "numeric"
            if expected in _NUMERIC
            else "text"
            if expected in _TEXT
            else "boolean"
            if expected in _BOOLEAN
            else None
        )
        # a boolean flag is a number to a numeric input (0/1), never the other way round
        if (
            wanted is not None
            and got != wanted
            and not empty
            and not (wanted == "numeric" and got == "boolean")
        ):
            raise DataError(
                FEATURE_TYPE.format(
                    column=column, got=got, expected=wanted, version=version, name=name
                )
            )
        names.append(column)
        if wanted == "numeric" and X[column].dtype != "float64":
            casts[column] = "float64"
        elif wanted == "text" and empty and got != "text":
            casts[column] = "object"
        if wanted == "numeric" and got == "numeric":
            infinite = int(np.isinf(X[column].to_numpy(dtype="float64", na_value=np.nan)).sum())
            if infinite:
                raise DataError(
                    FEATURE_NOT_FINITE.format(
                        column=column, count=infinite, version=version, name=name
                    )
                )
    # one selection and one cast of the columns that need it: cheap for a million rows
    fed = X[names]
    return fed.astype(casts) if casts else fed


def as_outcome(values: pd.Series, *, pipeline: str) -> pd.Series:
    """Return the outcome as nullable Int8 (0, 1, missing)."""
    import pandas as pd

    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.notna() & ~numbers.isin([0, 1])
    if bad.any() or (values.notna() & numbers.isna()).any():
        raise DataError(BAD_OUTCOME.format(pipeline=pipeline))
    return numbers.astype("Int8")


def as_follow_up(
    outcome: pd.DataFrame,
    *,
    pipeline: str,
    censored: int = 0,
    event: int = 1,
    competing: Sequence[int] = (),
) -> pd.DataFrame:
    """Return a survival outcome as ``outcome_time`` (float64) and ``outcome_event`` (Int8).

    Unlike training, scoring takes follow-up that is not complete: a row whose time or
    event is missing keeps both missing (its follow-up is not known yet), and no horizon
    or event count is required.

    Parameters
    ----------
    outcome : pandas.DataFrame
        What the pipeline's ``outcome()`` returned: columns ``time`` and ``event``.
    pipeline : str
        The pipeline's name (for the message).
    censored, event : int
        The config's ``outcome.event_codes``.
    competing : sequence of int
        Codes of competing events; coded 2 in ``outcome_event``.

    Returns
    -------
    pandas.DataFrame
        ``outcome_time`` and ``outcome_event`` (1 the event, 0 censored, 2 competing).

    Raises
    ------
    DataError
        If ``time`` and ``event`` are not both columns, or a known time is negative or
        not a number, or a known event code is not one of the config's.
    """
    import numpy as np
    import pandas as pd

    columns = list(getattr(outcome, "columns", []))
    if not {"time", "event"} <= set(columns):
        got = ", ".join(map(str, columns)) or type(outcome).__name__
        raise DataError(OUTCOME_COLUMNS.format(pipeline=pipeline, got=got))
    time = pd.to_numeric(outcome["time"], errors="coerce").to_numpy(dtype=float)
    code = pd.to_numeric(outcome["event"], errors="coerce").to_numpy(dtype=float)
    given_time = outcome["time"].notna().to_numpy()
    given_event = outcome["event"].notna().to_numpy()
    known_codes = [censored, event, *competing]
    bad = (given_time & ~(time >= 0)) | (given_event & ~np.isin(code, known_codes))
    if bad.any():
        raise DataError(
            BAD_FOLLOW_UP.format(
                pipeline=pipeline,
                count=int(bad.sum()),
                censored=censored,
                event=event,
                competing=f", competing {list(competing)}" if competing else "",
            )
        )
    known = given_time & given_event
    coded = np.where(code == event, 1, np.where(np.isin(code, list(competing)), 2, 0))
    return pd.DataFrame(
        {
            TIME_COLUMN: pd.Series(np.where(known, time, np.nan), dtype="float64"),
            EVENT_COLUMN: pd.Series(coded, dtype="Int8").where(known),
        }
    )


def risk_column(horizon: float) -> str:
    """Name of the column of the risk by ``horizon`` (``risk_365``, ``risk_182.5``)."""
    return f"{RISK_PREFIX}{float(horizon):g}"


def survival_horizons_of_file(path: Path) -> list[float] | None:
    """Return the horizons of a survival predictions file; None for any other file.

    Reads only the Parquet schema and the small ``outcome_type``/``horizon`` columns
    (a file that cannot be read is left to the caller's own checks: None).
    """
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
        if OUTCOME_TYPE_COLUMN not in names:
            return None
        kinds = pq.read_table(path, columns=[OUTCOME_TYPE_COLUMN]).column(0).unique()
    except Exception:  # not Parquet, missing, ...: the caller says what is wrong
        return None
    if SURVIVAL not in kinds.to_pylist():
        return None
    prefix = len(RISK_PREFIX)
    return [float(n[prefix:]) for n in names if _is_risk_column(n)]


def _is_risk_column(name: str) -> bool:
    """Whether ``name`` is a ``risk_<horizon>`` column."""
    if not name.startswith(RISK_PREFIX):
        return False
    try:
        float(name[len(RISK_PREFIX) :])
    except ValueError:
        return False
    return True


def row_keys(patient_id: pd.Series, prediction_time: pd.Series) -> pd.Series:
    """One text key per row from (``patient_id``, ``prediction_time``); a missing part is ``-``."""
    import pandas as pd

    ids = patient_id.astype("string").fillna("-")
    times = pd.to_datetime(prediction_time).astype("datetime64[us]")
    stamps = times.astype("int64").astype("string").where(times.notna(), "-")
    return (ids + "|" + stamps).astype(object)


def predictions_table(
    *,
    patient_id: pd.Series | None,
    prediction_time: pd.Series | None,
    risk: Any,
    model: Mapping[str, str],
    hashes: Mapping[str, str],
    scored_at: pd.Timestamp,
    clinai_version: str,
    outcome: pd.Series | None,
    groups: pd.DataFrame,
    features: pd.DataFrame,
    baseline: pd.Series | None,
    survival: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Assemble the predictions table of one scoring (columns as in the module docstring).

    ``survival`` (a survival model only): ``horizons`` (the model's), ``risks`` (array of
    shape (n, horizons)) and ``follow_up`` (:func:`as_follow_up`'s frame, or None);
    ``outcome`` is then None.
    """
    import pandas as pd

    n = len(features)
    index = pd.RangeIndex(n)

    def plain(values: Any) -> Any:
        return values.to_numpy() if isinstance(values, pd.Series) else values

    head = {
        "patient_id": plain(patient_id) if patient_id is not None else [None] * n,
        "prediction_time": plain(prediction_time) if prediction_time is not None else pd.NaT,
        "risk": risk,
        "model_name": model["name"],
        "model_version": model["version"],
        "config_sha256": hashes["config_sha256"],
        "data_sha256": hashes["data_sha256"],
        "scored_at": scored_at,
        "clinai_version": clinai_version,
    }
    if outcome is not None:
        head["outcome"] = plain(outcome)
    if survival is not None:
        head[OUTCOME_TYPE_COLUMN] = SURVIVAL
        head[HORIZON_COLUMN] = float(survival["horizons"][0])
        for column, horizon in enumerate(survival["horizons"]):
            head[risk_column(horizon)] = survival["risks"][:, column]
        if survival["follow_up"] is not None:
            head.update({c: plain(v) for c, v in survival["follow_up"].items()})
    for attribute in groups.columns:
        head[f"{GROUP_PREFIX}{attribute}"] = plain(groups[attribute].astype(str))
    # the wide feature block is relabelled, not rebuilt column by column (a copy per column)
    names = [f"{FEATURE_PREFIX}{c}" for c in features.columns]
    wide = features.copy(deep=False)
    wide.columns, wide.index = pd.Index(names), index
    baseline_column = None if baseline is None else pd.Series(plain(baseline), index=index)
    return _assemble(pd.DataFrame(head, index=index), wide, baseline_column)


def _assemble(head: pd.DataFrame, wide: pd.DataFrame, baseline: pd.Series | None) -> pd.DataFrame:
    """Type the narrow columns and join them, the features and the baseline in the set order."""
    import pandas as pd

    typed: dict[str, pd.Series] = {}
    typed["patient_id"] = head["patient_id"].astype("string")
    time = pd.to_datetime(head["prediction_time"])
    if getattr(time.dt, "tz", None) is not None:  # times are compared as UTC wall clock
        time = time.dt.tz_convert("UTC").dt.tz_localize(None)
    typed["prediction_time"] = time.astype("datetime64[us]")
    typed["risk"] = head["risk"].astype("float64")
    for column in ("model_name", "model_version", "config_sha256", "data_sha256"):
        typed[column] = head[column].astype("string")
    typed["scored_at"] = pd.to_datetime(head["scored_at"], utc=True).astype("datetime64[us, UTC]")
    typed["clinai_version"] = head["clinai_version"].astype("string")
    if "outcome" in head.columns:
        typed["outcome"] = head["outcome"].astype("Int8")
    if OUTCOME_TYPE_COLUMN in head.columns:  # a survival model's columns, in their order
        typed[OUTCOME_TYPE_COLUMN] = head[OUTCOME_TYPE_COLUMN].astype("string")
        typed[HORIZON_COLUMN] = head[HORIZON_COLUMN].astype("float64")
        for column in filter(_is_risk_column, head.columns):
            typed[column] = head[column].astype("float64")
        if TIME_COLUMN in head.columns:
            typed[TIME_COLUMN] = head[TIME_COLUMN].astype("float64")
            typed[EVENT_COLUMN] = head[EVENT_COLUMN].astype("Int8")
    for column in head.columns:
        if column.startswith(GROUP_PREFIX):
            typed[column] = head[column].astype("string")
    parts = [pd.DataFrame(typed), wide]
    if baseline is not None:
        score = pd.to_numeric(baseline, errors="coerce").astype("float64")
        parts.append(score.to_frame("baseline"))
    return pd.concat(parts, axis=1, copy=False)


def typed_table(table: pd.DataFrame) -> pd.DataFrame:
    """Give a table the contract's dtypes and column order (e.g. after joining files)."""
    features = [c for c in table.columns if c.startswith(FEATURE_PREFIX)]
    narrow = [c for c in table.columns if c not in features and c != "baseline"]
    baseline = table["baseline"] if "baseline" in table.columns else None
    return _assemble(table[narrow], table[features], baseline)


def existing_predictions(out: Path, *, name: str, version: str) -> pd.DataFrame | None:
    """Return the rows already in ``out`` (None if no file); refuse another model's file."""
    import pandas as pd

    if not out.exists():
        return None
    try:
        existing = pd.read_parquet(out)
        versions = set(existing["model_name"].astype(str) + " v" + existing["model_version"])
    except KeyError as exc:
        raise DataError(NOT_PREDICTIONS.format(path=out, column=exc)) from exc
    except Exception as exc:  # pyarrow's errors: not Parquet, truncated, ...
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(UNREADABLE.format(path=out, error=first)) from exc
    if versions - {f"{name} v{version}"}:
        raise DataError(
            OTHER_VERSION.format(
                path=out, found=", ".join(sorted(versions)), name=name, version=version
            )
        )
    return existing


def select_rows(
    cohort: pd.DataFrame,
    times: pd.Series | None,
    *,
    patient_column: str | None,
    pipeline: str,
    existing: pd.DataFrame | None,
    since: pd.Timestamp | None,
    out: Path,
    rows: Any = None,
) -> tuple[Any, dict[str, int]]:
    """Return which cohort rows to score (after ``since``, not yet in ``out``) and the counts.

    ``rows`` gives each cohort row's data row in the file (for messages).

    Raises
    ------
    DataError
        If rows repeat a (patient, prediction time) pair: each would be scored and
        written twice, and counted twice by monitoring.
    """
    import numpy as np
    import pandas as pd

    if patient_column is not None and times is not None:
        repeated = row_keys(cohort[patient_column], times).duplicated().to_numpy()
        if repeated.any():
            raise DataError(
                DUPLICATE_ROWS.format(count=int(repeated.sum()), row=first_data_row(repeated, rows))
            )
    keep = np.ones(len(cohort), dtype=bool)
    counts = {"n_cohort": len(cohort), "n_before_since": 0, "n_already_scored": 0}
    if since is not None:
        if times is None:
            raise DataError(SINCE_WITHOUT_TIMES.format(pipeline=pipeline))
        after = (times > since).to_numpy()
        counts["n_before_since"] = int((~after).sum())
        keep &= after
    if existing is not None:
        if patient_column is None and times is None:
            raise DataError(NO_ROW_KEYS.format(path=out))
        ids = (
            cohort[patient_column] if patient_column is not None else pd.Series([None] * len(keep))
        )
        stamps = times if times is not None else pd.Series(pd.NaT, index=cohort.index)
        new_keys = row_keys(ids, stamps)
        old_keys = set(row_keys(existing["patient_id"], existing["prediction_time"]))
        seen = new_keys.isin(old_keys).to_numpy() & keep
        counts["n_already_scored"] = int(seen.sum())
        keep &= ~seen
    return keep, counts


def concat_predictions(existing: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Return the rows of an earlier file, then the new ones, with the contract's dtypes."""
    import pandas as pd

    frames = [f for f in (existing, new) if len(f)]
    return typed_table(pd.concat(frames, ignore_index=True) if frames else existing)
