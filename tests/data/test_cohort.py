from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from clinai.data import _cohort, apply_exclusions
from clinai.exceptions import DataError


@pytest.fixture
def df() -> pd.DataFrame:
    return pd.DataFrame(
        {"age": [15, 40, 70, 80, 16, 90], "consent": [True, True, False, True, False, True]},
        index=[10, 11, 12, 13, 14, 15],
    )


def test_steps_in_order_count_only_remaining_rows(df: pd.DataFrame) -> None:
    cohort, flow = apply_exclusions(
        df,
        [
            ("age < 18", df["age"] < 18),
            ("no consent", ~df["consent"]),  # row 14 was already excluded by age
            ("age >= 85", df["age"] >= 85),
        ],
    )
    assert flow == [
        {"step": "source", "excluded": 0, "remaining": 6},
        {"step": "age < 18", "excluded": 2, "remaining": 4},
        {"step": "no consent", "excluded": 1, "remaining": 3},
        {"step": "age >= 85", "excluded": 1, "remaining": 2},
    ]
    assert list(cohort.index) == [11, 13]
    assert sum(step["excluded"] for step in flow) == len(df) - len(cohort)


def test_no_steps_keeps_everything(df: pd.DataFrame) -> None:
    cohort, flow = apply_exclusions(df, [])
    pd.testing.assert_frame_equal(cohort, df)
    assert flow == [{"step": "source", "excluded": 0, "remaining": 6}]


def test_cohort_is_a_copy(df: pd.DataFrame) -> None:
    cohort, _ = apply_exclusions(df, [("none", df["age"] < 0)])
    cohort.loc[:, "age"] = 0
    assert df["age"].iloc[0] == 15


def test_mask_may_be_a_boolean_array(df: pd.DataFrame) -> None:
    cohort, flow = apply_exclusions(df, [("first", np.array([True] + [False] * 5))])
    assert len(cohort) == 5
    assert flow[1]["excluded"] == 1


def test_shuffled_series_is_aligned_by_index(df: pd.DataFrame) -> None:
    mask = (df["age"] < 18).sample(frac=1.0, random_state=0)
    cohort, _ = apply_exclusions(df, [("age < 18", mask)])
    assert list(cohort.index) == [11, 12, 13, 15]


def test_non_boolean_mask(df: pd.DataFrame) -> None:
    message = _cohort.STEP_NOT_BOOL.format(step="age", dtype="int64")
    with pytest.raises(DataError, match=re.escape(message)):
        apply_exclusions(df, [("age", df["age"])])


def test_mask_with_missing_values(df: pd.DataFrame) -> None:
    mask = (df["age"] < 18).astype(object)
    mask.iloc[0] = None
    message = _cohort.STEP_MISSING_VALUES.format(step="nan", count=1)
    with pytest.raises(DataError, match=re.escape(message)):
        apply_exclusions(df, [("nan", mask)])


def test_misaligned_mask(df: pd.DataFrame) -> None:
    mask = pd.Series([False] * 6)  # default RangeIndex, not df's index
    message = _cohort.STEP_MISALIGNED.format(step="x", count=6)
    with pytest.raises(DataError, match=re.escape(message)):
        apply_exclusions(df, [("x", mask)])


def test_wrong_length_array(df: pd.DataFrame) -> None:
    message = _cohort.STEP_WRONG_LENGTH.format(step="x", got=2, expected=6)
    with pytest.raises(DataError, match=re.escape(message)):
        apply_exclusions(df, [("x", np.array([True, False]))])


def test_malformed_step(df: pd.DataFrame) -> None:
    message = _cohort.BAD_STEP.format(index=0, got="a tuple of length 1")
    with pytest.raises(DataError, match=re.escape(message)):
        apply_exclusions(df, [("only a description",)])  # type: ignore[list-item]
