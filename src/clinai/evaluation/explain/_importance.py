"""Per-variable contributions and SHAP importance: one-hot columns summed to clinical variables."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np

from clinai.evaluation._docstrings import fill_doc
from clinai.evaluation.explain._results import ShapImportance, VariableImportance
from clinai.evaluation.explain._shap import (
    DIRECTION_BY_CATEGORY,
    ExplainerKind,
    ShapValues,
    TreeMethod,
    _direction,
    shap_values,
)

__all__ = ["importance_from_values", "shap_importance", "variable_contributions"]


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


@fill_doc
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
    {estimator}
    {X_transformed}
    {feature_names}
    feature_to_variable : Mapping[str, str]
        Clinical variable of each column; a column not in the mapping is its
        own variable.
    {kind}
    {n_background}
    max_rows : int, default=500
        Rows explained, sampled without replacement with the seed.
    {random_state_shap}
    kernel_nsamples : int, optional
        Coalitions evaluated per row by the kernel explainer; default
        ``2 * m + 256``.
    {background}
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
