"""Data-quality checks (pandera) and the DataQualityReport."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from clinai.data import (
    ColumnSpec,
    DataQualityReport,
    QualityCheck,
    check_cohort_quality,
    check_duplicate_ids,
    check_outcome,
    check_schema,
    check_split_overlap,
    check_time_order,
    quality_report,
)
from clinai.data._quality import (
    MANY_MISSING_MSG,
    MISSING_TEXT_NOTE,
    MISSING_WARN_SHARE,
    OVERLAP_MSG,
    PREVALENCE_MSG,
    RANGE_MSG,
    STRICT_MSG,
    TIME_ORDER_MSG,
    TYPE_MSG,
    check_features,
)
from clinai.exceptions import DataError


def _by_name(checks: list[QualityCheck]) -> dict[tuple[str, str | None], QualityCheck]:
    return {(c.name, c.column): c for c in checks}


def test_schema_types_ranges_and_completeness() -> None:
    frame = pd.DataFrame(
        {
            "heart_rate": [80.0, 400.0, np.nan, 10.0, 95.0],
            "ward": ["a", "b", "c", "d", "e"],
            "time": pd.to_datetime(["2026-01-01"] * 5),
        }
    )
    checks = _by_name(
        check_schema(
            frame,
            {
                "heart_rate": ColumnSpec("numeric", low=20, high=300, nullable=False),
                "ward": ColumnSpec("numeric"),
                "time": ColumnSpec("datetime"),
                "stay_id": ColumnSpec("string"),
                "note": ColumnSpec(required=False),
            },
        )
    )
    assert checks[("range", "heart_rate")].count == 2  # 400 and 10; the NaN is not a range error
    assert checks[("range", "heart_rate")].message == RANGE_MSG.format(count=2, low=20, high=300)
    assert checks[("not_null", "heart_rate")].count == 1
    assert checks[("type", "ward")].status == "fail"
    assert checks[("type", "ward")].message == TYPE_MSG.format(dtype="numeric", actual="object")
    assert checks[("type", "time")].status == "pass"
    assert checks[("schema", "stay_id")].status == "fail"
    assert ("type", "stay_id") not in checks
    assert checks[("schema", "note")].status == "pass"


def test_range_bounds_are_inclusive() -> None:
    frame = pd.DataFrame({"spo2": [30.0, 100.0, 100.5]})
    (_, _, rng) = check_schema(frame, {"spo2": ColumnSpec("numeric", low=30, high=100)})
    assert (rng.name, rng.count) == ("range", 1)


def test_duplicate_ids() -> None:
    frame = pd.DataFrame({"stay": ["s1", "s1", "s2", "s1"], "t": [1, 2, 1, 2]})
    single = check_duplicate_ids(frame, "stay")
    assert (single.status, single.count) == ("fail", 2)
    pair = check_duplicate_ids(frame, ["stay", "t"])
    assert (pair.status, pair.count, pair.column) == ("fail", 1, "stay, t")
    allowed = check_duplicate_ids(frame, "stay", allowed=True)
    assert (allowed.status, allowed.count) == ("pass", 2)
    assert check_duplicate_ids(frame, "nope").status == "fail"


def test_time_order_within_a_stay() -> None:
    frame = pd.DataFrame(
        {
            "stay": ["a", "b", "a", "a", "b", "b"],
            # a: 10:00, 09:00 (back), 11:00; b: 08:00, 09:00, None
            "time": [
                "2026-01-01T10:00",
                "2026-01-01T08:00",
                "2026-01-01T09:00",
                "2026-01-01T11:00",
                "2026-01-01T09:00",
                None,
            ],
        }
    )
    checks = _by_name(check_time_order(frame, time="time", group="stay"))
    order = checks[("time_order", "time")]
    assert (order.status, order.count) == ("fail", 1)
    assert order.message == TIME_ORDER_MSG.format(count=1, group="stay")
    assert checks[("not_null", "time")].count == 1
    sorted_frame = frame.dropna().sort_values(["stay", "time"])
    assert check_time_order(sorted_frame, time="time", group="stay")[0].status == "pass"


def test_split_overlap() -> None:
    check = check_split_overlap({"train": ["p1", "p2", "p2"], "test": ["p2", "p3"]}, column="pid")
    assert (check.status, check.count, check.message) == ("fail", 1, OVERLAP_MSG.format(count=1))
    assert check_split_overlap({"train": ["p1"], "test": ["p2"]}, column="pid").status == "pass"


@pytest.mark.parametrize(
    ("y", "expected"),
    [
        ([0] * 90 + [1] * 10, ("pass", "pass")),
        ([0] * 999 + [1], ("pass", "warn")),  # 0.1 % < 0.5 %
        ([1] * 70 + [0] * 30, ("pass", "warn")),  # 70 % > 60 %
    ],
)
def test_outcome_prevalence_band(y, expected) -> None:
    checks = check_outcome(y, column="died")
    assert tuple(c.status for c in checks) == expected
    assert checks[1].count == sum(y)


def test_outcome_prevalence_message() -> None:
    checks = check_outcome([1] * 7 + [0] * 3, band=(0.1, 0.5))
    assert checks[1].message == PREVALENCE_MSG.format(prevalence=0.7, low=0.1, high=0.5)


def test_outcome_missing_or_not_binary_fails() -> None:
    assert check_outcome([0, 1, None])[0].status == "fail"
    assert check_outcome([0, 1, 2])[0].status == "fail"
    assert len(check_outcome([0, 1, 2])) == 1  # no prevalence for a non-binary outcome
    assert check_outcome([1, 1, 1])[0].status == "fail"


def test_features_finite_and_missing() -> None:
    X = pd.DataFrame({"a": [1.0, np.inf, 3.0, 4.0], "b": [np.nan] * 3 + [1.0], "c": list("xyzx")})
    checks = _by_name(check_features(X, numeric=["a", "b"], categorical=["c"]))
    assert (checks[("finite", "a")].status, checks[("finite", "a")].count) == ("fail", 1)
    assert (checks[("missing", "b")].status, checks[("missing", "b")].count) == ("warn", 3)
    assert checks[("missing", "c")].status == "pass"


def test_report_status_to_dict_and_strict() -> None:
    checks = [
        QualityCheck("outcome", "pass", 0, "y", "ok"),
        QualityCheck("missing", "warn", 3, "b", "75% of values are missing"),
        QualityCheck("range", "fail", 2, "hr", "2 value(s) outside"),
    ]
    report = quality_report(checks, n_rows=10)
    assert isinstance(report, DataQualityReport)
    assert report.status == "fail"
    assert [c.name for c in report.failures] == ["range"]
    assert [c.name for c in report.warnings] == ["missing"]
    payload = report.to_dict()
    assert payload["counts"] == {"pass": 1, "warn": 1, "fail": 1}
    assert json.loads(json.dumps(payload)) == payload
    msg = STRICT_MSG.format(name="range", column="hr", message="2 value(s) outside")
    with pytest.raises(DataError, match=re.escape(msg)):
        quality_report(checks, n_rows=10, strict=True)
    assert quality_report(checks[:2], n_rows=10, strict=True).status == "warn"
    assert quality_report([], n_rows=0).status == "pass"
    with pytest.raises(AttributeError):
        report.n_rows = 3  # type: ignore[misc]  # frozen


def test_cohort_quality_holds_no_patient_values() -> None:
    rng = np.random.default_rng(0)
    n = 60
    X = pd.DataFrame({"age": rng.normal(70, 9, n).round(1), "sex": rng.choice(["F", "M"], n)})
    y = (rng.random(n) < 0.3).astype(int)
    patients = np.array([f"pseudo-{i // 2:04d}" for i in range(n)])  # two rows per patient
    train, test = np.arange(0, 40), np.arange(39, 60)  # row 39 shares patient with row 38
    report = check_cohort_quality(
        X,
        y,
        numeric=["age"],
        categorical=["sex"],
        patients=patients,
        splits={"train": train, "test": test},
        repeats_allowed=True,
    )
    checks = _by_name(list(report.checks))
    assert checks[("duplicate_ids", "patient_id")].status == "pass"
    assert checks[("duplicate_ids", "patient_id")].count == 30
    assert checks[("split_overlap", "patient_id")].count == 1
    assert report.status == "fail"
    text = json.dumps(report.to_dict())
    assert "pseudo-" not in text
    for value in X["age"].astype(str).tolist():
        assert f" {value}" not in text and f"{value}," not in text
    strict = {"numeric": ["age"], "categorical": ["sex"], "patients": patients, "strict": True}
    with pytest.raises(DataError, match=re.escape("for column 'patient_id'")):
        check_cohort_quality(X, y, splits={"train": train, "test": test}, **strict)


def _with_missing(n: int, n_missing: int, *, value: object = np.nan) -> pd.Series:
    return pd.Series([value] * n_missing + [1.0] * (n - n_missing), dtype=object)


def test_columns_46_percent_empty_warn_and_are_counted() -> None:
    """The user's dataset: two columns 46 % empty were reported as passing."""
    n = 30_330
    X = pd.DataFrame(
        {
            "bmi": _with_missing(n, 13_952).astype(float),
            "smoker": _with_missing(n, 13_952).map({1.0: "yes"}),
            "age": _with_missing(n, 0).astype(float),
        }
    )
    report = check_cohort_quality(
        X, np.tile([0, 1], n // 2), numeric=["bmi", "age"], categorical=["smoker"]
    )
    warned = {c.column: c for c in report.many_missing}
    assert set(warned) == {"bmi", "smoker"}
    assert warned["bmi"].count == 13_952
    assert warned["bmi"].message == MANY_MISSING_MSG.format(
        share=13_952 / n, count=13_952, n=n, text=""
    )
    assert warned["bmi"].message.startswith("46% of values are missing (13,952 of 30,330)")
    assert report.status == "warn"
    assert report.n_missing_cells == 2 * 13_952
    assert report.to_dict()["n_missing_cells"] == 2 * 13_952


@pytest.mark.parametrize(("n_missing", "status"), [(19, "pass"), (20, "warn"), (0, "pass")])
def test_missing_warns_from_a_fifth_of_the_column(n_missing: int, status: str) -> None:
    assert MISSING_WARN_SHARE == 0.2
    X = pd.DataFrame({"a": _with_missing(100, n_missing).astype(float)})
    (check,) = [c for c in check_features(X, numeric=["a"]) if c.name == "missing"]
    assert (check.status, check.count) == (status, n_missing)


def test_blank_and_nan_text_count_as_missing() -> None:
    """``astype(str)`` turns a missing value into "nan": it is still missing."""
    values = ["nan"] * 30 + [" "] * 10 + [None] * 5 + ["yes", "no"] * 25 + ["None"] * 5
    X = pd.DataFrame({"smoker": values})
    (check,) = [
        c for c in check_features(X, numeric=[], categorical=["smoker"]) if c.name == "missing"
    ]
    assert (check.status, check.count) == ("warn", 45)
    assert MISSING_TEXT_NOTE.format(count=40) in check.message  # "None" is a category


def test_source_checks_come_first() -> None:
    X = pd.DataFrame({"a": [1.0, 2.0]})
    source = QualityCheck("fhir_lines", "warn", 2, "Patient.ndjson", "2 lines (not valid JSON)")
    report = check_cohort_quality(X, [0, 1], numeric=["a"], source_checks=[source])
    assert report.checks[0] == source
    assert report.status == "warn"
