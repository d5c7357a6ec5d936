from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from clinai.data import (
    _splits,
    parse_times,
    split_by_site,
    split_temporal,
    split_train_test,
    time_range,
)
from clinai.exceptions import DataError


@pytest.fixture
def y() -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.random(1000) < 0.2).astype(int)


def test_stratified_keeps_prevalence(y: np.ndarray) -> None:
    train, test = split_train_test(y, test_size=0.3, random_state=1)
    assert len(test) == 300 and len(train) == 700
    assert abs(y[train].mean() - y.mean()) < 0.005
    assert abs(y[test].mean() - y.mean()) < 0.005


def test_indices_are_a_sorted_partition(y: np.ndarray) -> None:
    train, test = split_train_test(pd.Series(y, index=np.arange(1000) + 500))
    assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(1000))
    assert train.dtype.kind == "i"


def test_same_seed_same_split_different_seed_different_split(y: np.ndarray) -> None:
    a = split_train_test(y, random_state=7)
    b = split_train_test(y, random_state=7)
    c = split_train_test(y, random_state=8)
    assert np.array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def _patients(n_patients: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    rows = rng.integers(1, 6, size=n_patients)  # 1 to 5 rows per patient
    groups = np.repeat([f"p{i:04d}" for i in range(n_patients)], rows)
    risk = np.repeat(rng.random(n_patients) < 0.25, rows)
    y = (risk & (rng.random(len(groups)) < 0.7)).astype(int)
    return y, groups


def test_grouped_keeps_each_patient_on_one_side() -> None:
    y, groups = _patients()
    train, test = split_train_test(y, groups=groups, method="grouped", test_size=0.3)
    assert not set(groups[train]) & set(groups[test])
    assert len(train) + len(test) == len(y)
    n_test_patients = len(set(groups[test]))
    assert n_test_patients == 90  # 30% of 300 patients


def test_grouped_stratifies_on_patients_with_an_event() -> None:
    y, groups = _patients()
    frame = pd.DataFrame({"y": y, "g": groups})
    has_event = frame.groupby("g")["y"].max()
    _, test = split_train_test(y, groups=pd.Series(groups), method="grouped")
    test_patients = has_event.loc[sorted(set(groups[test]))]
    assert abs(test_patients.mean() - has_event.mean()) < 0.02


def test_grouped_is_deterministic() -> None:
    y, groups = _patients()
    a = split_train_test(y, groups=groups, method="grouped", random_state=3)
    b = split_train_test(y, groups=groups, method="grouped", random_state=3)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_grouped_without_groups_names_patient_id(y: np.ndarray) -> None:
    with pytest.raises(DataError, match=f"^{re.escape(_splits.GROUPS_REQUIRED)}$"):
        split_train_test(y, method="grouped")
    assert "data.patient_id" in _splits.GROUPS_REQUIRED


def test_grouped_with_missing_patient_ids() -> None:
    message = _splits.GROUPS_MISSING.format(count=1)
    with pytest.raises(DataError, match=re.escape(message)):
        split_train_test([0, 1, 0, 1], groups=["a", None, "b", "c"], method="grouped")


def test_grouped_length_mismatch() -> None:
    message = _splits.GROUPS_LENGTH.format(got=2, expected=4)
    with pytest.raises(DataError, match=re.escape(message)):
        split_train_test([0, 1, 0, 1], groups=["a", "b"], method="grouped")


def test_unknown_method_and_bad_test_size(y: np.ndarray) -> None:
    with pytest.raises(DataError, match=re.escape(_splits.UNKNOWN_METHOD.format(method="time"))):
        split_train_test(y, method="time")  # type: ignore[arg-type]
    with pytest.raises(DataError, match=re.escape(_splits.BAD_TEST_SIZE.format(value=1.5))):
        split_train_test(y, test_size=1.5)


def test_too_few_events_to_stratify() -> None:
    message = "cannot draw a stratified row split with test_size=0.3"
    with pytest.raises(DataError, match=re.escape(message)):
        split_train_test([0] * 20 + [1])


def test_missing_outcome() -> None:
    with pytest.raises(DataError, match=re.escape(_splits.OUTCOME_MISSING.format(count=1))):
        split_train_test([0, 1, np.nan, 1, 0])


# --- temporal split --------------------------------------------------------------------


def test_temporal_tests_on_the_latest_fraction() -> None:
    rng = np.random.default_rng(0)
    times = pd.Series(rng.permutation(100).astype(float), name="admitted")
    train, test = split_temporal(times, test_size=0.25)
    assert len(test) == 25 and len(train) == 75
    assert times.iloc[train].max() < times.iloc[test].min()
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(100))
    assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)


def test_temporal_size_rounds_up_like_scikit_learn() -> None:
    # ceil(0.3 * 10) = 3 rows in the test split, as train_test_split does.
    _, test = split_temporal(np.arange(10), test_size=0.3)
    assert test.tolist() == [7, 8, 9]


def test_temporal_ties_at_the_cut_go_to_the_test_side() -> None:
    times = [1, 2, 3, 3, 3, 4]
    train, test = split_temporal(times, test_size=0.25)  # 2 rows wanted; the cut is 3
    assert train.tolist() == [0, 1]
    assert test.tolist() == [2, 3, 4, 5]


def test_temporal_parses_iso_text_and_datetimes() -> None:
    text = pd.Series(["2021-03-01", "2020-01-01 08:00", "2020-06-30T23:59", "2021-01-01"])
    as_dates = pd.Series(pd.to_datetime(text, format="ISO8601"))
    for times in (text, as_dates):
        train, test = split_temporal(times, test_size=0.5)
        assert train.tolist() == [1, 2] and test.tolist() == [0, 3]


def test_temporal_time_zones_are_put_on_one_clock() -> None:
    times = ["2020-01-01T12:00+00:00", "2020-01-01T12:30+02:00"]  # the second is earlier
    train, test = split_temporal(times, test_size=0.5)
    assert train.tolist() == [1] and test.tolist() == [0]


def test_temporal_is_independent_of_the_index_and_has_no_randomness() -> None:
    times = pd.Series([4.0, 1.0, 3.0, 2.0], index=[10, 11, 12, 13])
    a = split_temporal(times, test_size=0.5)
    b = split_temporal(times.to_numpy(), test_size=0.5)
    assert a[1].tolist() == b[1].tolist() == [0, 2]


def test_temporal_grouped_keeps_patients_whole_by_first_admission() -> None:
    times = [1, 9, 2, 3, 8, 7]
    groups = ["a", "a", "b", "c", "d", "d"]  # first admissions: a=1, b=2, c=3, d=7
    train, test = split_temporal(times, test_size=0.25, groups=groups)
    assert train.tolist() == [0, 1, 2, 3]  # a keeps its later admission
    assert test.tolist() == [4, 5]


def test_temporal_unparsable_text_names_the_column_without_values() -> None:
    times = pd.Series(["2020-01-01", "31/12/2020", "soon"], name="admitted")
    message = _splits.TIME_UNPARSABLE.format(column="admitted", count=2)
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        split_temporal(times)
    assert "31/12/2020" not in message


def test_temporal_wrong_type_and_missing_values() -> None:
    flags = pd.Series([True, False, True], name="admitted")
    message = _splits.TIME_NOT_TIMES.format(column="admitted", dtype="bool")
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        split_temporal(flags)
    with pytest.raises(
        DataError, match=re.escape(_splits.TIME_MISSING.format(column="t", count=1))
    ):
        split_temporal([1.0, np.nan, 3.0], column="t")
    with pytest.raises(
        DataError, match=re.escape(_splits.TIME_UNPARSABLE.format(column="t", count=1))
    ):
        split_temporal([1.0, np.inf, 3.0], column="t")


def test_temporal_with_every_time_at_the_cut() -> None:
    message = _splits.TIME_NO_TRAIN.format(column="t", unit="row", cut="2020-01-01")
    with pytest.raises(DataError, match=re.escape(message)):
        split_temporal(["2020-01-01"] * 4, column="t")


def test_temporal_bad_test_size() -> None:
    with pytest.raises(DataError, match=re.escape(_splits.BAD_TEST_SIZE.format(value=0))):
        split_temporal([1, 2, 3], test_size=0)


def test_time_range_gives_dates_only() -> None:
    times = pd.Series(["2020-03-01 10:15", "2019-12-31 23:59", "2020-01-15"])
    assert time_range(times) == {"start": "2019-12-31", "end": "2020-03-01"}
    assert time_range([3.0, 1.0, 2.5]) == {"start": 1, "end": 3}
    assert parse_times([2, 1]).dtype == "float64"


# --- split by site ---------------------------------------------------------------------


def test_site_split_holds_out_the_named_sites() -> None:
    sites = pd.Series(["A", "B", "A", "C", "B", "A"], name="hospital")
    train, test = split_by_site(sites, test_sites=["B", "C"])
    assert train.tolist() == [0, 2, 5]
    assert test.tolist() == [1, 3, 4]


def test_site_names_are_compared_as_text() -> None:
    _, test = split_by_site(np.array([1, 2, 3, 1]), test_sites=[1])
    assert test.tolist() == [0, 3]
    assert split_by_site(["1", "2"], test_sites=[2])[1].tolist() == [1]


def test_unknown_site_lists_the_sites_there_are() -> None:
    sites = pd.Series(["Aarhus", "Odense", "Aarhus"], name="hospital")
    message = _splits.UNKNOWN_SITES.format(
        unknown="'Aalborg'", column="hospital", available="Aarhus, Odense"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        split_by_site(sites, test_sites=["Odense", "Aalborg"])


def test_site_split_errors() -> None:
    with pytest.raises(DataError, match=re.escape(_splits.NO_TRAIN_SITE.format(column="s"))):
        split_by_site(["A", "B"], test_sites=["A", "B"], column="s")
    with pytest.raises(DataError, match=re.escape(_splits.SITES_EMPTY.format(column="s"))):
        split_by_site(["A", "B"], test_sites=[], column="s")
    message = _splits.SITE_MISSING.format(column="s", count=1)
    with pytest.raises(DataError, match=re.escape(message)):
        split_by_site(["A", None, "B"], test_sites=["A"], column="s")
