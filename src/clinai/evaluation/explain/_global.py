"""Global explanations from per-variable SHAP contributions: rank stability, subgroups, dependence.

All functions take the matrix ``c`` of per-variable contributions (rows x
clinical variables; see :func:`variable_contributions`) and return frozen
records. The importance of variable ``v`` on a set of rows ``R`` is
``I_R(v) = mean_{i in R} |c[i, v]|``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from clinai.evaluation._docstrings import fill_doc
from clinai.evaluation._groups import group_order
from clinai.evaluation.explain._importance import importance_from_values, variable_contributions
from clinai.evaluation.explain._results import (
    Dependence,
    DependenceLevel,
    Explanation,
    LocalExplanation,
    RankInterval,
    RankIntervals,
    SubgroupImportance,
    SubgroupImportanceCell,
)
from clinai.evaluation.explain._shap import DIRECTION_MIN_ABS_RHO, ShapValues, _spearman
from clinai.evaluation.resampling._bootstrap import bootstrap_indices
from clinai.exceptions import DataError

__all__ = [
    "CONTRIBUTIONS_MSG",
    "MISSING_LEVEL",
    "dependence_data",
    "explain_global",
    "importance_rank_intervals",
    "subgroup_importance",
]

Progress = Callable[[int, int], None]

#: Label of the rows whose value (or sensitive attribute) is missing.
MISSING_LEVEL = "missing"

CONTRIBUTIONS_MSG = (
    "contributions must be a 2-D array with one column per variable ({n_variables}); "
    "got shape {shape}"
)
ROWS_MISMATCH_MSG = (
    "{name} has {n_rows} rows but contributions has {n}: pass one row per explained row"
)
COLUMN_MSG = (
    "{name} lacks the variable {variable!r}: pass the clinical variables of the explained rows"
)
N_BOOT_MSG = "n_boot must be an integer >= 1; got {value!r}"
CI_LEVEL_MSG = "ci_level must be in (0, 1); got {value!r}"
MIN_CELL_MSG = "min_cell must be an integer >= 1; got {value!r}"


def _check_contributions(contributions: Any, variables: Sequence[str]) -> np.ndarray:
    matrix = np.asarray(contributions, dtype="float64")
    if matrix.ndim != 2 or matrix.shape[1] != len(variables) or matrix.shape[0] == 0:
        raise DataError(CONTRIBUTIONS_MSG.format(n_variables=len(variables), shape=matrix.shape))
    return matrix


def _check_int(value: Any, message: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise DataError(message.format(value=value))
    return int(value)


def _ranks(mean_abs: np.ndarray) -> np.ndarray:
    """Rank 1 = largest; ties share the mean of their ranks."""
    return np.asarray(rankdata(-mean_abs, method="average"), dtype="float64")


@fill_doc
def importance_rank_intervals(
    contributions: Any,
    variables: Sequence[str],
    *,
    n_boot: int = 200,
    ci_level: float = 0.95,
    patient_ids: Any = None,
    random_state: int | None = 0,
    progress: Progress | None = None,
) -> RankIntervals:
    """Bootstrap percentile intervals of each variable's importance rank.

    For each of ``n_boot`` resamples of the explained rows (whole patients when
    ``patient_ids`` is given; the resamples of :func:`bootstrap_indices`), the
    importance ``mean |c[i, v]|`` of every variable is recomputed and the
    variables are ranked (1 = most important, ties share their mean rank). A
    variable's interval is the ``(1 - ci_level) / 2`` and ``(1 + ci_level) / 2``
    percentiles of its ranks. A narrow interval means the ranking is stable; an
    interval such as 2-6 means the data cannot tell the variable apart from its
    neighbours.

    Parameters
    ----------
    {contributions}
    {variables}
    n_boot : int, default=200
        Bootstrap resamples.
    ci_level : float, default=0.95
        Level of the percentile interval.
    patient_ids : array-like of shape (n_rows,), optional
        Patient of each row, to resample patients rather than rows.
    random_state : int or None, default=0
        Seed.
    {progress}

    Returns
    -------
    RankIntervals
        Variables sorted by their rank on all rows.

    Raises
    ------
    DataError
        On a malformed ``contributions``, ``n_boot`` or ``ci_level``.

    Examples
    --------
    >>> import numpy as np
    >>> c = np.array([[3.0, 1.0], [2.0, -1.0], [4.0, 0.5]])
    >>> result = importance_rank_intervals(c, ["a", "b"], n_boot=50)
    >>> [(v.variable, v.rank, v.rank_low, v.rank_high) for v in result.variables]
    [('a', 1.0, 1.0, 1.0), ('b', 2.0, 2.0, 2.0)]
    """
    matrix = np.abs(_check_contributions(contributions, variables))
    n_boot = _check_int(n_boot, N_BOOT_MSG)
    if not 0 < float(ci_level) < 1:
        raise DataError(CI_LEVEL_MSG.format(value=ci_level))
    full = matrix.mean(axis=0)
    replicate_ranks = np.empty((n_boot, len(variables)))
    for b, index in enumerate(
        bootstrap_indices(
            len(matrix), patient_ids=patient_ids, n_boot=n_boot, random_state=random_state
        )
    ):
        # counts of each row in the resample: one matrix-vector product, no copy of the rows
        counts = np.bincount(index, minlength=len(matrix)).astype("float64")
        replicate_ranks[b] = _ranks(counts @ matrix / counts.sum())
        if progress is not None:
            progress(b + 1, n_boot)
    alpha = (1 - float(ci_level)) / 2
    low = np.percentile(replicate_ranks, 100 * alpha, axis=0)
    high = np.percentile(replicate_ranks, 100 * (1 - alpha), axis=0)
    ranks = _ranks(full)
    items = [
        RankInterval(str(v), float(full[k]), float(ranks[k]), float(low[k]), float(high[k]))
        for k, v in enumerate(variables)
    ]
    items.sort(key=lambda item: (item.rank, item.variable))
    return RankIntervals(
        n_boot=n_boot, ci_level=float(ci_level), n_rows=len(matrix), variables=tuple(items)
    )


def _labels(values: pd.Series) -> pd.Series:
    """Group label of each row as text; missing values become :data:`MISSING_LEVEL`."""
    text = values.astype(object).where(values.notna(), MISSING_LEVEL)
    return text.astype(str)


@fill_doc
def subgroup_importance(
    contributions: Any,
    variables: Sequence[str],
    sensitive_features: pd.DataFrame,
    *,
    y_true: Any = None,
    min_cell: int = 5,
) -> tuple[SubgroupImportance, ...]:
    """Mean absolute SHAP value of every variable within each group of each sensitive attribute.

    For group ``g`` of attribute ``a``: ``I_g(v) = mean_{i: a_i = g} |c[i, v]|``.
    A group with fewer than ``min_cell`` explained rows (or, when ``y_true`` is
    given, fewer than ``min_cell`` events or non-events) is suppressed: no
    numbers, and no row count in any group of that attribute (complementary
    suppression). Missing values form the group ``"missing"``.

    Parameters
    ----------
    {contributions}
    {variables}
    sensitive_features : pandas.DataFrame
        One column per attribute, one row per explained row (same order).
    y_true : array-like of shape (n_rows,), optional
        Outcome of the explained rows, for the event count of the suppression rule.
    min_cell : int, default=5
        Smallest group reported.

    Returns
    -------
    tuple of SubgroupImportance
        One per attribute, groups in the order of :func:`group_order` (bands by
        their lower bound); importances in the order of ``variables``.

    Raises
    ------
    DataError
        If the row counts differ or ``min_cell`` is invalid.
    """
    matrix = np.abs(_check_contributions(contributions, variables))
    min_cell = _check_int(min_cell, MIN_CELL_MSG)
    frame = pd.DataFrame(sensitive_features).reset_index(drop=True)
    if len(frame) != len(matrix):
        raise DataError(
            ROWS_MISMATCH_MSG.format(name="sensitive_features", n_rows=len(frame), n=len(matrix))
        )
    y = None if y_true is None else np.asarray(y_true, dtype="float64")
    if y is not None and len(y) != len(matrix):
        raise DataError(ROWS_MISMATCH_MSG.format(name="y_true", n_rows=len(y), n=len(matrix)))
    results = []
    for attribute in frame.columns:
        labels = _labels(frame[attribute]).to_numpy()
        cells = []
        for group in group_order(labels, frame[attribute]):
            mask = labels == group
            n = int(mask.sum())
            small = n < min_cell
            if y is not None:
                events = int(y[mask].sum())
                small = small or events < min_cell or n - events < min_cell
            if small:
                cells.append(SubgroupImportanceCell(str(group), None, True))
                continue
            means = matrix[mask].mean(axis=0)
            cells.append(
                SubgroupImportanceCell(
                    str(group),
                    n,
                    False,
                    tuple((str(v), float(means[k])) for k, v in enumerate(variables)),
                )
            )
        if any(cell.suppressed for cell in cells):
            cells = [
                SubgroupImportanceCell(c.group, None, c.suppressed, c.importance) for c in cells
            ]
        results.append(SubgroupImportance(str(attribute), min_cell, tuple(cells)))
    return tuple(results)


def _box(values: np.ndarray) -> dict[str, float]:
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    reach = 1.5 * (q3 - q1)
    inside = values[(values >= q1 - reach) & (values <= q3 + reach)]
    return {
        "mean_shap": float(values.mean()),
        "q1": float(q1),
        "median": float(median),
        "q3": float(q3),
        "whisker_low": float(inside.min()),
        "whisker_high": float(inside.max()),
    }


def _is_numeric(values: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(values.dtype)) and not bool(
        pd.api.types.is_bool_dtype(values.dtype)
    )


def _is_bool(values: pd.Series) -> bool:
    return bool(pd.api.types.is_bool_dtype(values.dtype))


def _numeric_dependence(
    variable: str,
    rank: int,
    x: pd.Series,
    c: np.ndarray,
    *,
    trim: float,
    max_points: int,
    rng: np.random.Generator,
) -> Dependence:
    values = pd.to_numeric(x, errors="coerce").to_numpy(dtype="float64")
    finite = np.isfinite(values)
    xs, cs = values[finite], c[finite]
    rho = _spearman(xs, cs) if len(xs) > 1 else math.nan
    if not math.isfinite(rho) or abs(rho) < DIRECTION_MIN_ABS_RHO:
        direction = "mixed"
    else:
        direction = "positive" if rho > 0 else "negative"
    if len(xs) and trim > 0:
        # extreme values can single out a patient: the tails are not plotted
        low, high = np.quantile(xs, [trim, 1 - trim])
        keep = (xs >= low) & (xs <= high)
        xs, cs = xs[keep], cs[keep]
    if len(xs) > max_points:
        pick = rng.choice(len(xs), size=max_points, replace=False)
        xs, cs = xs[pick], cs[pick]
    order = np.lexsort((cs, xs))  # by value: the points of two variables cannot be joined
    return Dependence(
        variable=variable,
        kind="numeric",
        rank=rank,
        direction=direction,
        x=tuple(float(v) for v in xs[order]),
        shap=tuple(float(v) for v in cs[order]),
        n_missing=int((~finite).sum()),
    )


def _categorical_dependence(
    variable: str, rank: int, x: pd.Series, c: np.ndarray, *, min_cell: int
) -> Dependence:
    labels = _labels(x).to_numpy()
    levels = []
    for level in sorted(set(labels)):
        mask = labels == level
        n = int(mask.sum())
        if n < min_cell:
            levels.append(DependenceLevel(str(level), None, True))
        else:
            levels.append(DependenceLevel(str(level), n, False, **_box(c[mask])))
    if any(level.suppressed for level in levels):
        levels = [DependenceLevel(**{**lv.__dict__, "n": None}) for lv in levels]
    shown = [lv for lv in levels if not lv.suppressed and lv.mean_shap is not None]
    highest = max(shown, key=lambda lv: float(lv.mean_shap or 0.0)).level if shown else None
    lowest = min(shown, key=lambda lv: float(lv.mean_shap or 0.0)).level if shown else None
    return Dependence(
        variable=variable,
        kind="categorical",
        rank=rank,
        direction="levels",
        levels=tuple(levels),
        highest_level=highest,
        lowest_level=lowest,
    )


@fill_doc
def dependence_data(
    contributions: Any,
    variables: Sequence[str],
    X: pd.DataFrame,
    *,
    top: Sequence[str],
    min_cell: int = 5,
    max_points: int = 400,
    trim: float = 0.01,
    random_state: int | None = 0,
) -> tuple[Dependence, ...]:
    """Collect the data of a dependence plot (value against SHAP value) of each ``top`` variable.

    A numeric variable gives (value, summed SHAP value) points; rows with a
    missing value are counted, not plotted; values below the ``trim`` or above
    the ``1 - trim`` quantile are left out (extreme values can single out a
    patient); at most ``max_points`` points are kept (seeded sample) and they are
    sorted by value, so points of different variables cannot be joined into a
    patient's row. Its direction is the sign of the Spearman correlation between
    value and SHAP value (``"mixed"`` when ``|rho| < 0.1``). A categorical
    variable gives, per level, the mean SHAP value and box-plot statistics;
    levels with fewer than ``min_cell`` rows are suppressed.

    Parameters
    ----------
    {contributions}
    {variables}
    X : pandas.DataFrame
        The clinical variables (original values, before encoding) of the explained rows.
    top : sequence of str
        Variables to describe, most important first.
    min_cell : int, default=5
        Smallest category level reported.
    max_points : int, default=400
        Largest number of points of a numeric variable.
    trim : float, default=0.01
        Share of each tail of a numeric variable left out of the points.
    random_state : int or None, default=0
        Seed of the point sample.

    Returns
    -------
    tuple of Dependence
        In the order of ``top``.

    Raises
    ------
    DataError
        If ``X`` lacks a variable or has a different number of rows.
    """
    matrix = _check_contributions(contributions, variables)
    min_cell = _check_int(min_cell, MIN_CELL_MSG)
    max_points = _check_int(max_points, "max_points must be an integer >= 1; got {value!r}")
    frame = X.reset_index(drop=True)
    if len(frame) != len(matrix):
        raise DataError(ROWS_MISMATCH_MSG.format(name="X", n_rows=len(frame), n=len(matrix)))
    position = {str(v): k for k, v in enumerate(variables)}
    rng = np.random.default_rng(random_state)
    out = []
    for rank, variable in enumerate(top, start=1):
        if variable not in frame.columns or variable not in position:
            raise DataError(COLUMN_MSG.format(name="X", variable=variable))
        c = matrix[:, position[variable]]
        if _is_numeric(frame[variable]):
            out.append(
                _numeric_dependence(
                    variable, rank, frame[variable], c, trim=trim, max_points=max_points, rng=rng
                )
            )
        else:
            out.append(
                _categorical_dependence(variable, rank, frame[variable], c, min_cell=min_cell)
            )
    return tuple(out)


def explain_global(
    shap: ShapValues,
    *,
    feature_to_variable: Mapping[str, str],
    X: pd.DataFrame,
    sensitive_features: pd.DataFrame | None = None,
    y_true: Any = None,
    patient_ids: Any = None,
    min_cell: int = 5,
    n_boot: int = 200,
    ci_level: float = 0.95,
    top_k: int = 5,
    max_points: int = 400,
    random_state: int | None = 0,
    profiles: Sequence[LocalExplanation] = (),
    progress: Progress | None = None,
) -> Explanation:
    """Compute importance, its rank intervals, subgroup importance and dependence data at once.

    ``X``, ``sensitive_features``, ``y_true`` and ``patient_ids`` hold the
    explained rows only (``shap.rows`` of the full data), in the same order.

    Parameters
    ----------
    shap : ShapValues
        From :func:`shap_values`.
    feature_to_variable : Mapping[str, str]
        Clinical variable of each encoded column.
    X : pandas.DataFrame
        Clinical variables of the explained rows (original values).
    sensitive_features : pandas.DataFrame, optional
        Sensitive attributes of the explained rows.
    y_true : array-like, optional
        Outcome of the explained rows (suppression by events in subgroups).
    patient_ids : array-like, optional
        Patient of each explained row (the bootstrap resamples patients).
    min_cell : int, default=5
    n_boot : int, default=200
    ci_level : float, default=0.95
    top_k : int, default=5
        Variables given dependence data.
    max_points : int, default=400
    random_state : int or None, default=0
    profiles : sequence of LocalExplanation, default=()
        From :func:`explain_profiles`, carried into the record.
    progress : callable, optional
        ``progress(done, n_boot)`` of the rank bootstrap.

    Returns
    -------
    Explanation
    """
    # an unordered categorical has no "higher values": its direction is by category
    categorical = [str(c) for c in X.columns if not _is_numeric(X[c]) and not _is_bool(X[c])]
    importance = importance_from_values(
        shap, feature_to_variable=feature_to_variable, categorical=categorical
    )
    variables, contributions, _ = variable_contributions(
        shap.values, feature_names=shap.feature_names, feature_to_variable=feature_to_variable
    )
    intervals = importance_rank_intervals(
        contributions,
        variables,
        n_boot=n_boot,
        ci_level=ci_level,
        patient_ids=patient_ids,
        random_state=random_state,
        progress=progress,
    )
    subgroups: tuple[SubgroupImportance, ...] = ()
    if sensitive_features is not None and len(sensitive_features.columns):
        subgroups = subgroup_importance(
            contributions, variables, sensitive_features, y_true=y_true, min_cell=min_cell
        )
    top = [v.variable for v in importance.variables[:top_k] if v.variable in X.columns]
    dependence = dependence_data(
        contributions,
        variables,
        X,
        top=top,
        min_cell=min_cell,
        max_points=max_points,
        random_state=random_state,
    )
    return Explanation(
        importance=importance,
        scale=shap.scale,
        rank_intervals=intervals,
        subgroups=subgroups,
        dependence=dependence,
        profiles=tuple(profiles),
    )
