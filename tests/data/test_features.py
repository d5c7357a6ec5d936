from __future__ import annotations

import re

import pandas as pd
import pytest

from clinai.data import _features, infer_feature_types
from clinai.exceptions import DataError


def test_numeric_and_categorical_keep_column_order() -> None:
    X = pd.DataFrame(
        {
            "age": [70, 55],
            "sex": ["F", "M"],
            "bmi": [25.1, None],
            "cpr": [True, False],
            "stage": pd.Categorical(["I", "II"]),
            "site": pd.array(["a", "b"], dtype="string"),
            "count": pd.array([1, None], dtype="Int64"),
        }
    )
    assert infer_feature_types(X) == (["age", "bmi", "count"], ["sex", "cpr", "stage", "site"])


def test_datetime_feature_is_refused() -> None:
    X = pd.DataFrame({"admitted": pd.to_datetime(["2024-01-01", "2024-01-02"])})
    message = _features.UNSUPPORTED_TYPE.format(column="admitted", dtype="datetime64[ns]")
    with pytest.raises(DataError, match=re.escape(message)):
        infer_feature_types(X)
