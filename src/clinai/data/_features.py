"""Feature typing: which columns a model treats as numeric and which as categorical."""

from __future__ import annotations

import logging

import pandas as pd

from clinai.exceptions import DataError

__all__ = ["infer_feature_types"]

logger = logging.getLogger(__name__)

UNSUPPORTED_TYPE = (
    "feature column '{column}' has type {dtype}, which a model cannot use: derive a number "
    "or a category from it in the pipeline's features() (for example age or days since)"
)


def infer_feature_types(X: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Split the feature columns into numeric and categorical ones.

    Integer and float columns are numeric; bool, object, string and category
    columns are categorical. The column order of ``X`` is kept.

    Parameters
    ----------
    X : pandas.DataFrame
        The features.

    Returns
    -------
    numeric : list of str
        Names of the numeric columns.
    categorical : list of str
        Names of the categorical columns.

    Raises
    ------
    DataError
        If a column has another type (datetime, timedelta, complex, period, ...).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"age": [70, 55], "sex": ["F", "M"], "cpr": [True, False]})
    >>> infer_feature_types(X)
    (['age'], ['sex', 'cpr'])
    """
    numeric: list[str] = []
    categorical: list[str] = []
    types = pd.api.types
    for name in X.columns:
        dtype = X[name].dtype
        if (
            types.is_bool_dtype(dtype)
            or isinstance(dtype, pd.CategoricalDtype)
            or types.is_object_dtype(dtype)
            or types.is_string_dtype(dtype)
        ):
            categorical.append(name)
        elif (types.is_integer_dtype(dtype) or types.is_float_dtype(dtype)) and not (
            types.is_complex_dtype(dtype)
        ):
            numeric.append(name)
        else:
            raise DataError(UNSUPPORTED_TYPE.format(column=name, dtype=dtype))
    logger.debug("feature types: %s numeric, %s categorical", len(numeric), len(categorical))
    return numeric, categorical
