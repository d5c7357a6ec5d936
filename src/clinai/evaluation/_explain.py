"""SHAP importance per clinical variable, with one-hot columns summed back together.

A model sees encoded columns (e.g. ``sex_F`` and ``sex_M`` for the variable
``sex``); a clinician thinks in variables. SHAP values are additive, so the
contribution of a variable to one prediction is the sum of its columns' SHAP
values. The importance of a variable is the mean over the explained rows of
the absolute value of that sum.

shap is imported inside :func:`shap_importance`, so importing this module stays cheap.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from clinai.evaluation._results import ShapImportance, VariableImportance
from clinai.exceptions import DataError

__all__ = [
    "BACKGROUND_MSG",
    "DIRECTION_MIN_ABS_RHO",
    "FEATURE_NAMES_MSG",
    "KIND_MSG",
    "ROWS_MSG",
    "shap_importance",
]

ExplainerKind = Literal["tree", "linear", "kernel"]

#: A variable's direction is "mixed" when ``|Spearman rho|`` is below this value.
DIRECTION_MIN_ABS_RHO = 0.1

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


def _shap_values(
    estimator: Any,
    X_transformed: Any,
    *,
    feature_names: Sequence[str],
    kind: ExplainerKind,
    n_background: int,
    max_rows: int,
    random_state: int | None,
    kernel_nsamples: int | None,
    background: Any = None,
) -> tuple[np.ndarray, np.ndarray, str]:
    """Compute per-column SHAP values of the positive class for a sample of rows.

    Returns
    -------
    tuple
        ``(values, X_rows, method)``: SHAP values of shape (rows, columns), the
        explained rows as a dense array, and a description of the method.
    """
    if kind not in ("tree", "linear", "kernel"):
        raise DataError(KIND_MSG.format(value=kind))
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
    background_values = _take_rows(source, background_rows)
    names = [str(name) for name in feature_names]

    def model_input(values: np.ndarray) -> Any:
        if hasattr(estimator, "feature_names_in_"):
            return pd.DataFrame(values, columns=names)
        return values

    import shap

    try:
        if kind == "tree":
            explainer = shap.TreeExplainer(estimator)
            with warnings.catch_warnings():
                # shap announces the list-of-arrays layout of LightGBM binary output; handled below
                warnings.filterwarnings("ignore", message=".*LightGBM binary classifier.*")
                values = explainer.shap_values(model_input(X_rows))
            method = "shap.TreeExplainer (tree_path_dependent, log-odds)"
        elif kind == "linear":
            masker = shap.maskers.Independent(
                background_values, max_samples=background_values.shape[0]
            )
            explainer = shap.LinearExplainer(estimator, masker)
            values = explainer.shap_values(X_rows)
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
                values = explainer.shap_values(X_rows, nsamples=nsamples, l1_reg=False, silent=True)
            finally:
                np.random.set_state(state)
            method = "shap.KernelExplainer (probability)"
    except Exception as exc:
        raise DataError(
            SHAP_FAILED_MSG.format(kind=kind, estimator=type(estimator).__name__, error=exc)
        ) from exc
    shap_values = _positive_class(values).reshape(X_rows.shape[0], n_columns)
    return shap_values, X_rows, method


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
) -> ShapImportance:
    """Mean absolute SHAP value per clinical variable, one-hot columns summed back.

    For variable ``v`` with encoded columns ``C(v)`` and SHAP value
    ``phi[i, j]`` of column ``j`` for row ``i``, the contribution of ``v`` to
    row ``i`` is ``c[i, v] = sum_{j in C(v)} phi[i, j]`` and its importance is
    ``mean_i |c[i, v]|``. Its direction is the sign of the Spearman
    correlation between ``c[:, v]`` and the values of its first column
    (for a one-hot variable: membership of its first category), ``"mixed"``
    when ``|rho| < 0.1`` or the correlation is undefined.

    Explainers (SHAP values of the positive class):

    - ``"tree"``: ``shap.TreeExplainer`` (tree-path-dependent, log-odds), e.g.
      a LightGBM classifier;
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
    values, X_rows, method = _shap_values(
        estimator,
        X_transformed,
        feature_names=feature_names,
        kind=kind,
        n_background=n_background,
        max_rows=max_rows,
        random_state=random_state,
        kernel_nsamples=kernel_nsamples,
        background=background,
    )
    columns_of: dict[str, list[int]] = {}
    for j, name in enumerate(feature_names):
        variable = str(feature_to_variable.get(str(name), str(name)))
        columns_of.setdefault(variable, []).append(j)
    importances = []
    for variable, columns in columns_of.items():
        contribution = values[:, columns].sum(axis=1)
        importances.append(
            VariableImportance(
                variable=variable,
                mean_abs_shap=float(np.mean(np.abs(contribution))),
                direction=_direction(contribution, X_rows[:, columns[0]]),
            )
        )
    importances.sort(key=lambda item: -item.mean_abs_shap)
    return ShapImportance(method=method, n_rows=int(values.shape[0]), variables=tuple(importances))
