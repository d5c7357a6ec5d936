from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from clinai.data import (
    _checks,
    check_all_missing,
    check_binary_outcome,
    check_cohort_not_empty,
    check_columns,
    check_finite_features,
    check_no_patient_overlap,
    check_numeric_text,
)
from clinai.data._checks import missing_mask
from clinai.exceptions import DataError


def _raises(message: str):  # type: ignore[no-untyped-def]
    return pytest.raises(DataError, match=f"^{re.escape(message)}$")


# check_columns ---------------------------------------------------------------------------


def test_columns_present() -> None:
    check_columns(pd.DataFrame({"age": [1], "sex": ["F"]}), ["age", "sex"], where="the data")


def test_missing_column_message() -> None:
    df = pd.DataFrame({"sex": ["F"], "died": [0]})
    expected = (
        "column 'age' not found in the data: available columns are sex, died; "
        "check the pipeline or data"
    )
    with _raises(expected):
        check_columns(df, ["age", "sex"], where="the data")


def test_several_missing_columns() -> None:
    with pytest.raises(DataError, match=re.escape("columns 'age', 'bmi' not found in")):
        check_columns(pd.DataFrame({"sex": ["F"]}), ["age", "bmi"], where="the data")


def test_long_column_list_is_truncated() -> None:
    df = pd.DataFrame({f"c{i}": [0] for i in range(50)})
    with pytest.raises(DataError, match=re.escape("c19 ... (30 more); check")):
        check_columns(df, ["age"], where="the data")


# check_binary_outcome -------------------------------------------------------------------


@pytest.mark.parametrize(
    "y",
    [[0, 1, 0], [True, False, True], np.array([0.0, 1.0]), pd.Series([1, 0], dtype="Int64")],
)
def test_binary_outcomes_pass(y: object) -> None:
    check_binary_outcome(y, column="died")  # type: ignore[arg-type]


def test_outcome_not_binary() -> None:
    expected = _checks.OUTCOME_NOT_BINARY.format(
        label="outcome column 'died'", values="'No', 'Yes'"
    )
    with _raises(expected):
        check_binary_outcome(pd.Series(["Yes", "No", "No"]), column="died")


def test_outcome_with_other_numbers() -> None:
    with pytest.raises(DataError, match=re.escape("found 2, 3: recode it")):
        check_binary_outcome([0, 1, 2, 3], column="los")


def test_outcome_missing_values() -> None:
    expected = _checks.OUTCOME_MISSING.format(label="outcome column 'died'", count=2)
    with _raises(expected):
        check_binary_outcome(pd.Series([0, 1, None, np.nan]), column="died")


def test_an_outcome_read_from_a_users_file_is_fixed_in_the_file() -> None:
    where = "predictions file 'x.csv'"
    expected = _checks.OUTCOME_NOT_BINARY_IN_FILE.format(
        label="outcome column 'died'", where=where, values="'Ja', 'Nej'"
    )
    with _raises(expected):
        check_binary_outcome(pd.Series(["Ja", "Nej"]), column="died", in_file=where)
    expected = _checks.OUTCOME_MISSING_IN_FILE.format(
        label="outcome column 'died'", where=where, count=1
    )
    with _raises(expected):
        check_binary_outcome(pd.Series([0, 1, None]), column="died", in_file=where)
    assert "pipeline" not in _checks.OUTCOME_NOT_BINARY_IN_FILE + _checks.OUTCOME_MISSING_IN_FILE


def test_outcome_one_class() -> None:
    expected = _checks.OUTCOME_ONE_CLASS.format(label="outcome column 'died'", value=0, n=3)
    with _raises(expected):
        check_binary_outcome([0, 0, 0], column="died")


def test_outcome_empty() -> None:
    with _raises(_checks.OUTCOME_EMPTY.format(label="outcome column 'died'")):
        check_binary_outcome([], column="died")


def test_outcome_label_phrase_is_used_as_given() -> None:
    with pytest.raises(DataError, match=r"^outcome in the test split has only one class"):
        check_binary_outcome([1, 1], column="outcome in the test split")


# check_cohort_not_empty -----------------------------------------------------------------


def test_cohort_not_empty() -> None:
    check_cohort_not_empty(pd.DataFrame({"a": [1]}))
    with _raises(_checks.COHORT_EMPTY.format(where="pipeline 'icu'")):
        check_cohort_not_empty(pd.DataFrame({"a": []}), where="pipeline 'icu'")
    with pytest.raises(DataError, match="no patients left in the cohort"):
        check_cohort_not_empty(pd.DataFrame())


# check_no_patient_overlap ---------------------------------------------------------------


def test_patient_overlap_message_never_names_the_patient() -> None:
    check_no_patient_overlap(pd.Series(["a", "a", "b"]), pd.Series(["c"]))
    with _raises(_checks.PATIENT_OVERLAP.format(count=1)) as info:
        check_no_patient_overlap(["secret-id-1", "b"], ["secret-id-1", "c"])
    assert "secret-id-1" not in str(info.value)


# check_finite_features / check_all_missing ----------------------------------------------


def test_finite_features() -> None:
    check_finite_features(pd.DataFrame({"age": [70.0, np.nan], "sex": ["F", "M"]}))
    X = pd.DataFrame({"age": [70.0, 1.0], "ratio": [np.inf, 1.0], "neg": [-np.inf, 0.0]})
    with _raises(_checks.NOT_FINITE.format(columns="'ratio', 'neg'")):
        check_finite_features(X)


def test_finite_features_with_nullable_floats() -> None:
    check_finite_features(pd.DataFrame({"x": pd.array([1.0, None], dtype="Float64")}))


def test_all_missing() -> None:
    check_all_missing(pd.DataFrame({"age": [70.0, np.nan]}))
    X = pd.DataFrame({"age": [70.0, 60.0], "lactate": [np.nan, np.nan], "note": [None, None]})
    with _raises(_checks.ALL_MISSING.format(columns="'lactate', 'note'")):
        check_all_missing(X)


def test_messages_are_one_line() -> None:
    for name in dir(_checks):
        value = getattr(_checks, name)
        if name.isupper() and isinstance(value, str):
            assert "\n" not in value, name


# check_numeric_text ----------------------------------------------------------------------


def _ages(n: int = 300) -> pd.Series:
    return pd.Series([str(18 + i % 70) for i in range(n)], dtype=object)


def test_text_in_a_numeric_column_names_the_column_rows_and_count() -> None:
    X = pd.DataFrame({"age": _ages(), "sex": ["F", "M"] * 150})
    X.loc[41, "age"] = "abc"
    expected = _checks.NUMERIC_TEXT.format(
        findings="column 'age': 1 row holds text in a numeric column (data row 42)"
    )
    with _raises(expected) as info:
        check_numeric_text(X)
    assert "abc" not in str(info.value)  # counts and rows, never the value
    assert "declare the column categorical in the pipeline" in str(info.value)


def test_many_text_rows_are_counted_and_the_first_listed() -> None:
    X = pd.DataFrame({"lactate": _ages(), "crp": _ages()})
    X.loc[[3, 9, 10, 20, 30, 40, 50], "lactate"] = "<0.5"
    X.loc[7, "crp"] = "high"
    with pytest.raises(DataError) as info:
        check_numeric_text(X)
    assert str(info.value).startswith(
        "column 'lactate': 7 rows hold text in a numeric column "
        "(data rows 4, 10, 11, 21, 31 and 2 more); "
        "column 'crp': 1 row holds text in a numeric column (data row 8): fix the value(s)"
    )


def test_rows_of_the_cohort_when_the_index_is_not_the_sources() -> None:
    X = pd.DataFrame({"age": _ages(20).to_numpy()}, index=[f"s{i}" for i in range(20)])
    X.iloc[4, 0] = "old"
    with pytest.raises(DataError, match=re.escape("(cohort row 5)")):
        check_numeric_text(X)


def test_categorical_columns_with_a_few_numeric_codes_pass() -> None:
    wards = ["medical", "surgical", "icu", "12", "medical", "14", "surgical", "icu", "3", "7"]
    X = pd.DataFrame({"ward": wards * 30, "all_codes": ["1", "2", "3"] * 100})
    check_numeric_text(X)  # 60 % numbers: a categorical column; all numbers: no text at all


def test_a_column_declared_categorical_or_of_dtype_category_passes() -> None:
    X = pd.DataFrame({"ward": _ages(), "asa": _ages()})
    X.loc[0, ["ward", "asa"]] = "ICU"
    X["asa"] = X["asa"].astype("category")
    check_numeric_text(X, categorical=["ward"])
    with pytest.raises(DataError, match="column 'ward'"):
        check_numeric_text(X)


def test_blanks_and_nan_text_are_missing_not_text() -> None:
    X = pd.DataFrame({"age": _ages()})
    X.loc[[1, 2, 3], "age"] = [" ", "nan", None]
    check_numeric_text(X)
    X["age"] = X["age"].astype("string")
    X.loc[5, "age"] = "n.a."
    with pytest.raises(DataError, match=re.escape("1 row holds text in a numeric column")):
        check_numeric_text(X)
    assert missing_mask(X["age"]).sum() == 3
