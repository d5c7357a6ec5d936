"""Data-quality checks with pandera, gathered into a report instead of stopping at the first.

Each check yields a :class:`QualityCheck` (name, status pass/warn/fail, count, column,
message); a :class:`DataQualityReport` collects them. Messages name columns and give
counts or shares only, never a patient-level value or identifier, so the report may
be printed, logged, written to the run directory and shown in the validation report.
In strict mode a failing check raises :class:`~clinai.exceptions.DataError` with one
line naming the column and what to do.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from clinai.data._checks import missing_mask
from clinai.exceptions import DataError

__all__ = [
    "DEFAULT_PREVALENCE_BAND",
    "MISSING_WARN_SHARE",
    "ColumnSpec",
    "DataQualityReport",
    "QualityCheck",
    "check_cohort_quality",
    "check_duplicate_ids",
    "check_features",
    "check_outcome",
    "check_schema",
    "check_split_overlap",
    "check_time_order",
    "quality_report",
]

logger = logging.getLogger(__name__)

Status = Literal["pass", "warn", "fail"]
_RANK: dict[str, int] = {"pass": 0, "warn": 1, "fail": 2}

#: Outcome prevalence outside this band (inclusive) is a warning: below it, too few
#: events to develop or validate a model; above it, the outcome is probably miscoded.
DEFAULT_PREVALENCE_BAND = (0.005, 0.6)
#: Share of missing values from which (inclusive) a feature gets a warning: a fifth of
#: a column missing already needs a look at the extraction and at how it is imputed.
MISSING_WARN_SHARE = 0.2

STRICT_MSG = "data check {name} failed for column '{column}': {message}"

MISSING_COLUMN_MSG = "required column is missing: add it to the data or fix the column name"
TYPE_MSG = "column must be {dtype} but has dtype {actual}: convert it in the data or pipeline"
RANGE_MSG = (
    "{count} value(s) outside the plausible range [{low}, {high}]: correct the unit or "
    "the value, or set it missing"
)
NULL_MSG = "{count} missing value(s) in a column that must be complete: fill or drop those rows"
FINITE_MSG = "{count} infinite value(s): replace them with missing values or fix the derivation"
MANY_MISSING_MSG = (
    "{share:.0%} of values are missing ({count:,} of {n:,}{text}): check the extraction of "
    "this column"
)
MISSING_OK_MSG = "{share:.0%} missing ({count:,} of {n:,}{text})"
#: Part of the missing messages: missing values written as text (see ``missing_mask``).
MISSING_TEXT_NOTE = "; {count:,} written as text such as a blank or 'nan'"
DUPLICATE_MSG = (
    "{count} row(s) repeat an identifier: remove the duplicates, or keep each identifier's "
    "rows together (split.method: grouped)"
)
DUPLICATE_OK_MSG = "{count} row(s) share an identifier with an earlier row (allowed here)"
TIME_ORDER_MSG = (
    "{count} row(s) have a time earlier than the row before in the same {group}: sort the "
    "data by {group} and time"
)
TIME_MISSING_MSG = "{count} row(s) have no time: fill the time or drop those rows"
OVERLAP_MSG = (
    "{count} patient(s) appear in more than one split: split by patient "
    "(split.method: grouped, with data.patient_id set)"
)
OUTCOME_MISSING_MSG = "{count} outcome value(s) are missing: exclude those rows or fix the data"
OUTCOME_CLASSES_MSG = (
    "the outcome must be binary 0/1 but has {n} distinct value(s): recode it in the "
    "pipeline's outcome()"
)
PREVALENCE_MSG = (
    "outcome prevalence {prevalence:.2%} is outside the plausible band "
    "[{low:.1%}, {high:.1%}]: check the outcome definition"
)
PREVALENCE_OK_MSG = "outcome prevalence {prevalence:.2%} (band [{low:.1%}, {high:.1%}])"
PASS_MSG = "no problem found"


@dataclass(frozen=True)
class ColumnSpec:
    """What one column must look like.

    Attributes
    ----------
    dtype : {"numeric", "datetime", "string", "any"}
        Required kind of dtype (``numeric`` includes integers and booleans).
    low, high : float or None
        Plausible range (inclusive) of a numeric column; None for no bound.
    required : bool
        Whether the column must be present.
    nullable : bool
        Whether missing values are allowed.
    """

    dtype: Literal["numeric", "datetime", "string", "any"] = "any"
    low: float | None = None
    high: float | None = None
    required: bool = True
    nullable: bool = True


@dataclass(frozen=True)
class QualityCheck:
    """The result of one data check.

    Attributes
    ----------
    name : str
        Stable check name (``schema``, ``type``, ``range``, ``not_null``,
        ``finite``, ``missing``, ``duplicate_ids``, ``time_order``,
        ``split_overlap``, ``outcome``, ``outcome_prevalence``).
    status : {"pass", "warn", "fail"}
        Verdict.
    count : int
        Rows (or patients) affected; 0 when the check passes.
    column : str or None
        The column checked, if any.
    message : str
        What was found and what to do; counts and shares only.
    """

    name: str
    status: Status
    count: int
    column: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        """Return the check as a JSON-ready dict."""
        return {
            "name": self.name,
            "status": self.status,
            "count": int(self.count),
            "column": self.column,
            "message": self.message,
        }


@dataclass(frozen=True)
class DataQualityReport:
    """All data checks of one data set.

    Attributes
    ----------
    checks : tuple of QualityCheck
        Every check run, in order.
    n_rows : int
        Rows checked.
    """

    checks: tuple[QualityCheck, ...]
    n_rows: int

    @property
    def status(self) -> Status:
        """Worst status of any check (``pass`` when there is none)."""
        statuses: tuple[Status, ...] = ("pass", "warn", "fail")
        return max((c.status for c in self.checks), key=statuses.index, default="pass")

    @property
    def n_missing_cells(self) -> int:
        """Missing feature values, summed over the ``missing`` checks (every feature)."""
        return sum(int(c.count) for c in self.checks if c.name == "missing")

    @property
    def many_missing(self) -> tuple[QualityCheck, ...]:
        """The ``missing`` checks that warn (columns at or above ``MISSING_WARN_SHARE``)."""
        return tuple(c for c in self.checks if c.name == "missing" and c.status != "pass")

    @property
    def failures(self) -> tuple[QualityCheck, ...]:
        """Checks with status ``fail``."""
        return tuple(c for c in self.checks if c.status == "fail")

    @property
    def warnings(self) -> tuple[QualityCheck, ...]:
        """Checks with status ``warn``."""
        return tuple(c for c in self.checks if c.status == "warn")

    def raise_for_failures(self) -> None:
        """Raise :class:`DataError` naming the first failing check's column, if any.

        Raises
        ------
        DataError
            One line: ``data check NAME failed for column 'COLUMN': MESSAGE``.
        """
        for check in self.failures:
            raise DataError(
                STRICT_MSG.format(
                    name=check.name, column=check.column or "-", message=check.message
                )
            )

    def to_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-ready dict (schema version 1)."""
        counts = {s: sum(c.status == s for c in self.checks) for s in _RANK}
        return {
            "schema_version": 1,
            "status": self.status,
            "n_rows": int(self.n_rows),
            "n_checks": len(self.checks),
            "counts": counts,
            "n_missing_cells": self.n_missing_cells,
            "checks": [c.to_dict() for c in self.checks],
        }


def _ok(name: str, column: str | None, message: str = PASS_MSG) -> QualityCheck:
    return QualityCheck(name=name, status="pass", count=0, column=column, message=message)


def _dtype_ok(series: pd.Series, dtype: str) -> bool:
    kind = series.dtype
    if dtype == "numeric":
        return bool(pd.api.types.is_numeric_dtype(kind))
    if dtype == "datetime":
        return bool(pd.api.types.is_datetime64_any_dtype(kind))
    if dtype == "string":
        return bool(
            pd.api.types.is_object_dtype(kind)
            or pd.api.types.is_string_dtype(kind)
            or isinstance(kind, pd.CategoricalDtype)
        )
    return True


def _pandera_schema(frame: pd.DataFrame, specs: Mapping[str, ColumnSpec]) -> Any:
    """Translate the specs into a lazy pandera schema with clinai's check names."""
    import pandera.pandas as pa

    columns = {}
    for name, spec in specs.items():
        checks = [pa.Check(lambda s, kind=spec.dtype: _dtype_ok(s, kind), name="type")]
        numeric = name in frame.columns and _dtype_ok(frame[name], "numeric")
        if numeric and (spec.low is not None or spec.high is not None):
            low = -np.inf if spec.low is None else spec.low
            high = np.inf if spec.high is None else spec.high
            checks.append(
                pa.Check(
                    lambda s, lo=low, hi=high: s.between(lo, hi),
                    name="range",
                    ignore_na=True,
                )
            )
        columns[name] = pa.Column(
            checks=checks, required=spec.required, nullable=True, coerce=False
        )
    return pa.DataFrameSchema(columns, strict=False)


def check_schema(frame: pd.DataFrame, specs: Mapping[str, ColumnSpec]) -> list[QualityCheck]:
    """Check presence, dtype, plausible range and completeness of columns with pandera.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data.
    specs : mapping of str to ColumnSpec
        Column name -> what it must look like.

    Returns
    -------
    list of QualityCheck
        Per column: ``schema`` (present), ``type``, ``range`` (numeric
        columns with bounds) and ``not_null`` (non-nullable columns). A
        column that is absent gets only ``schema``.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"heart_rate": [80.0, 400.0, None]})
    >>> [(c.name, c.status, c.count) for c in check_schema(
    ...     frame, {"heart_rate": ColumnSpec("numeric", low=20, high=300)})]
    [('schema', 'pass', 0), ('type', 'pass', 0), ('range', 'fail', 1)]
    """
    import pandera.pandas as pa

    failures: dict[tuple[str | None, str], int] = {}
    try:
        _pandera_schema(frame, specs).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        for row in cases.itertuples(index=False):
            if row.check == "column_in_dataframe":
                key: tuple[str | None, str] = (str(row.failure_case), "schema")
            else:
                key = (None if row.column is None else str(row.column), str(row.check))
            failures[key] = failures.get(key, 0) + 1
    out: list[QualityCheck] = []
    for name, spec in specs.items():
        if name not in frame.columns:
            status: Status = "fail" if spec.required else "pass"
            message = MISSING_COLUMN_MSG if spec.required else "optional column is absent"
            out.append(QualityCheck("schema", status, int(spec.required), name, message))
            continue
        out.append(_ok("schema", name))
        series = frame[name]
        if failures.get((name, "type")):
            message = TYPE_MSG.format(dtype=spec.dtype, actual=series.dtype)
            out.append(QualityCheck("type", "fail", len(series), name, message))
        else:
            out.append(_ok("type", name))
        if _dtype_ok(series, "numeric") and (spec.low is not None or spec.high is not None):
            count = failures.get((name, "range"), 0)
            if count:
                message = RANGE_MSG.format(count=count, low=spec.low, high=spec.high)
                out.append(QualityCheck("range", "fail", count, name, message))
            else:
                out.append(_ok("range", name))
        if not spec.nullable:
            n_null = int(series.isna().sum())
            out.append(
                QualityCheck("not_null", "fail", n_null, name, NULL_MSG.format(count=n_null))
                if n_null
                else _ok("not_null", name)
            )
    return out


def check_features(
    X: pd.DataFrame, *, numeric: Sequence[str], categorical: Sequence[str] = ()
) -> list[QualityCheck]:
    """Check model features: types, finite numeric values and the share missing.

    Parameters
    ----------
    X : pandas.DataFrame
        Features.
    numeric, categorical : sequence of str
        Feature columns by type.

    Returns
    -------
    list of QualityCheck
        ``schema``/``type`` per feature (via :func:`check_schema`), ``finite``
        per numeric feature and ``missing`` per feature: count = missing values
        (NaN, None, and in a text column a blank or text such as ``"nan"``, see
        :func:`~clinai.data._checks.missing_mask`); a warning from
        ``MISSING_WARN_SHARE`` (20 %) of the rows missing.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"age": [70.0, None, 80.0, 75.0], "sex": ["F", "nan", " ", "M"]})
    >>> [(c.status, c.count, c.message) for c in check_features(
    ...     X, numeric=["age"], categorical=["sex"]) if c.name == "missing"]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('warn', 1, '25% of values are missing (1 of 4): check the extraction of this column'),
     ('warn', 2, "50% of values are missing (2 of 4; 2 written as text such as a blank or
      'nan'): check the extraction of this column")]
    """
    specs = {c: ColumnSpec("numeric") for c in numeric}
    specs |= {c: ColumnSpec("any") for c in categorical}
    out = check_schema(X, specs)
    for column in [*numeric, *categorical]:
        if column not in X.columns:
            continue
        series = X[column]
        if column in numeric and pd.api.types.is_numeric_dtype(series.dtype):
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
            n_inf = int(np.isinf(values).sum())
            out.append(
                QualityCheck("finite", "fail", n_inf, column, FINITE_MSG.format(count=n_inf))
                if n_inf
                else _ok("finite", column)
            )
        n_na = int(series.isna().sum())
        n_missing = int(missing_mask(series).sum())
        share = n_missing / len(series) if len(series) else 0.0
        text = MISSING_TEXT_NOTE.format(count=n_missing - n_na) if n_missing > n_na else ""
        fields = {"share": share, "count": n_missing, "n": len(series), "text": text}
        out.append(
            QualityCheck("missing", "warn", n_missing, column, MANY_MISSING_MSG.format(**fields))
            if n_missing and share >= MISSING_WARN_SHARE
            else QualityCheck("missing", "pass", n_missing, column, MISSING_OK_MSG.format(**fields))
        )
    return out


def check_duplicate_ids(
    frame: pd.DataFrame, columns: str | Sequence[str], *, allowed: bool = False
) -> QualityCheck:
    """Count rows that repeat an identifier (or a combination of identifier columns).

    Parameters
    ----------
    frame : pandas.DataFrame
        The data.
    columns : str or sequence of str
        Identifier column(s); e.g. ``"stay_id"`` or ``["stay_id", "time", "parameter"]``.
    allowed : bool, default=False
        Whether repeats are expected (several admissions per patient): then
        they are counted but pass.

    Returns
    -------
    QualityCheck
        ``duplicate_ids``; count = rows equal to an earlier row on ``columns``.
    """
    names = [columns] if isinstance(columns, str) else list(columns)
    label = ", ".join(names)
    missing = [c for c in names if c not in frame.columns]
    if missing:
        return QualityCheck("duplicate_ids", "fail", 0, ", ".join(missing), MISSING_COLUMN_MSG)
    count = int(frame.duplicated(subset=names).sum())
    if not count:
        return _ok("duplicate_ids", label)
    if allowed:
        return QualityCheck(
            "duplicate_ids", "pass", count, label, DUPLICATE_OK_MSG.format(count=count)
        )
    return QualityCheck("duplicate_ids", "fail", count, label, DUPLICATE_MSG.format(count=count))


def check_time_order(frame: pd.DataFrame, *, time: str, group: str) -> list[QualityCheck]:
    """Check that times never go backwards within a stay, in row order.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data, in file order.
    time : str
        Time column (datetime or parseable).
    group : str
        Stay (or patient) column.

    Returns
    -------
    list of QualityCheck
        ``time_order`` (rows earlier than the previous row of the same stay)
        and, if any time is missing, a ``not_null`` failure on the time column.
    """
    for column in (time, group):
        if column not in frame.columns:
            return [QualityCheck("schema", "fail", 1, column, MISSING_COLUMN_MSG)]
    times = frame[time]
    if not pd.api.types.is_datetime64_any_dtype(times.dtype):
        times = pd.to_datetime(times, errors="coerce", utc=True, format="mixed")
    out: list[QualityCheck] = []
    n_null = int(times.isna().sum())
    if n_null:
        out.append(
            QualityCheck("not_null", "fail", n_null, time, TIME_MISSING_MSG.format(count=n_null))
        )
    previous = times.groupby(frame[group].to_numpy(), sort=False).shift(1)
    count = int((times < previous).sum())
    message = TIME_ORDER_MSG.format(count=count, group=group)
    out.append(
        QualityCheck("time_order", "fail", count, time, message)
        if count
        else _ok("time_order", time)
    )
    return out


def check_split_overlap(splits: Mapping[str, Iterable[Any]], *, column: str) -> QualityCheck:
    """Count patients that appear in more than one split.

    Parameters
    ----------
    splits : mapping of str to iterable
        Split name -> the patient identifiers (pseudonyms) in it.
    column : str
        Name of the identifier column (for the report).

    Returns
    -------
    QualityCheck
        ``split_overlap``; count = patients in two or more splits.
    """
    seen: dict[Any, int] = {}
    for ids in splits.values():
        for pid in set(ids):
            seen[pid] = seen.get(pid, 0) + 1
    count = sum(n > 1 for n in seen.values())
    if count:
        return QualityCheck("split_overlap", "fail", count, column, OVERLAP_MSG.format(count=count))
    return _ok("split_overlap", column)


def check_outcome(
    y: pd.Series | np.ndarray | Sequence[Any],
    *,
    column: str = "outcome",
    band: tuple[float, float] = DEFAULT_PREVALENCE_BAND,
) -> list[QualityCheck]:
    """Check a binary outcome: complete, two classes coded 0/1, prevalence in a band.

    Prevalence is the share of rows with outcome 1.

    Parameters
    ----------
    y : array-like
        Outcome per row.
    column : str, default="outcome"
        Name for the report.
    band : (float, float), default=DEFAULT_PREVALENCE_BAND
        Plausible prevalence; outside it is a warning.

    Returns
    -------
    list of QualityCheck
        ``outcome`` (fail when values are missing or not two classes 0/1)
        and ``outcome_prevalence`` (warn outside ``band``).
    """
    series = pd.Series(np.asarray(y, dtype=object))
    out: list[QualityCheck] = []
    n_missing = int(series.isna().sum())
    values = pd.to_numeric(series.dropna(), errors="coerce")
    distinct = set(series.dropna().unique().tolist())
    binary = bool(values.notna().all()) and set(values.unique().tolist()) <= {0, 1}
    if n_missing:
        out.append(
            QualityCheck(
                "outcome", "fail", n_missing, column, OUTCOME_MISSING_MSG.format(count=n_missing)
            )
        )
    elif not binary or len(distinct) != 2:
        out.append(
            QualityCheck(
                "outcome", "fail", len(series), column, OUTCOME_CLASSES_MSG.format(n=len(distinct))
            )
        )
    else:
        out.append(_ok("outcome", column))
    if binary and len(values):
        prevalence = float(values.mean())
        low, high = band
        fields = {"prevalence": prevalence, "low": low, "high": high}
        if low <= prevalence <= high:
            out.append(
                QualityCheck(
                    "outcome_prevalence",
                    "pass",
                    int(values.sum()),
                    column,
                    PREVALENCE_OK_MSG.format(**fields),
                )
            )
        else:
            out.append(
                QualityCheck(
                    "outcome_prevalence",
                    "warn",
                    int(values.sum()),
                    column,
                    PREVALENCE_MSG.format(**fields),
                )
            )
    return out


def quality_report(
    checks: Iterable[QualityCheck], *, n_rows: int, strict: bool = False
) -> DataQualityReport:
    """Collect checks into a report; in strict mode raise on the first failure.

    Parameters
    ----------
    checks : iterable of QualityCheck
        Check results.
    n_rows : int
        Rows checked.
    strict : bool, default=False
        Raise :class:`DataError` if a check failed.

    Returns
    -------
    DataQualityReport
        The report.

    Raises
    ------
    DataError
        In strict mode, naming the first failing check's column.
    """
    report = DataQualityReport(checks=tuple(checks), n_rows=int(n_rows))
    for check in report.checks:
        if check.status != "pass":
            logger.info("data check %s (%s): %s", check.name, check.column, check.message)
    if strict:
        report.raise_for_failures()
    return report


def check_cohort_quality(
    X: pd.DataFrame,
    y: pd.Series | np.ndarray,
    *,
    numeric: Sequence[str],
    categorical: Sequence[str] = (),
    patients: pd.Series | np.ndarray | None = None,
    patient_column: str = "patient_id",
    splits: Mapping[str, np.ndarray] | None = None,
    repeats_allowed: bool = False,
    band: tuple[float, float] = DEFAULT_PREVALENCE_BAND,
    source_checks: Sequence[QualityCheck] = (),
    strict: bool = False,
) -> DataQualityReport:
    """Run the checks of an analysis cohort: features, outcome, identifiers, splits.

    Parameters
    ----------
    X : pandas.DataFrame
        Features, one row per analysis unit.
    y : array-like
        Outcome of each row.
    numeric, categorical : sequence of str
        Feature columns by type.
    patients : array-like, optional
        Patient identifier (pseudonym) of each row; enables the duplicate and
        split-overlap checks.
    patient_column : str, default="patient_id"
        Name of the identifier column, for the report.
    splits : mapping of str to ndarray, optional
        Split name -> row positions (e.g. ``{"train": idx, "test": idx}``).
    repeats_allowed : bool, default=False
        Whether a patient may have several rows (a patient-grouped split).
    band : (float, float), default=DEFAULT_PREVALENCE_BAND
        Plausible outcome prevalence.
    source_checks : sequence of QualityCheck, default=()
        Checks of the source read, placed first (e.g. the skipped lines of a
        FHIR export, :func:`~clinai.data._fhir_report.fhir_quality_checks`).
    strict : bool, default=False
        Raise :class:`DataError` on the first failing check.

    Returns
    -------
    DataQualityReport
        The report.
    """
    checks = list(source_checks)
    checks += check_features(X, numeric=numeric, categorical=categorical)
    checks += check_outcome(y, band=band)
    if patients is not None:
        ids = pd.Series(np.asarray(patients), name=patient_column)
        checks.append(check_duplicate_ids(ids.to_frame(), patient_column, allowed=repeats_allowed))
        if splits is not None:
            values = ids.to_numpy()
            checks.append(
                check_split_overlap(
                    {name: values[np.asarray(idx)] for name, idx in splits.items()},
                    column=patient_column,
                )
            )
    return quality_report(checks, n_rows=len(X), strict=strict)
