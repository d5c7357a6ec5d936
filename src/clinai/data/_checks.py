"""Data checks that stop a run with one line naming the column and what to do.

No message contains a patient-level value or identifier: only column names,
counts, row numbers and (for a non-binary outcome) a few of the distinct outcome
codes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from clinai.data._docstrings import fill_doc
from clinai.exceptions import DataError

__all__ = [
    "check_all_missing",
    "check_binary_outcome",
    "check_cohort_not_empty",
    "check_columns",
    "check_finite_features",
    "check_no_patient_overlap",
    "check_numeric_text",
    "missing_mask",
]

logger = logging.getLogger(__name__)

MISSING_COLUMNS = (
    "{noun} {names} not found in {where}: available columns are {available}; "
    "check the pipeline or data"
)
OUTCOME_EMPTY = "{label} has no rows: check the cohort and the pipeline's exclusions()"
OUTCOME_MISSING = (
    "{label} has {count} missing value(s): exclude those rows in the pipeline's "
    "exclusions() or fix the data"
)
OUTCOME_NOT_BINARY = (
    "{label} must be binary 0/1 (or True/False), found {values}: "
    "recode it in the pipeline's outcome()"
)
#: The same two in a file the user gives (``clinai validate``): fixed in the file, not a pipeline.
OUTCOME_MISSING_IN_FILE = (
    "{label} of {where} has {count} missing value(s): drop those rows or fill them in"
)
OUTCOME_NOT_BINARY_IN_FILE = (
    "{label} of {where} must be binary 0/1 (or True/False), found {values}: recode it in the file"
)
OUTCOME_ONE_CLASS = (
    "{label} has only one class ({value}) in {n} rows: a model needs both events and "
    "non-events; check the outcome definition and the exclusions"
)
COHORT_EMPTY = (
    "no patients left in {where} after the exclusions: check the pipeline's exclusions() "
    "and the data"
)
PATIENT_OVERLAP = (
    "{count} patient(s) appear in both the training and the test split: split by patient "
    "(split.method: grouped, with data.patient_id set)"
)
NOT_FINITE = (
    "feature column(s) {columns} contain infinite values: replace them with missing values "
    "or fix the derivation in the pipeline's features()"
)
ALL_MISSING = (
    "feature column(s) {columns} are missing in every row: drop them in the pipeline's "
    "features() or fix the data"
)

NUMERIC_TEXT_COLUMN = "column '{column}': {count} {verb} text in a numeric column ({rows})"
NUMERIC_TEXT = (
    "{findings}: fix the value(s) in the data, or declare the column categorical in the "
    "pipeline (CATEGORICAL = [...] in the pipeline module, or .astype('category') in "
    "features())"
)
NUMERIC_TEXT_ROWS = "{noun} {rows}"

#: Text that stands for a missing value (compared after stripping spaces): a blank, and
#: what ``astype(str)`` makes of a missing value (``nan``, ``<NA>``, ``NaT``). Words such as
#: ``None`` or ``NA`` are not in it: a pipeline may use them as a category on purpose
#: (icu_mortality's coma level ``None``), and a CSV reader has already made them missing.
MISSING_TEXT = frozenset({"", "nan", "NaN", "-nan", "<NA>", "NaT"})
#: A text column whose non-missing values are numbers in at least this share of rows
#: (and in not all of them) is a numeric column holding text.
NUMERIC_SHARE = 0.9

_MAX_LISTED = 20
_MAX_ROWS_LISTED = 5


def _quoted(names: Iterable[Any], *, limit: int = _MAX_LISTED) -> str:
    names = [str(n) for n in names]
    shown = ", ".join(f"'{n}'" for n in names[:limit])
    return shown + (f" (and {len(names) - limit} more)" if len(names) > limit else "")


def _plain(names: Iterable[Any], *, limit: int = _MAX_LISTED) -> str:
    names = [str(n) for n in names]
    shown = ", ".join(names[:limit])
    return shown + (f" ... ({len(names) - limit} more)" if len(names) > limit else "")


def _outcome_label(column: str) -> str:
    # A bare column name reads "outcome column 'died'"; a phrase is used as given.
    return str(column) if " " in str(column) else f"outcome column '{column}'"


def check_columns(df: pd.DataFrame, columns: Sequence[str], *, where: str) -> None:
    """Check that ``df`` has every column in ``columns``.

    Parameters
    ----------
    df : pandas.DataFrame
        The table to check.
    columns : sequence of str
        Column names that must be present.
    where : str
        What ``df`` is, for the message (for example ``"the data (data.patient_id)"``).

    Raises
    ------
    DataError
        ``column 'age' not found in <where>: available columns are ...; check the
        pipeline or data``.

    Examples
    --------
    >>> import pandas as pd
    >>> check_columns(pd.DataFrame({"age": [1]}), ["age"], where="the data")
    """
    missing = [c for c in columns if c not in df.columns]
    if missing:
        noun = "column" if len(missing) == 1 else "columns"
        raise DataError(
            MISSING_COLUMNS.format(
                noun=noun, names=_quoted(missing), where=where, available=_plain(df.columns)
            )
        )


def check_binary_outcome(
    y: pd.Series | np.ndarray | Sequence[Any], *, column: str, in_file: str | None = None
) -> None:
    """Check that an outcome is binary (0/1 or True/False), complete and has both classes.

    Parameters
    ----------
    y : pandas.Series or array-like
        The outcome, one value per patient.
    column : str
        The outcome's name: a bare column name (``"died"``) is shown as
        ``outcome column 'died'``; a phrase (containing a space) is used as given.
    in_file : str, optional
        The file the outcome was read from as the user gave it (for example
        ``"predictions file 'x.csv'"``): the messages then say to fix the file, not
        a pipeline.

    Raises
    ------
    DataError
        If ``y`` is empty, has missing values, has values other than 0/1, or has
        only one class.

    Examples
    --------
    >>> check_binary_outcome([0, 1, 1, 0], column="died")
    """
    label = _outcome_label(column)
    series = y if isinstance(y, pd.Series) else pd.Series(np.asarray(y, dtype=object))
    if len(series) == 0:
        raise DataError(OUTCOME_EMPTY.format(label=label))
    n_missing = int(series.isna().sum())
    if n_missing:
        if in_file is not None:
            raise DataError(
                OUTCOME_MISSING_IN_FILE.format(label=label, where=in_file, count=n_missing)
            )
        raise DataError(OUTCOME_MISSING.format(label=label, count=n_missing))
    distinct = pd.unique(series.to_numpy(dtype=object))
    bad = [v for v in distinct if not _is_binary_code(v)]
    if bad:
        values = ", ".join(repr(_py(v)) for v in sorted(bad, key=str)[:5])
        more = f" and {len(bad) - 5} other value(s)" if len(bad) > 5 else ""
        if in_file is not None:
            raise DataError(
                OUTCOME_NOT_BINARY_IN_FILE.format(label=label, where=in_file, values=values + more)
            )
        raise DataError(OUTCOME_NOT_BINARY.format(label=label, values=values + more))
    classes = {int(v) for v in distinct}
    if len(classes) < 2:
        raise DataError(OUTCOME_ONE_CLASS.format(label=label, value=classes.pop(), n=len(series)))


def _py(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _is_binary_code(value: Any) -> bool:
    value = _py(value)
    if isinstance(value, bool):
        return True
    if isinstance(value, int | float):
        return value in (0, 1)
    return False


def check_cohort_not_empty(df: pd.DataFrame, *, where: str = "the cohort") -> None:
    """Check that at least one row is left after the exclusions.

    Parameters
    ----------
    df : pandas.DataFrame
        The cohort.
    where : str, default "the cohort"
        What the cohort is, for the message (for example ``"pipeline 'icu_mortality'"``).

    Raises
    ------
    DataError
        If ``df`` has no rows.

    Examples
    --------
    >>> import pandas as pd
    >>> check_cohort_not_empty(pd.DataFrame({"age": [70]}))
    """
    if len(df) == 0:
        raise DataError(COHORT_EMPTY.format(where=where))


def check_no_patient_overlap(
    train_ids: pd.Series | np.ndarray | Sequence[Any],
    test_ids: pd.Series | np.ndarray | Sequence[Any],
) -> None:
    """Check that no patient appears in both the training and the test split.

    The message gives only the number of shared patients, never their identifiers.

    Parameters
    ----------
    train_ids, test_ids : pandas.Series or array-like
        Patient identifiers (pseudonyms) of the rows in each split.

    Raises
    ------
    DataError
        If any identifier occurs on both sides.

    Examples
    --------
    >>> check_no_patient_overlap(["a", "a", "b"], ["c"])
    """
    shared = set(pd.unique(np.asarray(train_ids, dtype=object))) & set(
        pd.unique(np.asarray(test_ids, dtype=object))
    )
    if shared:
        raise DataError(PATIENT_OVERLAP.format(count=len(shared)))


@fill_doc
def check_finite_features(X: pd.DataFrame) -> None:
    """Check that no numeric feature contains an infinite value (missing values are allowed).

    {features_parameters}

    Raises
    ------
    DataError
        Naming every column with ``inf`` or ``-inf``.

    Examples
    --------
    >>> import pandas as pd
    >>> check_finite_features(pd.DataFrame({"age": [70.0, None]}))
    """
    bad = []
    for name in X.columns:
        column = X[name]
        if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(
            column.dtype
        ):
            values = column.to_numpy(dtype=float, na_value=np.nan)
            if np.isinf(values).any():
                bad.append(name)
    if bad:
        raise DataError(NOT_FINITE.format(columns=_quoted(bad)))


@fill_doc
def check_all_missing(X: pd.DataFrame) -> None:
    """Check that no feature column is missing in every row.

    {features_parameters}

    Raises
    ------
    DataError
        Naming every entirely missing column.

    Examples
    --------
    >>> import pandas as pd
    >>> check_all_missing(pd.DataFrame({"age": [70.0, None]}))
    """
    if len(X) == 0:
        return
    bad = [name for name in X.columns if bool(X[name].isna().all())]
    if bad:
        raise DataError(ALL_MISSING.format(columns=_quoted(bad)))


def missing_mask(series: pd.Series) -> pd.Series:
    """Return True where a value is missing, including text that stands for a missing value.

    A value is missing when pandas says so (``NaN``, ``None``, ``NaT``, ``<NA>``)
    or, in a text (object or string) column, when it is a string that is blank or,
    after stripping spaces, one of :data:`MISSING_TEXT` (``"nan"``, ``"<NA>"``,
    ``"NaT"``). Such text comes from ``astype(str)`` on a column with missing
    values, or from a source that writes a blank as a space.

    Parameters
    ----------
    series : pandas.Series
        One column.

    Returns
    -------
    pandas.Series of bool
        Aligned with ``series``.

    Examples
    --------
    >>> import pandas as pd
    >>> missing_mask(pd.Series(["a", None, " ", "nan", "None"])).tolist()
    [False, True, True, True, False]
    """
    mask = series.isna()
    dtype = series.dtype
    if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        text = series.map(lambda v: isinstance(v, str) and v.strip() in MISSING_TEXT)
        mask = mask | text.astype(bool)
    return mask.astype(bool)


def _row_numbers(index: pd.Index, mask: np.ndarray) -> tuple[str, list[int]]:
    """Return the rows to name: source rows when the index is the source's, else cohort rows.

    An integer index without repeats is taken as the source's row labels (a
    pipeline that keeps the index of the data it was given, as the cohort does):
    label 0 is data row 1, the first row after a CSV's header. Any other index
    gives 1-based positions in the cohort.
    """
    if pd.api.types.is_integer_dtype(index.dtype) and index.is_unique and (index >= 0).all():
        return "data row", [int(v) + 1 for v in index[mask]]
    return "cohort row", [int(i) + 1 for i in np.flatnonzero(mask)]


def check_numeric_text(X: pd.DataFrame, *, categorical: Iterable[str] = ()) -> None:
    """Stop when a numeric feature holds text, instead of treating it as categorical.

    A text (object or string dtype) feature column counts as a numeric column
    holding text when, among its non-missing values (see :func:`missing_mask`),
    at least :data:`NUMERIC_SHARE` (90 %) of the rows parse as numbers
    (``pandas.to_numeric``) and at least one row does not. A categorical column
    whose values are mostly words, with a few numeric-looking codes, is never
    flagged; nor is a column of dtype ``category`` or a name in ``categorical``
    (the pipeline's ``CATEGORICAL`` declaration). The message gives counts and row
    numbers, never a value.

    Parameters
    ----------
    X : pandas.DataFrame
        The features.
    categorical : iterable of str
        Columns declared categorical: not checked.

    Raises
    ------
    DataError
        Naming every such column with the number of rows and the first row
        numbers (data rows, 1 = first row after the header, when ``X`` keeps
        the source's integer index; otherwise rows of the cohort).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"ward": ["A", "B", "12"], "age": ["70", "81", "66"]})
    >>> check_numeric_text(X)
    >>> check_numeric_text(pd.DataFrame({"age": ["70"] * 9 + ["old"]}))
    Traceback (most recent call last):
    ...
    clinai.exceptions.DataError: column 'age': 1 row holds text in a numeric column (data row 10): ...
    """  # noqa: E501
    declared = set(categorical)
    findings = []
    for name in X.columns:
        series = X[name]
        dtype = series.dtype
        if name in declared or isinstance(dtype, pd.CategoricalDtype):
            continue
        if not (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)):
            continue
        present = ~missing_mask(series).to_numpy()
        n_present = int(present.sum())
        if n_present == 0:
            continue
        numbers = pd.to_numeric(series.astype(object), errors="coerce").notna().to_numpy()
        text = present & ~numbers
        n_text = int(text.sum())
        if n_text == 0 or (n_present - n_text) / n_present < NUMERIC_SHARE:
            continue
        noun, rows = _row_numbers(X.index, text)
        shown = ", ".join(str(r) for r in rows[:_MAX_ROWS_LISTED])
        if len(rows) > _MAX_ROWS_LISTED:
            shown += f" and {len(rows) - _MAX_ROWS_LISTED} more"
        findings.append(
            NUMERIC_TEXT_COLUMN.format(
                column=name,
                count=n_text,
                verb="row holds" if n_text == 1 else "rows hold",
                rows=NUMERIC_TEXT_ROWS.format(noun=noun if n_text == 1 else f"{noun}s", rows=shown),
            )
        )
    if findings:
        raise DataError(NUMERIC_TEXT.format(findings="; ".join(findings)))
