"""Preprocessing inside every model pipeline: imputation, one-hot encoding, scaling.

The preprocessing is the first step of the fitted pipeline, so it is learnt on
the training folds only (no leakage into cross-validation scores) and travels
with the model into MLflow.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from clinai._utils._docstrings import doc_filler
from clinai.exceptions import ModelError

__all__ = [
    "COLUMNS_EMPTY_MSG",
    "COLUMNS_OVERLAP_MSG",
    "COLUMNS_TYPE_MSG",
    "check_columns",
    "make_preprocessor",
]

logger = logging.getLogger(__name__)

COLUMNS_TYPE_MSG = "{which} must be a list of column names, not a single string; got {value!r}"
COLUMNS_EMPTY_MSG = (
    "numeric and categorical are both empty: name at least one feature column for the model"
)
COLUMNS_OVERLAP_MSG = "columns {columns} are listed as both numeric and categorical: list each once"

#: The column lists, documented alike by :func:`check_columns` and :func:`make_preprocessor`.
_DOCS = {
    "parameters_columns": (
        "Parameters\n----------\nnumeric : sequence of str\n    Numeric columns.\n"
        "categorical : sequence of str\n    Categorical columns."
    )
}
_fill_doc = doc_filler(_DOCS, "clinai.models._preprocess._DOCS")


@_fill_doc
def check_columns(
    numeric: Sequence[str], categorical: Sequence[str], *, require_some: bool = True
) -> tuple[list[str], list[str]]:
    """Validate the feature column lists and return them as lists.

    {parameters_columns}
    require_some : bool, default=True
        Whether at least one column must be named.

    Returns
    -------
    numeric, categorical : list of str
        The same columns, as new lists.

    Raises
    ------
    ModelError
        If a list is a bare string, both are empty (with ``require_some``),
        or a column is in both.
    """
    for which, value in (("numeric", numeric), ("categorical", categorical)):
        if isinstance(value, str):
            raise ModelError(COLUMNS_TYPE_MSG.format(which=which, value=value))
    num = [str(c) for c in numeric]
    cat = [str(c) for c in categorical]
    if require_some and not num and not cat:
        raise ModelError(COLUMNS_EMPTY_MSG)
    both = sorted(set(num) & set(cat))
    if both:
        raise ModelError(COLUMNS_OVERLAP_MSG.format(columns=", ".join(both)))
    return num, cat


def _as_category_strings(X: Any) -> np.ndarray:
    """Turn every non-missing value into a string and every missing one into NaN.

    One-hot encoding needs a single type per column; codes that arrive as
    ``int``, ``bool`` or a mix of types become strings (``1`` -> ``"1"``).
    """
    frame = pd.DataFrame(X)
    out = frame.astype(object).where(frame.notna(), np.nan)
    values = out.to_numpy(dtype=object)
    mask = ~pd.isna(values)
    values[mask] = [str(v) for v in values[mask]]
    return values


@_fill_doc
def make_preprocessor(numeric: Sequence[str], categorical: Sequence[str]) -> ColumnTransformer:
    """Build the (unfitted) preprocessing step of a model pipeline.

    Numeric columns: median imputation, plus a missing indicator for each
    column that has missing values in the training data, then standard
    scaling. Categorical columns: values as strings, most-frequent imputation,
    then one-hot encoding that ignores categories unseen in training (they
    become all zeros). No column is dropped, not even for binary variables:
    with ``drop`` an unseen category would be encoded as the dropped one, and
    every model here is penalised, so the redundant column does no harm.

    {parameters_columns}

    Returns
    -------
    sklearn.compose.ColumnTransformer
        Outputs a dense float array; ``get_feature_names_out`` gives the
        transformed column names (``age``, ``missingindicator_age``, ``sex_F``).
    """
    num, cat = check_columns(numeric, categorical, require_some=False)
    transformers: list[tuple[str, Pipeline, list[str]]] = []
    if num:
        num_pipe = Pipeline(
            [
                ("impute", SimpleImputer(strategy="median", add_indicator=True)),
                ("scale", StandardScaler()),
            ]
        )
        transformers.append(("num", num_pipe, num))
    if cat:
        cat_pipe = Pipeline(
            [
                (
                    "as_str",
                    FunctionTransformer(
                        _as_category_strings, feature_names_out="one-to-one", validate=False
                    ),
                ),
                ("impute", SimpleImputer(strategy="most_frequent", missing_values=np.nan)),
                (
                    "onehot",
                    OneHotEncoder(
                        handle_unknown="ignore",
                        sparse_output=False,
                        dtype=np.float64,
                    ),
                ),
            ]
        )
        transformers.append(("cat", cat_pipe, cat))
    return ColumnTransformer(
        transformers,
        remainder="drop",
        sparse_threshold=0.0,
        verbose_feature_names_out=False,
    )
