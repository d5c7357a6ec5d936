"""A Table-1 style summary of the study population, safe to publish in a model card.

Only aggregates leave this module: medians and quartiles of numeric variables
and counts with percentages of categorical ones, overall and by outcome. Every
count from 1 to ``min_cell - 1`` is suppressed (shown as ``"<5"`` for the
default ``min_cell=5``), together with whatever would let a reader recover it by
subtraction. No patient-level value is returned.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from clinai.exceptions import DataError

__all__ = ["summarise_population"]

logger = logging.getLogger(__name__)

LENGTH_MISMATCH = (
    "population summary: {what} has {got} rows but the features have {expected}: "
    "pass the outcome and sensitive attributes of the same cohort"
)
BAD_MIN_CELL = "min_cell must be a positive integer, got {value!r}"

MAX_LEVELS = 20
OTHER_LEVELS = "(other levels)"
MISSING_LEVEL = "(missing)"


def _fmt(value: float) -> str:
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _small(count: int, min_cell: int) -> bool:
    return 0 < count < min_cell


def _numeric(values: pd.Series, masks: dict[str, np.ndarray], min_cell: int) -> dict[str, Any]:
    record: dict[str, Any] = {}
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    for group, mask in masks.items():
        chunk = numbers[mask]
        present = chunk[~np.isnan(chunk)]
        missing = int(len(chunk) - len(present))
        cell: dict[str, Any] = {
            "missing": None if _small(missing, min_cell) else missing,
            "missing_display": f"<{min_cell}" if _small(missing, min_cell) else str(missing),
        }
        if len(present) < min_cell:
            cell.update(median=None, q1=None, q3=None, suppressed=True, display=f"n<{min_cell}")
        else:
            q1, median, q3 = (float(v) for v in np.percentile(present, [25, 50, 75]))
            cell.update(
                median=median,
                q1=q1,
                q3=q3,
                suppressed=False,
                display=f"{_fmt(median)} [{_fmt(q1)}, {_fmt(q3)}]",
            )
        record[group] = cell
    return record


def _levels(values: pd.Series, min_cell: int) -> tuple[list[str], pd.Series]:
    if isinstance(values.dtype, pd.CategoricalDtype):
        order = [str(c) for c in values.cat.categories]
    else:
        order = sorted({str(v) for v in values.dropna().tolist()})
    labels = values.map(lambda v: MISSING_LEVEL if pd.isna(v) else str(v)).astype(object)
    if len(order) > MAX_LEVELS:
        # Many levels (free text, an identifier): name only frequent levels, pool the rest.
        counts = labels[labels != MISSING_LEVEL].value_counts()
        kept = set(counts[counts >= min_cell].index[:MAX_LEVELS])
        order = [level for level in order if level in kept] + [OTHER_LEVELS]
        labels = labels.map(lambda v: v if v in kept or v == MISSING_LEVEL else OTHER_LEVELS)
    if (labels == MISSING_LEVEL).any():
        order = [*order, MISSING_LEVEL]
    return order, labels


def _suppress(
    order: list[str],
    counts: dict[str, dict[str, int]],
    columns: list[str],
    min_cell: int,
) -> set[str]:
    """Levels to hide in ``columns`` (primary and complementary suppression)."""
    hidden = {level for level in order if any(_small(counts[g][level], min_cell) for g in columns)}
    # Hide the next smallest level while the hidden cells could be recovered from the
    # column totals: one hidden level, or hidden cells of a column adding up to a small count.
    while hidden:
        exposed = len(hidden) == 1 or any(
            _small(sum(counts[g][level] for level in hidden), min_cell) for g in columns
        )
        visible = sorted(
            (level for level in order if level not in hidden and counts["overall"][level] > 0),
            key=lambda level: counts["overall"][level],
        )
        if not exposed or not visible:
            break
        hidden.add(visible[0])
    return hidden


def _categorical(
    values: pd.Series, masks: dict[str, np.ndarray], min_cell: int
) -> list[dict[str, Any]]:
    order, labels = _levels(values, min_cell)
    label_arr = labels.to_numpy()
    counts = {
        group: {level: int((label_arr[mask] == level).sum()) for level in order}
        for group, mask in masks.items()
    }
    # The overall column and the by-outcome columns are suppressed as two blocks. A level
    # hidden in one outcome column is hidden in both, since overall = events + non_events.
    hidden = {"overall": _suppress(order, counts, ["overall"], min_cell)}
    by_outcome = [g for g in masks if g != "overall"]
    if by_outcome:
        both = _suppress(order, counts, by_outcome, min_cell) | hidden["overall"]
        hidden.update({g: both for g in by_outcome})
    totals = {group: int(mask.sum()) for group, mask in masks.items()}
    rows = []
    for level in order:
        row: dict[str, Any] = {"level": level}
        for group in masks:
            count = counts[group][level]
            if level in hidden[group]:
                row[group] = {
                    "n": None,
                    "percent": None,
                    "suppressed": True,
                    "display": f"<{min_cell}" if _small(count, min_cell) else "suppressed",
                }
            else:
                percent = 100.0 * count / totals[group] if totals[group] else 0.0
                row[group] = {
                    "n": count,
                    "percent": round(percent, 1),
                    "suppressed": False,
                    "display": f"{count} ({percent:.1f}%)",
                }
        rows.append(row)
    return rows


def _is_binary_numeric(values: pd.Series) -> bool:
    present = values.dropna()
    return len(present) > 0 and bool(present.isin([0, 1]).all())


def _summarise_frame(
    frame: pd.DataFrame, masks: dict[str, np.ndarray], min_cell: int
) -> list[dict[str, Any]]:
    types = pd.api.types
    records: list[dict[str, Any]] = []
    for name in frame.columns:
        column = frame[name].reset_index(drop=True)
        dtype = column.dtype
        is_number = (
            types.is_numeric_dtype(dtype)
            and not types.is_bool_dtype(dtype)
            and not isinstance(dtype, pd.CategoricalDtype)
        )
        if is_number and not _is_binary_numeric(column):
            summary = _numeric(column, masks, min_cell)
            records.append({"name": str(name), "kind": "numeric", **summary})
        else:
            kind = "binary" if is_number else "categorical"
            records.append(
                {"name": str(name), "kind": kind, "levels": _categorical(column, masks, min_cell)}
            )
    return records


def summarise_population(
    X: pd.DataFrame,
    sensitive: pd.DataFrame | None,
    y: pd.Series | np.ndarray,
    *,
    min_cell: int = 5,
) -> dict[str, Any]:
    """Summarise the population (Table 1) overall and by outcome, with small cells suppressed.

    Numeric variables are reported as median [first quartile, third quartile]
    (numpy's linear percentiles) with the number missing; 0/1 numeric and
    categorical variables as count (percent) per level, missing values as the
    level ``"(missing)"``. Percentages use the column total as denominator.

    Suppression (``min_cell``) treats the overall column and the two by-outcome
    columns as separate blocks. In a block, a level with a count between 1 and
    ``min_cell - 1`` in any of its columns is hidden in all of them; then, while
    only one level is hidden or the hidden cells of a column add up to a count
    between 1 and ``min_cell - 1``, the next smallest level is hidden too, so no
    small count can be recovered from the column totals. A level hidden overall
    is hidden by outcome as well. Numeric summaries of fewer than ``min_cell``
    values, and the by-outcome columns when events or non-events number fewer
    than ``min_cell``, are suppressed. Categorical variables with more than 20
    levels (free text, an identifier) name at most the 20 most frequent levels
    with at least ``min_cell`` patients and pool the rest as ``"(other levels)"``,
    so no rare value is printed.

    Parameters
    ----------
    X : pandas.DataFrame
        The features of the cohort.
    sensitive : pandas.DataFrame or None
        The sensitive attributes of the same cohort (rows in the same order).
    y : pandas.Series or numpy.ndarray
        The binary outcome (0/1) of the same cohort.
    min_cell : int, default 5
        Smallest count shown.

    Returns
    -------
    dict
        JSON-ready: ``n``, ``events``, ``prevalence``, ``min_cell``, ``groups``
        (the columns reported: ``overall`` and, unless suppressed, ``events`` and
        ``non_events``), ``group_sizes``, ``features`` and
        ``sensitive_attributes`` (lists of variable records).

    Raises
    ------
    DataError
        If the inputs have different numbers of rows or ``min_cell`` < 1.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"age": range(40, 60), "sex": ["F"] * 17 + ["M"] * 3})
    >>> s = summarise_population(X, None, [0, 1] * 10)
    >>> [level["overall"]["display"] for level in s["features"][1]["levels"]]
    ['suppressed', '<5']
    """
    if isinstance(min_cell, bool) or not isinstance(min_cell, int) or min_cell < 1:
        raise DataError(BAD_MIN_CELL.format(value=min_cell))
    outcome = np.asarray(y, dtype=float).ravel()
    if len(outcome) != len(X):
        raise DataError(
            LENGTH_MISMATCH.format(what="the outcome", got=len(outcome), expected=len(X))
        )
    if sensitive is not None and len(sensitive) != len(X):
        raise DataError(
            LENGTH_MISMATCH.format(
                what="the sensitive attributes", got=len(sensitive), expected=len(X)
            )
        )
    n = len(outcome)
    events = int(np.nansum(outcome == 1))
    non_events = int(np.nansum(outcome == 0))
    masks: dict[str, np.ndarray] = {"overall": np.ones(n, dtype=bool)}
    by_outcome = events >= min_cell and non_events >= min_cell
    if by_outcome:
        masks["events"] = outcome == 1
        masks["non_events"] = outcome == 0
    else:
        logger.info("population summary: by-outcome columns suppressed (fewer than min_cell)")
    # Events are hidden when they or the non-events (n - events) form a small cell.
    hide_events = _small(events, min_cell) or _small(non_events, min_cell)
    summary: dict[str, Any] = {
        "n": n,
        "events": None if hide_events else events,
        "events_display": "suppressed" if hide_events else str(events),
        "prevalence": None if hide_events or n == 0 else round(events / n, 4),
        "min_cell": min_cell,
        "groups": list(masks),
        "group_sizes": {group: int(mask.sum()) for group, mask in masks.items()},
        "features": _summarise_frame(X, masks, min_cell),
        "sensitive_attributes": (
            _summarise_frame(sensitive, masks, min_cell) if sensitive is not None else []
        ),
    }
    return summary
