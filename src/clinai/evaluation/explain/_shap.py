"""SHAP importance per clinical variable, with one-hot columns summed back together.

A model sees encoded columns (e.g. ``sex_F`` and ``sex_M`` for the variable
``sex``); a clinician thinks in variables. SHAP values are additive, so the
contribution of a variable to one prediction is the sum of its columns' SHAP
values. The importance of a variable is the mean over the explained rows of
the absolute value of that sum.

For gradient boosting with LightGBM, exact TreeSHAP from per-leaf lookup
tables (:mod:`clinai.evaluation.explain._tree_shap_tables`) is used: the same values as
the booster's own ``pred_contrib`` and ``shap.TreeExplainer`` (tested), about 8
times faster on 100,000 rows (``benchmarks/bench_explain.py``).

shap is imported inside the functions that need it, so importing this module stays cheap.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from clinai.evaluation.explain._results import ShapImportance, VariableImportance
from clinai.evaluation.explain._tree_shap_tables import tree_shap_from_tables, tree_tables
from clinai.exceptions import DataError

__all__ = [
    "BACKGROUND_MSG",
    "DIRECTION_BY_CATEGORY",
    "DIRECTION_MIN_ABS_RHO",
    "FEATURE_NAMES_MSG",
    "KIND_MSG",
    "ROWS_MSG",
    "TREE_METHOD_MSG",
    "ShapValues",
    "importance_from_values",
    "mean_shap_values",
    "shap_importance",
    "shap_values",
    "variable_contributions",
]

ExplainerKind = Literal["tree", "linear", "kernel"]
TreeMethod = Literal["auto", "native", "tables", "shap"]

#: A variable's direction is "mixed" when ``|Spearman rho|`` is below this value.
DIRECTION_MIN_ABS_RHO = 0.1
#: The direction of an unordered categorical variable: higher or lower has no meaning, the
#: effect depends on the category (the dependence data give it per category).
DIRECTION_BY_CATEGORY = "by_category"

KIND_MSG = "kind must be one of 'tree', 'linear' or 'kernel'; got {value!r}"
FEATURE_NAMES_MSG = (
    "feature_names has {n_names} names but X_transformed has {n_columns} columns: "
    "pass one name per column"
)
ROWS_MSG = "{name} must be a positive integer; got {value!r}"
X_EMPTY_MSG = "X_transformed has no rows: explain at least one row"
BACKGROUND_MSG = (
    "background must have at least one row and the {n_columns} columns of X_transformed; "
    "got shape {shape}"
)
TREE_METHOD_MSG = (
    "tree_method must be 'auto', 'native', 'tables' or 'shap' ('native' and 'tables' need a "
    "LightGBM model); got {value!r} for estimator {estimator}"
)
TABLES_NOT_APPLICABLE_MSG = (
    "tree_method='tables' does not handle this LightGBM model (categorical splits, linear "
    "trees, several trees per iteration or a very deep path): use tree_method='native'"
)
SHAP_FAILED_MSG = "SHAP failed for kind={kind!r} and estimator {estimator}: {error}"


def _dense(values: Any) -> np.ndarray:
    """Return rows as a dense float64 array (accepts scipy sparse, DataFrame, array)."""
    if hasattr(values, "toarray"):
        values = values.toarray()
    if isinstance(values, pd.DataFrame):
        return values.to_numpy(dtype="float64")
    return np.asarray(values, dtype="float64")


def _take_rows(X: Any, rows: np.ndarray) -> np.ndarray:
    if isinstance(X, pd.DataFrame):
        return X.iloc[rows].to_numpy(dtype="float64")
    return _dense(X[rows])


def _positive_class(values: Any) -> np.ndarray:
    """SHAP values of the positive class from any of shap's output layouts for a binary model."""
    if isinstance(values, list):
        values = values[1] if len(values) == 2 else values[0]
    array = np.asarray(values, dtype="float64")
    if array.ndim == 3:
        array = array[..., 1] if array.shape[-1] == 2 else array[..., 0]
    return array


def _check_positive(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise DataError(ROWS_MSG.format(name=name, value=value))
    return int(value)


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman correlation; NaN when either input is constant."""
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    ra = rankdata(a)
    rb = rankdata(b)
    return float(np.corrcoef(ra, rb)[0, 1])


def _direction(contribution: np.ndarray, first_column: np.ndarray) -> str:
    rho = _spearman(contribution, first_column)
    if not math.isfinite(rho) or abs(rho) < DIRECTION_MIN_ABS_RHO:
        return "mixed"
    return "positive" if rho > 0 else "negative"


@dataclass(frozen=True, eq=False)
class ShapValues:
    """Per-row, per-column SHAP values of the positive class (not a report: rows stay here).

    Attributes
    ----------
    values : numpy.ndarray of shape (n_rows, n_columns)
        SHAP value of each explained row and encoded column.
    X_rows : numpy.ndarray of shape (n_rows, n_columns)
        The explained rows (the estimator's input).
    rows : numpy.ndarray of shape (n_rows,)
        Position of each explained row in ``X_transformed`` (sorted).
    base_value : float
        Expected model output over the background (tree: over the training
        data); ``base_value + values.sum(axis=1)`` is the model output of each row.
    method : str
        Explainer and scale, e.g. ``"LightGBM pred_contrib (TreeSHAP, log-odds)"``.
    scale : str
        ``"log-odds"`` or ``"probability"``.
    feature_names : tuple of str
        Name of each column.
    """

    values: np.ndarray
    X_rows: np.ndarray
    rows: np.ndarray
    base_value: float
    method: str
    scale: str
    feature_names: tuple[str, ...]


def mean_shap_values(members: Sequence[ShapValues]) -> ShapValues:
    """Average the SHAP values of the fold models of a calibrated ensemble.

    SHAP values are additive in the model output, so the mean of the members'
    values (and base values) explains the mean of their outputs exactly:
    ``mean(base) + mean(values).sum(axis=1)`` is the mean log-odds of the fold
    models for each row. The explained rows and columns must be the same.

    Parameters
    ----------
    members : sequence of ShapValues
        One per fold model, for the same rows and columns.

    Returns
    -------
    ShapValues
        The averaged values; ``X_rows`` are the first member's (each fold model
        scales its inputs a little differently).

    Raises
    ------
    ValueError
        If the members explain different rows or columns.
    """
    first = members[0]
    for other in members[1:]:
        if other.feature_names != first.feature_names or not np.array_equal(other.rows, first.rows):
            raise ValueError("mean_shap_values: the members explain different rows or columns")
    if len(members) == 1:
        return first
    return replace(
        first,
        values=np.mean([m.values for m in members], axis=0),
        base_value=float(np.mean([m.base_value for m in members])),
        method=f"mean of {len(members)} calibrated fold models: {first.method}",
    )


def _is_lightgbm(estimator: Any) -> bool:
    """Tell a fitted LightGBM classifier, without importing lightgbm."""
    return type(estimator).__name__ == "LGBMClassifier" and hasattr(estimator, "booster_")


def _native_contributions(estimator: Any, X_rows: np.ndarray) -> tuple[np.ndarray, float]:
    """LightGBM's own TreeSHAP: ``pred_contrib=True`` gives (n, m + 1), the last column the bias."""
    booster = estimator.booster_
    contributions = np.asarray(booster.predict(X_rows, pred_contrib=True), dtype="float64")
    n_columns = X_rows.shape[1]
    if contributions.shape != (X_rows.shape[0], n_columns + 1):
        raise ValueError(f"pred_contrib returned shape {contributions.shape} (multiclass model?)")
    base = float(contributions[0, -1]) if len(contributions) else math.nan
    return contributions[:, :n_columns], base


def _n_threads(estimator: Any) -> int | None:
    """Return the estimator's own thread count (``n_jobs``), ``None`` for all cores."""
    n_jobs = getattr(estimator, "n_jobs", None)
    return int(n_jobs) if isinstance(n_jobs, int) and n_jobs > 0 else None


def _expected(explainer: Any) -> float:
    return float(np.ravel(explainer.expected_value)[-1])


def shap_values(
    estimator: Any,
    X_transformed: Any,
    *,
    feature_names: Sequence[str],
    kind: ExplainerKind,
    n_background: int = 100,
    max_rows: int = 500,
    random_state: int | None = 0,
    kernel_nsamples: int | None = None,
    background: Any = None,
    tree_method: TreeMethod = "auto",
) -> ShapValues:
    """Compute per-column SHAP values of the positive class for a seeded sample of rows.

    Explainers (the SHAP values of the positive class):

    - ``"tree"``: exact TreeSHAP, tree-path-dependent, on the log-odds scale.
      ``tree_method="tables"`` tabulates each leaf's contributions once and looks
      them up per row (:mod:`clinai.evaluation.explain._tree_shap_tables`, LightGBM without
      categorical splits), ``"native"`` uses LightGBM's
      ``Booster.predict(pred_contrib=True)``, ``"shap"`` uses ``shap.TreeExplainer``;
      all give the same values. ``"auto"`` takes the tables for a LightGBM model
      where they apply (about 8 times faster than the native path on 100,000 rows:
      see benchmarks/bench_explain.py), else the native path, and
      ``shap.TreeExplainer`` for other tree models.
    - ``"linear"``: ``shap.LinearExplainer`` with an independent masker on
      ``n_background`` background rows (interventional, log-odds): for a
      logistic regression ``phi_j(x) = coef_j * (x_j - mean_j)`` with ``mean_j`` the
      background mean of column ``j``.
    - ``"kernel"``: model-agnostic ``shap.KernelExplainer`` on
      ``estimator.predict_proba(X)[:, 1]`` with ``n_background`` background rows
      (probability scale), e.g. a PyTorch model.

    Parameters
    ----------
    estimator : object
        The fitted final estimator (not the preprocessing pipeline).
    X_transformed : array-like, DataFrame or sparse matrix of shape (n, m)
        The estimator's input (preprocessed features).
    feature_names : sequence of str
        Name of each of the ``m`` columns.
    kind : {"tree", "linear", "kernel"}
        Explainer to use.
    n_background : int, default=100
        Background rows (for ``"linear"`` and ``"kernel"``), sampled with the seed.
    max_rows : int, default=500
        Rows explained, sampled without replacement with the seed (all rows, in
        order, when ``max_rows >= n``).
    random_state : int or None, default=0
        Seed of the row samples (and of the kernel explainer).
    kernel_nsamples : int, optional
        Coalitions evaluated per row by the kernel explainer; default ``2 * m + 256``.
    background : array-like of shape (k, m), optional
        Rows to draw the background sample from (e.g. transformed training
        rows); default ``X_transformed``.
    tree_method : {"auto", "native", "tables", "shap"}, default="auto"
        TreeSHAP implementation for ``kind="tree"``.

    Returns
    -------
    ShapValues
        The values, explained rows, their positions, the base value and the method.

    Raises
    ------
    DataError
        On an unknown ``kind`` or ``tree_method``, a ``feature_names`` of the wrong
        length, an invalid row count, or when shap fails on the estimator.
    """
    if kind not in ("tree", "linear", "kernel"):
        raise DataError(KIND_MSG.format(value=kind))
    native = (
        kind == "tree" and _is_lightgbm(estimator) and tree_method in ("auto", "native", "tables")
    )
    if tree_method not in ("auto", "native", "tables", "shap") or (
        kind == "tree" and tree_method in ("native", "tables") and not native
    ):
        raise DataError(
            TREE_METHOD_MSG.format(value=tree_method, estimator=type(estimator).__name__)
        )
    n_background = _check_positive(n_background, "n_background")
    max_rows = _check_positive(max_rows, "max_rows")
    if not hasattr(X_transformed, "shape"):
        X_transformed = np.asarray(X_transformed, dtype="float64")
    n_rows, n_columns = X_transformed.shape
    if len(feature_names) != n_columns:
        raise DataError(FEATURE_NAMES_MSG.format(n_names=len(feature_names), n_columns=n_columns))
    if n_rows == 0:
        raise DataError(X_EMPTY_MSG)
    rng = np.random.default_rng(random_state)
    rows = np.sort(rng.choice(n_rows, size=min(n_rows, max_rows), replace=False))
    source = X_transformed if background is None else background
    if not hasattr(source, "shape"):
        source = np.asarray(source, dtype="float64")
    if source.shape[1] != n_columns or source.shape[0] == 0:
        raise DataError(BACKGROUND_MSG.format(shape=tuple(source.shape), n_columns=n_columns))
    n_source = source.shape[0]
    background_rows = np.sort(rng.choice(n_source, size=min(n_source, n_background), replace=False))
    X_rows = _take_rows(X_transformed, rows)
    names = [str(name) for name in feature_names]

    def model_input(values: np.ndarray) -> Any:
        if hasattr(estimator, "feature_names_in_"):
            return pd.DataFrame(values, columns=names)
        return values

    scale = "log-odds"
    try:
        tables = None
        if native and tree_method in ("auto", "tables"):
            tables = tree_tables(estimator.booster_)
            if tables is None and tree_method == "tables":
                raise DataError(TABLES_NOT_APPLICABLE_MSG)
        if tables is not None:
            values = tree_shap_from_tables(tables, _dense(X_rows), n_threads=_n_threads(estimator))
            base = tables.base_value
            method = "TreeSHAP by leaf tables (exact, tree_path_dependent, log-odds)"
        elif native:
            values, base = _native_contributions(estimator, X_rows)
            method = "LightGBM pred_contrib (TreeSHAP, tree_path_dependent, log-odds)"
        else:
            import shap

            background_values = _take_rows(source, background_rows)
            if kind == "tree":
                explainer = shap.TreeExplainer(estimator)
                with warnings.catch_warnings():
                    # shap announces the list-of-arrays layout of LightGBM binary output
                    warnings.filterwarnings("ignore", message=".*LightGBM binary classifier.*")
                    values = explainer.shap_values(model_input(X_rows))
                base = _expected(explainer)
                method = "shap.TreeExplainer (tree_path_dependent, log-odds)"
            elif kind == "linear":
                masker = shap.maskers.Independent(
                    background_values, max_samples=background_values.shape[0]
                )
                explainer = shap.LinearExplainer(estimator, masker)
                values = explainer.shap_values(X_rows)
                base = _expected(explainer)
                method = "shap.LinearExplainer (interventional, log-odds)"
            else:

                def positive_probability(values: np.ndarray) -> np.ndarray:
                    return np.asarray(estimator.predict_proba(model_input(values)))[:, 1]

                nsamples = kernel_nsamples if kernel_nsamples is not None else 2 * n_columns + 256
                explainer = shap.KernelExplainer(positive_probability, background_values)
                # KernelExplainer draws coalitions from numpy's global generator: seed it
                # for reproducibility and restore the caller's state afterwards.
                state = np.random.get_state()
                np.random.seed(int(rng.integers(2**32 - 1)))
                try:
                    values = explainer.shap_values(
                        X_rows, nsamples=nsamples, l1_reg=False, silent=True
                    )
                finally:
                    np.random.set_state(state)
                base = _expected(explainer)
                method = "shap.KernelExplainer (probability)"
                scale = "probability"
    except DataError:
        raise
    except Exception as exc:
        raise DataError(
            SHAP_FAILED_MSG.format(kind=kind, estimator=type(estimator).__name__, error=exc)
        ) from exc
    matrix = _positive_class(values).reshape(X_rows.shape[0], n_columns)
    return ShapValues(
        values=matrix,
        X_rows=X_rows,
        rows=rows,
        base_value=base,
        method=method,
        scale=scale,
        feature_names=tuple(names),
    )


def variable_contributions(
    values: np.ndarray,
    *,
    feature_names: Sequence[str],
    feature_to_variable: Mapping[str, str],
) -> tuple[list[str], np.ndarray, dict[str, list[int]]]:
    """Sum the SHAP values of each clinical variable's encoded columns.

    ``c[i, v] = sum_{j in C(v)} phi[i, j]`` where ``C(v)`` are the columns of
    variable ``v`` (a column not in ``feature_to_variable`` is its own variable).

    Parameters
    ----------
    values : numpy.ndarray of shape (n_rows, n_columns)
        Per-column SHAP values.
    feature_names : sequence of str
        Name of each column.
    feature_to_variable : Mapping[str, str]
        Clinical variable of each column.

    Returns
    -------
    tuple
        ``(variables, contributions, columns_of)``: the variables in order of
        their first column, the (n_rows, n_variables) sums, and the column
        positions of each variable.
    """
    columns_of: dict[str, list[int]] = {}
    for j, name in enumerate(feature_names):
        variable = str(feature_to_variable.get(str(name), str(name)))
        columns_of.setdefault(variable, []).append(j)
    variables = list(columns_of)
    matrix = np.asarray(values, dtype="float64")
    contributions = (
        np.column_stack([matrix[:, columns_of[v]].sum(axis=1) for v in variables])
        if variables
        else np.zeros((matrix.shape[0], 0))
    )
    return variables, contributions, columns_of


def importance_from_values(
    shap: ShapValues,
    *,
    feature_to_variable: Mapping[str, str],
    categorical: Collection[str] = (),
) -> ShapImportance:
    """Mean absolute SHAP value per clinical variable from computed SHAP values.

    See :func:`shap_importance` for the definitions.

    Parameters
    ----------
    shap : ShapValues
        From :func:`shap_values`.
    feature_to_variable : Mapping[str, str]
        Clinical variable of each column.
    categorical : collection of str, default=()
        Unordered categorical variables: their direction is
        :data:`DIRECTION_BY_CATEGORY` (a sign of "higher values" means nothing for them).

    Returns
    -------
    ShapImportance
        Variables sorted by decreasing ``mean_abs_shap``.
    """
    variables, contributions, columns_of = variable_contributions(
        shap.values, feature_names=shap.feature_names, feature_to_variable=feature_to_variable
    )
    importances = [
        VariableImportance(
            variable=variable,
            mean_abs_shap=float(np.mean(np.abs(contributions[:, k]))),
            direction=DIRECTION_BY_CATEGORY
            if variable in categorical
            else _direction(contributions[:, k], shap.X_rows[:, columns_of[variable][0]]),
        )
        for k, variable in enumerate(variables)
    ]
    importances.sort(key=lambda item: -item.mean_abs_shap)
    return ShapImportance(
        method=shap.method, n_rows=int(shap.values.shape[0]), variables=tuple(importances)
    )


def shap_importance(
    estimator: Any,
    X_transformed: Any,
    *,
    feature_names: Sequence[str],
    feature_to_variable: Mapping[str, str],
    kind: ExplainerKind,
    n_background: int = 100,
    max_rows: int = 500,
    random_state: int | None = 0,
    kernel_nsamples: int | None = None,
    background: Any = None,
    tree_method: TreeMethod = "auto",
    categorical: Collection[str] = (),
) -> ShapImportance:
    """Mean absolute SHAP value per clinical variable, one-hot columns summed back.

    For variable ``v`` with encoded columns ``C(v)`` and SHAP value
    ``phi[i, j]`` of column ``j`` for row ``i``, the contribution of ``v`` to
    row ``i`` is ``c[i, v] = sum_{j in C(v)} phi[i, j]`` and its importance is
    ``mean_i |c[i, v]|``. Its direction is the sign of the Spearman
    correlation between ``c[:, v]`` and the values of its first column,
    ``"mixed"`` when ``|rho| < 0.1`` or the correlation is undefined, and
    ``"by_category"`` for a variable named in ``categorical`` (an unordered
    categorical has no "higher values").

    Explainers (SHAP values of the positive class):

    - ``"tree"``: TreeSHAP (tree-path-dependent, log-odds), e.g. a LightGBM
      classifier (LightGBM's own ``pred_contrib``; see :func:`shap_values`);
    - ``"linear"``: ``shap.LinearExplainer`` with an independent masker on
      ``n_background`` background rows (log-odds), e.g. a logistic regression
      (the tree explainer needs no background);
    - ``"kernel"``: model-agnostic ``shap.KernelExplainer`` on
      ``estimator.predict_proba(X)[:, 1]`` with ``n_background`` background rows
      (probability scale). Its cost grows with ``max_rows * n_background *
      kernel_nsamples``; prefer e.g. ``max_rows=200, n_background=50``.

    Parameters
    ----------
    estimator : object
        The fitted final estimator (not the preprocessing pipeline).
    X_transformed : array-like, DataFrame or sparse matrix of shape (n, m)
        The estimator's input (preprocessed features).
    feature_names : sequence of str
        Name of each of the ``m`` columns.
    feature_to_variable : Mapping[str, str]
        Clinical variable of each column; a column not in the mapping is its
        own variable.
    kind : {"tree", "linear", "kernel"}
        Explainer to use.
    n_background : int, default=100
        Background rows (for ``"linear"`` and ``"kernel"``), sampled with the seed.
    max_rows : int, default=500
        Rows explained, sampled without replacement with the seed.
    random_state : int or None, default=0
        Seed of the row samples (and of the kernel explainer).
    kernel_nsamples : int, optional
        Coalitions evaluated per row by the kernel explainer; default
        ``2 * m + 256``.
    background : array-like of shape (k, m), optional
        Rows to draw the background sample from (e.g. transformed training
        rows); default ``X_transformed``.
    tree_method : {"auto", "native", "tables", "shap"}, default="auto"
        TreeSHAP implementation (see :func:`shap_values`).
    categorical : collection of str, default=()
        Unordered categorical variables (direction ``"by_category"``).

    Returns
    -------
    ShapImportance
        Variables sorted by decreasing ``mean_abs_shap``.

    Raises
    ------
    DataError
        On an unknown ``kind``, a ``feature_names`` of the wrong length, an
        invalid row count, or when shap fails on the estimator.
    """
    values = shap_values(
        estimator,
        X_transformed,
        feature_names=feature_names,
        kind=kind,
        n_background=n_background,
        max_rows=max_rows,
        random_state=random_state,
        kernel_nsamples=kernel_nsamples,
        background=background,
        tree_method=tree_method,
    )
    return importance_from_values(
        values, feature_to_variable=feature_to_variable, categorical=categorical
    )
