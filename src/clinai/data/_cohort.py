"""Cohort derivation: ordered exclusion steps and the patient flow they produce."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from clinai.exceptions import DataError

__all__ = ["apply_exclusions"]

logger = logging.getLogger(__name__)

BAD_STEP = (
    "exclusion step {index} must be a (description, bool Series) pair, got {got}: "
    "fix the pipeline's exclusions()"
)
STEP_NOT_BOOL = (
    "exclusion step {step!r} has dtype {dtype}, not bool: "
    "return a True/False Series (True = exclude) from the pipeline's exclusions()"
)
STEP_MISSING_VALUES = (
    "exclusion step {step!r} has {count} missing value(s): decide True/False for every row "
    "in the pipeline's exclusions() (for example with .fillna(False))"
)
STEP_MISALIGNED = (
    "exclusion step {step!r} is not aligned with the data ({count} row(s) of the data have no "
    "value): build it from the data frame passed to the pipeline's exclusions()"
)
STEP_WRONG_LENGTH = (
    "exclusion step {step!r} has {got} values for {expected} rows: build it from the data "
    "frame passed to the pipeline's exclusions()"
)


def _as_mask(step: str, mask: Any, index: pd.Index) -> np.ndarray:
    if isinstance(mask, pd.Series):
        if not mask.index.equals(index):
            if not mask.index.is_unique:
                raise DataError(STEP_MISALIGNED.format(step=step, count=len(index)))
            missing = int((~index.isin(mask.index)).sum())
            if missing:
                raise DataError(STEP_MISALIGNED.format(step=step, count=missing))
            mask = mask.reindex(index)
        series = mask
    else:
        values = np.asarray(mask)
        if values.ndim != 1 or len(values) != len(index):
            raise DataError(
                STEP_WRONG_LENGTH.format(step=step, got=values.size, expected=len(index))
            )
        series = pd.Series(values, index=index)
    n_missing = int(series.isna().sum())
    if n_missing:
        raise DataError(STEP_MISSING_VALUES.format(step=step, count=n_missing))
    if not (pd.api.types.is_bool_dtype(series.dtype)):
        raise DataError(STEP_NOT_BOOL.format(step=step, dtype=series.dtype))
    return series.to_numpy(dtype=bool)


def apply_exclusions(
    df: pd.DataFrame, steps: Sequence[tuple[str, pd.Series]]
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Apply ordered exclusion steps and record the patient flow.

    Steps are applied in order. A row excluded by an earlier step is not counted
    again by a later one, so the ``excluded`` counts add up to the rows removed.

    Parameters
    ----------
    df : pandas.DataFrame
        The source data.
    steps : sequence of (str, pandas.Series)
        ``(description, mask)`` pairs where ``mask`` is a boolean Series on
        ``df``'s index (or a boolean array of ``len(df)``); True excludes the row.

    Returns
    -------
    cohort : pandas.DataFrame
        The rows that no step excluded, with ``df``'s index kept.
    flow : list of dict
        ``{"step", "excluded", "remaining"}`` records; the first is
        ``{"step": "source", "excluded": 0, "remaining": len(df)}``.

    Raises
    ------
    DataError
        If a step is malformed, not boolean, has missing values, or is not
        aligned with ``df``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"age": [15, 40, 70, 80]})
    >>> cohort, flow = apply_exclusions(
    ...     df, [("age < 18", df["age"] < 18), ("age >= 75", df["age"] >= 75)]
    ... )
    >>> [f["remaining"] for f in flow]
    [4, 3, 2]
    """
    keep = np.ones(len(df), dtype=bool)
    flow: list[dict[str, Any]] = [{"step": "source", "excluded": 0, "remaining": len(df)}]
    for index, step in enumerate(steps):
        if not isinstance(step, tuple | list) or len(step) != 2 or not isinstance(step[0], str):
            got = type(step).__name__
            if isinstance(step, tuple | list):
                got = f"a {got} of length {len(step)}"
            raise DataError(BAD_STEP.format(index=index, got=got))
        description, raw_mask = step
        mask = _as_mask(description, raw_mask, df.index)
        excluded = int((mask & keep).sum())
        keep &= ~mask
        flow.append({"step": description, "excluded": excluded, "remaining": int(keep.sum())})
        logger.info("exclusion %r: %s excluded, %s remaining", description, excluded, keep.sum())
    return df.loc[keep].copy(), flow
