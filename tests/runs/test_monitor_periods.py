"""Periods, duplicates and subgroup cells of ``clinai monitor`` (no MLflow; synthetic rows)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clinai.evaluation import auroc_score, oe_ratio
from clinai.runs._monitor_inputs import _duplicates, _period_codes, _unique_inverse
from clinai.runs._monitor_periods import distinct_count, subgroups


def _us(*stamps: str) -> np.ndarray:
    return np.array(stamps, dtype="datetime64[us]").astype(np.int64)


def test_iso_weeks_start_monday_and_months_are_calendar_months() -> None:
    # 2024-12-30 is the Monday of ISO week 2025-W01; 2025-01-05 its Sunday.
    times = _us("2024-12-30T00:00", "2025-01-05T23:59", "2025-01-06T00:00", "2024-12-29T12:00")
    codes, periods = _period_codes(times, "week")
    assert [p.label for p in periods] == ["2024-W52", "2025-W01", "2025-W02"]
    assert codes.tolist() == [1, 1, 2, 0]
    assert (periods[1].start, periods[1].end) == ("2024-12-30", "2025-01-05")
    codes, periods = _period_codes(_us("2024-02-29T23:00", "2024-03-01T00:00"), "month")
    assert [(p.label, p.start, p.end) for p in periods] == [
        ("2024-02", "2024-02-01", "2024-02-29"),
        ("2024-03", "2024-03-01", "2024-03-31"),
    ]


def test_duplicates_keep_the_first_and_never_drop_rows_without_a_patient() -> None:
    patient = np.array([0, 1, 0, -1, -1])
    times = _us("2025-01-01", "2025-01-01", "2025-01-01", "2025-01-02", "2025-01-02")
    assert _duplicates(patient, times).tolist() == [False, False, True, False, False]


def test_duplicates_equal_a_sort_of_every_row_by_patient_and_time() -> None:
    # only rows sharing a time are sorted now; the marks are those of the full lexsort
    rng = np.random.default_rng(3)
    for _ in range(50):
        n = int(rng.integers(1, 200))
        patient = rng.integers(-1, int(rng.integers(1, 15)), n)
        times = rng.integers(0, int(rng.integers(1, 25)), n)
        order = np.lexsort((times, patient))
        again = (patient[order][1:] == patient[order][:-1]) & (
            times[order][1:] == times[order][:-1]
        )
        expected = np.zeros(n, dtype=bool)
        expected[order[1:][again]] = True
        assert _duplicates(patient, times).tolist() == (expected & (patient >= 0)).tolist()


def test_period_codes_equal_numpy_unique_and_a_far_time_falls_back() -> None:
    times = _us("2025-03-02", "2025-01-09", "2025-03-31", "2025-02-01", "1970-01-01")
    codes, periods = _period_codes(times, "month")
    assert codes.tolist() == [3, 1, 3, 2, 0]
    assert [p.label for p in periods] == ["1970-01", "2025-01", "2025-02", "2025-03"]
    values = np.array([5, 3, 5, 900, 3])
    for found, expected in zip(
        _unique_inverse(values), np.unique(values, return_inverse=True), strict=True
    ):
        assert found.tolist() == expected.tolist()
    wide = np.array([0, 1 << 40, 0])
    assert _unique_inverse(wide)[1].tolist() == [0, 1, 0]


def test_distinct_count_ignores_rows_without_a_patient() -> None:
    assert distinct_count(np.array([4, 0, 4, -1, 2])) == 3
    assert distinct_count(np.array([-1, -1])) == 0


def test_subgroup_cells_equal_direct_calls_and_small_cells_are_suppressed() -> None:
    rng = np.random.default_rng(0)
    n = 400
    p = rng.uniform(0.05, 0.6, n)
    y = rng.binomial(1, p).astype(float)
    sex = np.where(rng.random(n) < 0.5, "female", "male").astype(object)
    sex[:3] = "other"  # three rows: suppressed, and the smallest other group's counts hidden
    out = subgroups(y, p, np.arange(n), {"sex": sex})["sex"]
    by_group = {row["group"]: row for row in out}
    assert by_group["other"] == {
        "group": "other",
        "n": None,
        "events": None,
        "suppressed": True,
        "auroc": None,
        "oe_ratio": None,
    }
    hidden = [g for g in ("female", "male") if by_group[g]["n"] is None]
    assert len(hidden) == 1  # the complementary suppression of subgroup_metrics
    for group in ("female", "male"):
        members = sex == group
        row = by_group[group]
        assert row["auroc"]["estimate"] == pytest.approx(auroc_score(y[members], p[members]))
        assert row["oe_ratio"]["estimate"] == pytest.approx(oe_ratio(y[members], p[members]))


@pytest.mark.parametrize(
    "labels",
    [
        ["female", "male", None, "missing"],  # a real "missing" level merges with the gaps
        ["80+", "18-64", None, "65-79"],
        [1, 2, None, 3],  # not text: labelled by str()
    ],
)
def test_subgroups_of_a_categorical_equal_those_of_its_values(labels: list) -> None:
    rng = np.random.default_rng(4)
    n = 600
    p = rng.uniform(0.05, 0.6, n)
    y = rng.binomial(1, p).astype(float)
    values = np.array(labels, dtype=object)[rng.integers(0, len(labels), n)]
    values[:2] = labels[0]
    categorical = pd.Categorical(values, categories=[*[v for v in labels if v], "unused"])
    assert subgroups(y, p, np.arange(n), {"a": categorical}) == subgroups(
        y, p, np.arange(n), {"a": values}
    )
