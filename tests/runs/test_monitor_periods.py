"""Periods, duplicates and subgroup cells of ``clinai monitor`` (no MLflow; synthetic rows)."""

from __future__ import annotations

import numpy as np
import pytest

from clinai.evaluation import auroc_score, oe_ratio
from clinai.runs._monitor_inputs import _duplicates, _period_codes
from clinai.runs._monitor_periods import _period_slices, distinct_count, subgroups


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


def test_batches_split_by_period_and_skip_dropped_rows() -> None:
    assert _period_slices(np.array([3, 3, 3])) == [(3, None)]
    assert _period_slices(np.array([-1, -1])) == []
    found = _period_slices(np.array([1, 0, -1, 1]))
    assert [(k, rows.tolist()) for k, rows in found] == [(0, [1]), (1, [0, 3])]


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
