"""The columns of a predictions file, as every form of ``clinai validate`` checks them.

The options name columns (``--outcome``, ``--score``, ``--time``, ``--group``,
``--patient``, ...); each check stops in one line naming the column and what to do.
A bad cell is named by its data row (1 = the first row after the header), never by
its value: a column passed by mistake may hold patient identifiers.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from clinai import data
from clinai.exceptions import DataError

__all__ = [
    "check_named_columns",
    "groups_and_patients",
    "identifier_like",
    "numeric_column",
    "risk_column",
]

logger = logging.getLogger(__name__)

_ONE_LEVEL = (
    "group column {column!r} has only one level ({level!r}): subgroup analysis needs at least "
    "two; drop --group {column} or check the file"
)
#: Share of rows whose group label no other row has, from which a grouping is refused.
SINGLETON_SHARE = 0.5
GROUP_IS_PATIENT = (
    "column {column!r} is both --group and --patient: a group is an attribute patients share "
    "(sex, age band, ward), never the identifier, whose values would reach the report; drop "
    "it from --group"
)
GROUP_LOOKS_LIKE_ID = (
    "column {column!r} (--group) has a value of its own in {single} of {n} rows: it looks like "
    "an identifier or a measurement, and each of its values would be printed in the report; "
    "group by an attribute with a few levels (e.g. age bands)"
)
_SAME_COLUMN = "--{first} and --{second} name the same column {column!r}: give different columns"
NOT_NUMERIC = (
    "column {column!r} ({option}) must hold numbers; {count} row(s) hold text ({rows}): {fix}"
)
FIX_TEXT = "correct those values or drop the rows"
FIX_DECIMAL_COMMA = (
    "write decimals with a point, or save the whole file semicolon-separated as Excel does "
    "under Danish settings"
)
MISSING_VALUES = (
    "column {column!r} ({option}) has {count} missing value(s) ({rows}): every row needs one "
    "(drop or complete those rows)"
)
RISK_RANGE = (
    "column {column!r} ({option}) must hold predicted risks in [0, 1]; {count} row(s) lie "
    "outside ({rows}){hint}"
)
PERCENT_HINT = ": percentages? divide the column by 100"
LABELS_ONLY = (
    "column %r (%s) holds only 0 and 1: predicted classes, not risks? The AUROC of labels is "
    "the mean of sensitivity and specificity, and calibration and decision curves need risks: "
    "give the model's predicted probabilities if it has them"
)
_DECIMAL_COMMA = r"^\s*[-+]?\d*,\d+\s*$"


def _rows(mask: np.ndarray) -> str:
    """Name the data rows of ``mask`` (the first five), 1 = the first row after the header."""
    rows = np.flatnonzero(mask) + 1
    shown = ", ".join(str(r) for r in rows[:5])
    more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    return f"{'row' if len(rows) == 1 else 'rows'} {shown}{more}"


def numeric_column(frame: pd.DataFrame, column: str, option: str) -> np.ndarray:
    """Return a column of a predictions file as float64, or stop in one line naming it.

    Text that is not a number (a decimal comma under a comma-separated file, a word)
    and missing values are refused with their row numbers, never their values.
    """
    values = pd.to_numeric(frame[column], errors="coerce")
    text = (values.isna() & frame[column].notna()).to_numpy()
    if text.any():
        comma = frame[column][text].astype(str).str.match(_DECIMAL_COMMA).any()
        raise DataError(
            NOT_NUMERIC.format(
                column=column,
                option=option,
                count=int(text.sum()),
                rows=_rows(text),
                fix=FIX_DECIMAL_COMMA if comma else FIX_TEXT,
            )
        )
    array = values.to_numpy(dtype=float)
    missing = ~np.isfinite(array)
    if missing.any():
        raise DataError(
            MISSING_VALUES.format(
                column=column, option=option, count=int(missing.sum()), rows=_rows(missing)
            )
        )
    return array


def risk_column(frame: pd.DataFrame, column: str, option: str = "--score") -> np.ndarray:
    """Return a column of predicted risks (numbers in [0, 1]), or stop in one line naming it."""
    risk = numeric_column(frame, column, option)
    outside = (risk < 0) | (risk > 1)
    if outside.any():
        percent = bool((risk >= 0).all() and (risk <= 100).all())
        raise DataError(
            RISK_RANGE.format(
                column=column,
                option=option,
                count=int(outside.sum()),
                rows=_rows(outside),
                hint=PERCENT_HINT if percent else "",
            )
        )
    if risk.size and np.isin(risk, (0.0, 1.0)).all():
        logger.warning(LABELS_ONLY, column, option)
    return risk


def check_named_columns(
    frame: Any, named: Mapping[str, str | None], groups: Sequence[str], *, where: str
) -> None:
    """Refuse two options naming one column, and columns the file lacks (one line each)."""
    named_columns = [(k, v) for k, v in named.items() if v is not None]
    for i, (first, column) in enumerate(named_columns):
        for second, other in named_columns[i + 1 :]:
            if column == other:
                raise DataError(_SAME_COLUMN.format(first=first, second=second, column=column))
    data.check_columns(frame, [c for _, c in named_columns] + list(groups), where=where)


def identifier_like(values: pd.Series) -> int | None:
    """Return how many rows have a label of their own, when that is most rows (else None).

    Small-cell suppression hides a group's numbers, not its label: grouping by a patient
    id (or its pseudonym) would print every patient's id in the subgroup tables.
    """
    counts = values.astype(str).value_counts()
    single = int((counts == 1).sum())
    return single if single > SINGLETON_SHARE * len(values) else None


def _check_groups_are_not_identifiers(
    frame: pd.DataFrame, groups: Sequence[str], patient: str | None
) -> None:
    """Refuse a --group column that is, or looks like, a patient identifier.

    Suppression hides a small group's numbers, not its label: with the identifier as a
    group every patient's id was printed in the report's subgroup table.
    """
    for column in groups:
        if column == patient:
            raise DataError(GROUP_IS_PATIENT.format(column=column))
        single = identifier_like(frame[column])
        if single is not None:
            raise DataError(GROUP_LOOKS_LIKE_ID.format(column=column, single=single, n=len(frame)))


def groups_and_patients(
    frame: Any, groups: Sequence[str], patient: str | None
) -> tuple[Any, np.ndarray | None]:
    """Subgroup columns as text (each with two levels or more) and pseudonymised patient ids."""
    sensitive = None
    _check_groups_are_not_identifiers(frame, groups, patient)
    if groups:
        sensitive = frame[list(groups)].astype(str)
        for column in groups:
            levels = sensitive[column].unique()
            if len(levels) < 2:
                raise DataError(_ONE_LEVEL.format(column=column, level=levels[0]))
    patient_ids = None
    if patient is not None:
        # An ephemeral key: the pseudonyms only group rows; they are never stored.
        key = secrets.token_bytes(32)
        patient_ids = data.pseudonymise(frame[patient].astype(str), key=key).to_numpy()
    return sensitive, patient_ids
